package inviter

import "github.com/qunguan/qunguan/bot"

// texts are the inviter's user-visible texts, Chinese first. Operators can
// override them under texts: in config.
var texts = bot.Catalog{
	"inviter.rules":        {ZH: "📌 「{group}」群规，入群前请先看一下：\n{rules}", EN: "📌 Rules of \"{group}\"; please read them before joining:\n{rules}"},
	"inviter.invited":      {ZH: "已邀请你加入「{group}」，请留意群聊邀请（人多时需要点开邀请卡片确认）。", EN: "You are invited to \"{group}\"; watch for the group invitation (for big groups, open the invitation card to accept)."},
	"inviter.card":         {ZH: "已向你发送「{group}」的群邀请卡片，请在聊天里点开卡片确认加入（{within}内有效）。", EN: "An invitation card for \"{group}\" is on its way; open it in the chat to join (valid for {within})."},
	"inviter.by_hand":      {ZH: "已请管理员把你拉进「{group}」，稍等一下。", EN: "An organiser has been asked to add you to \"{group}\"; it will not be long."},
	"inviter.by_hand_open": {ZH: "已经请管理员把你拉进「{group}」了，请耐心等一下，不用再发关键词。", EN: "An organiser has already been asked to add you to \"{group}\"; no need to send the keyword again."},
	"inviter.already":      {ZH: "你已经在「{group}」里了，不用再加。", EN: "You are already in \"{group}\"."},
	"inviter.card_open":    {ZH: "已经给你发过「{group}」的群邀请卡片了：请在和我的聊天里找到这张卡片，点开确认加入。找不到的话，{left}后再发一次关键词，会重新邀请你。", EN: "An invitation card for \"{group}\" is already in our chat: open it and accept to join. If you cannot find it, send the keyword again in {left} for a new invitation."},
	"inviter.pending":      {ZH: "已经给你发过「{group}」的邀请了，请查看群聊邀请；如果找不到，过一会儿再发一次关键词。", EN: "An invitation to \"{group}\" is already on its way; look for it, or send the keyword again later if you cannot find it."},
	"inviter.full":         {ZH: "抱歉，群都满了，管理员已收到通知，会尽快开新群。", EN: "Sorry, the groups are full; the organisers have been told and will open a new one soon."},
	"inviter.unavailable":  {ZH: "抱歉，暂时没有可以加入的群，管理员已收到通知。", EN: "Sorry, there is no group to join right now; the organisers have been told."},
	"inviter.busy":         {ZH: "现在申请入群的人比较多，请一小时后再发一次关键词。", EN: "Many people are asking right now; please send the keyword again in an hour."},
	"inviter.too_often":    {ZH: "一小时内最多申请 {n} 次，请稍后再试。", EN: "At most {n} requests an hour; please try again later."},
	"inviter.failed":       {ZH: "邀请你加入「{group}」没有成功，管理员会看到记录；请稍后再试。", EN: "Inviting you to \"{group}\" did not work; the organisers can see it. Please try again later."},
	"inviter.task_title":   {ZH: "把 {name}（{id}）拉进「{group}」", EN: "Add {name} ({id}) to \"{group}\""},
	"inviter.task_steps":   {ZH: "{name} 发了入群关键词，但当前平台不能自动邀请。请在手机上打开「{group}」→ 右上角 … → “+” → 选择 {name} → 完成。机器人看到对方入群后会自动关闭此待办。", EN: "{name} sent the keyword, but this platform cannot invite. On the phone open \"{group}\" → … → + → pick {name} → Done. The bot closes this task when it sees them join."},
	"inviter.alert_full":   {ZH: "【群已满】关键词“{keyword}”对应的群都已达到 {cap} 人上限，新来的人进不了群。请新建一个群并加到配置的 inviter.keywords 里。", EN: "[Groups full] Every group for keyword \"{keyword}\" has reached its cap of {cap}; newcomers cannot join. Create a group and add it under inviter.keywords."},
	"inviter.alert_none":   {ZH: "【无群可邀】关键词“{keyword}”对应的群（{groups}）都不在管理中、机器人已不在群里或已冻结，来人进不了群。请检查配置的 inviter.keywords。", EN: "[No group to invite into] None of the groups for keyword \"{keyword}\" ({groups}) is managed, still has the bot and is not frozen; newcomers cannot join. Check inviter.keywords."},
	"inviter.alert_busy":   {ZH: "【邀请限流】过去一小时已发出 {n} 个邀请（inviter.global_hourly），之后的申请请对方稍后再试。", EN: "[Invitations paused] {n} invitations went out in the last hour (inviter.global_hourly); further requests are asked to try later."},
}
