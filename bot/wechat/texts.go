package wechat

import "github.com/qunguan/qunguan/bot"

// texts are what the adapter tells operators, Chinese first. They go out
// as alerts (DM while online, webhook while not) and operator tasks.
var texts = map[string]bot.Text{
	"unsaved": {
		ZH: "群「{name}」没有保存到通讯录。网页微信每次重新登录后看不到这类群，要等有人在群里说话才会出现，期间的退群也发现不了。请在机器人的手机上打开这个群 → 右上角「…」→ 打开「保存到通讯录」。",
		EN: "The group \"{name}\" is not saved to contacts. After every new login web WeChat cannot see such a group until someone speaks in it, and misses who left meanwhile. On the bot's phone open the group → \"…\" at the top right → turn on \"Save to Contacts\".",
	},
	"missing": {
		ZH: "管理的群「{name}」这次登录后没有出现。如果机器人还在群里，多半是没有保存到通讯录：请在机器人的手机上打开这个群 → 右上角「…」→ 打开「保存到通讯录」。如果机器人已被移出或群已解散，可以不用管。",
		EN: "The managed group \"{name}\" did not appear after this login. If the bot is still in it, it is probably not saved to contacts: on the bot's phone open the group → \"…\" → turn on \"Save to Contacts\". If the bot was removed or the group dissolved, ignore this.",
	},
	"push": {
		ZH: "机器人正在重新登录：请在机器人的手机上点「登录」确认（免扫码登录，点一下即可）。",
		EN: "The bot is logging in again: tap \"Log In\" on the bot's phone to confirm (no QR code needed, one tap).",
	},
	"qr": {
		ZH: "机器人需要扫码登录：请用机器人账号的微信扫描运行 qunguan 的终端里的二维码，或数据目录里的图片 {path}。",
		EN: "The bot needs a QR login: scan the code in the terminal running qunguan, or the picture {path} in the data dir, with the bot account's WeChat.",
	},
	"refused": {
		ZH: "微信拒绝了这个账号的网页登录（1203）。请在配置里把 wechat.mode 设为 desktop 再重启；账号需要完成实名认证，且不能是新注册的。",
		EN: "WeChat refuses web logins for this account (1203). Set wechat.mode to desktop in the config and restart; the account must be real-name verified and not newly registered.",
	},
	"group.title": {
		ZH: "请确认群「{name}」是哪一个",
		EN: "Which group is \"{name}\"?",
	},
	"group.steps": {
		ZH: "这次登录后有 {n} 个群与以前记录的群（{candidates}）同样相像，机器人不猜，暂时把它们当作新群记录（{provisional}）。\n请在机器人的手机上把每个群改名，在群名后面加上它原来的编号，例如「{name} #{example}」；机器人看到改名就会接上原来的记录。请保留这个编号，或者给这几个群起不同的名字：否则下次重新登录时机器人还是分不清。\n原来的群：\n{known}",
		EN: "After this login {n} groups look equally like groups recorded before ({candidates}); the bot does not guess and records them as new groups for now ({provisional}).\nOn the bot's phone rename each group, adding its old number to the name, e.g. \"{name} #{example}\"; the bot then joins it to its old record. Keep the number, or give the groups different names: otherwise the bot cannot tell them apart again after the next login.\nThe old groups:\n{known}",
	},
	"friend.title": {
		ZH: "有好友的备注重复：「{remark}」",
		EN: "Friends share the remark \"{remark}\"",
	},
	"friend.steps": {
		ZH: "{n} 位好友的备注都是「{remark}」（昵称：{nicks}）。运营者靠备注识别，机器人不猜是谁，暂时把他们当作新的人。请在机器人的手机上给他们设置不同的备注。",
		EN: "{n} friends have the remark \"{remark}\" (nicknames: {nicks}). Operators are recognised by remark, so the bot does not guess and treats them as new people for now. Give them different remarks on the bot's phone.",
	},
	"member.title": {
		ZH: "群「{name}」里有分不清的成员",
		EN: "Members of \"{name}\" cannot be told apart",
	},
	"member.steps": {
		ZH: "群「{name}」里有 {n} 位成员的昵称和群昵称完全相同（{nicks}），机器人分不清谁是以前的谁，已按新成员记录。如需保留他们的历史，请请他们设置不同的群昵称；若是好友，可在机器人的手机上给他们设置备注。",
		EN: "In \"{name}\" {n} members have the same nickname and group card ({nicks}); the bot cannot tell who was who before and recorded them as new members. To keep their history, ask them to set different group cards, or give friends remarks on the bot's phone.",
	},
}

// text renders key in lang.
func text(lang bot.Lang, key string, vars map[string]string) string {
	return bot.Render(texts[key].In(lang), vars)
}
