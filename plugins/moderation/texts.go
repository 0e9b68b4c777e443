package moderation

import "github.com/qunguan/qunguan/bot"

// catalog holds the plugin's user-visible texts, Chinese first.
var catalog = bot.Catalog{
	"moderation.warn":         {ZH: "⚠️ {name}：你的消息涉及「{rule}」，违反群规。记 {points} 分，{decay}内累计 {total} 分。{next}", EN: "⚠️ {name}: your message falls under \"{rule}\", against the group rules. {points} point(s); {total} within {decay}. {next}"},
	"moderation.warn_manual":  {ZH: "⚠️ {name} 被管理员警告：{reason}。记 {points} 分，{decay}内累计 {total} 分。{next}", EN: "⚠️ {name} was warned by an admin: {reason}. {points} point(s); {total} within {decay}. {next}"},
	"moderation.next":         {ZH: "累计 {n} 分将{what}。", EN: "At {n} points: {what}."},
	"moderation.what.warn":    {ZH: "被公开警告", EN: "a public warning"},
	"moderation.what.notify":  {ZH: "通知管理员", EN: "the admins are told"},
	"moderation.what.remove":  {ZH: "被移出群聊", EN: "removal from the group"},
	"moderation.removed_kick": {ZH: "🚫 {name} {decay}内累计违规 {total} 分，已被移出群聊。", EN: "🚫 {name} reached {total} points within {decay} and was removed from the group."},
	"moderation.removed_task": {ZH: "🚫 {name} {decay}内累计违规 {total} 分，已报告群主移出。", EN: "🚫 {name} reached {total} points within {decay}; the group owner has been asked to remove them."},
	"moderation.quoted":       {ZH: "「{name}」", EN: "\"{name}\""},
	"moderation.by":           {ZH: "（{name}）", EN: " (by {name})"},
	"moderation.no_reason":    {ZH: "违反群规", EN: "breaking the group rules"},

	"moderation.cat.flood":  {ZH: "刷屏", EN: "flooding"},
	"moderation.cat.repeat": {ZH: "重复发送", EN: "repeating the same text"},
	"moderation.cat.wave":   {ZH: "多群群发", EN: "posting the same text in many groups"},
	"moderation.cat.manual": {ZH: "管理员警告", EN: "admin warning"},

	"moderation.level.log":    {ZH: "仅记录", EN: "recorded"},
	"moderation.level.warn":   {ZH: "公开警告", EN: "public warning"},
	"moderation.level.notify": {ZH: "通知管理员", EN: "admins told"},
	"moderation.level.held":   {ZH: "已记分，累计 {total} 分（刚处理过同级别违规，未重复{level}）", EN: "points added, {total} in all (the same step was taken moments ago, so no repeated {level})"},
	"moderation.level.remove": {ZH: "移出群聊", EN: "removal"},

	"moderation.dm": {ZH: "【违规记录】「{group}」\n成员：{name}（{user}）\n时间：{time}\n规则：{rules}\n原文：{text}\n本次 +{points} 分，{decay}内累计 {total} 分\n处理：{action}\n误判？在群里发 /unwarn {name} 撤销这次记录。",
		EN: "[Offence] \"{group}\"\nMember: {name} ({user})\nTime: {time}\nRule: {rules}\nText: {text}\n+{points} point(s), {total} within {decay}\nAction: {action}\nFalse positive? Send /unwarn {name} in the group to undo it."},
	"moderation.rule_word":           {ZH: "{label}（“{entry}”，命中“{match}”）", EN: "{label} (\"{entry}\", matched \"{match}\")"},
	"moderation.detector.link":       {ZH: "链接", EN: "a link"},
	"moderation.detector.phone":      {ZH: "手机号", EN: "a phone number"},
	"moderation.detector.contact_id": {ZH: "联系方式", EN: "a contact offer"},
	"moderation.rule_flood":          {ZH: "{label}（{count} 条 / {within}）", EN: "{label} ({count} messages in {within})"},
	"moderation.rule_wave":           {ZH: "{label}（{groups} 个群 / {within}）", EN: "{label} ({groups} groups in {within})"},

	"moderation.task_title": {ZH: "在「{group}」移出 {name}", EN: "Remove {name} from \"{group}\""},
	"moderation.task_steps": {ZH: "{name}（昵称 {nick}，{user}）{decay}内累计违规 {total} 分，网页版微信不能踢人，请群主在手机上操作：\n1. 打开群聊「{group}」，点右上角「…」\n2. 在群成员头像区点「－」\n3. 勾选「{name}」，点「删除」\n机器人看到 {name} 不在群里后会自动关闭这个待办；决定不移出就发 /tasks cancel 加上面的待办编号。",
		EN: "{name} (nickname {nick}, {user}) reached {total} points within {decay}. Web WeChat cannot remove members, so the group owner must do it on the phone:\n1. Open the group \"{group}\", tap \"…\" at the top right\n2. Tap \"－\" below the member avatars\n3. Tick \"{name}\" and tap \"Delete\"\nThe bot closes this task once it sees {name} is gone; to keep them, send /tasks cancel with the task id above."},

	"moderation.alert_flood": {ZH: "【刷屏】「{group}」{name}：{rule}。已处理：{action}。\n最近的消息：\n{text}", EN: "[Flood] \"{group}\" {name}: {rule}. Action: {action}.\nRecent messages:\n{text}"},
	"moderation.alert_wave":  {ZH: "【多群群发】同一段文字 {within}内出现在 {n} 个群：{groups}\n发送者：{senders}\n内容：{text}", EN: "[Spam wave] The same text reached {n} groups within {within}: {groups}\nSenders: {senders}\nText: {text}"},

	"moderation.status":     {ZH: "审核：{decay}内有违规记分 {members} 人，移出待办 {tasks} 个", EN: "Moderation: {members} member(s) with points within {decay}, {tasks} removal task(s)"},
	"moderation.status_off": {ZH: "审核：已关闭", EN: "Moderation: off"},

	"moderation.help.warn":     {ZH: "警告成员并记分，如 /警告 bob 发广告", EN: "Warn a member and add points, e.g. /warn bob ads"},
	"moderation.help.warns":    {ZH: "查看成员的违规记录（不写名字看自己的）", EN: "Show a member's offences (your own without a name)"},
	"moderation.help.unwarn":   {ZH: "撤销成员最近一次违规记录（误判时用）", EN: "Undo a member's latest offence (for false positives)"},
	"moderation.label.name":    {ZH: "群昵称或昵称", EN: "name"},
	"moderation.label.reason":  {ZH: "原因", EN: "reason"},
	"moderation.cannot_warn":   {ZH: "不能警告{role}。", EN: "You cannot warn a {role}."},
	"moderation.warned_dm":     {ZH: "已在「{group}」警告 {name}，{decay}内累计 {total} 分。", EN: "Warned {name} in \"{group}\"; {total} points within {decay}."},
	"moderation.warns_none":    {ZH: "{name} {decay}内没有违规记录。", EN: "{name} has no offences within {decay}."},
	"moderation.warns_header":  {ZH: "{name} {decay}内累计 {total} 分（{steps}）：", EN: "{name}: {total} points within {decay} ({steps}):"},
	"moderation.warns_line":    {ZH: "{time} {rule} +{points}", EN: "{time} {rule} +{points}"},
	"moderation.warns_task":    {ZH: "移出待办 {id} 未完成。", EN: "Removal task {id} is open."},
	"moderation.warns_others":  {ZH: "只有群管理员能查看别人的记录；不写名字可以看自己的。", EN: "Only group admins can see others' records; without a name you see your own."},
	"moderation.step":          {ZH: "{points} 分{what}", EN: "{points}: {what}"},
	"moderation.unwarn_none":   {ZH: "{name} {decay}内没有可撤销的记录。", EN: "{name} has nothing to undo within {decay}."},
	"moderation.unwarned":      {ZH: "已撤销 {name} 最近一次记录（{rule}，{points} 分），现在累计 {total} 分。", EN: "Undid {name}'s latest offence ({rule}, {points} point(s)); now {total}."},
	"moderation.task_canceled": {ZH: "移出待办 {id} 已取消。", EN: "Removal task {id} canceled."},
}

// Texts implements bot.Texter.
func (p *Plugin) Texts() bot.Catalog { return catalog }
