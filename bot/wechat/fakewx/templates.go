package fakewx

import "strings"

// System-message templates (MsgType 10000 Content) as the web protocol sends
// them, for SendSystem. Names are as the bot account sees them: its remark
// for a friend, else the nickname. The odd spaces are the real server's:
// a leading space inside the quotes of a QR join, two trailing spaces after
// the bot's own invitations. openwechat's IsJoinGroup matches the Chinese
// join templates and IsRenameGroup the Chinese rename templates; nothing
// matches the removals or the English ones.

// SysInvite is `"张三"邀请"李四、王五"加入了群聊`.
func SysInvite(inviter string, invitees ...string) string {
	return `"` + inviter + `"邀请"` + strings.Join(invitees, "、") + `"加入了群聊`
}

// SysYouInvited is `你邀请"李四"加入了群聊  `, what the bot sees after adding
// people itself. AcceptInvitation sends it too when someone accepts the
// bot's invitation card: the text of that join is not documented, and
// joins into groups too big to add people directly are reported in the
// same "邀请…加入了群聊" form. See SysJoinByInvite for the other candidate.
func SysYouInvited(invitees ...string) string {
	return `你邀请"` + strings.Join(invitees, "、") + `"加入了群聊  `
}

// SysJoinByInvite is `"李四"通过"张三"的邀请二维码加入群聊`, the other
// candidate for the text of a join by an accepted invitation: pad-protocol
// bots match it as the template "$adder$"通过"$from$"的邀请二维码加入群聊.
// When it is sent and how the web protocol renders it are unverified.
func SysJoinByInvite(joiner, inviter string) string {
	return `"` + joiner + `"通过"` + inviter + `"的邀请二维码加入群聊`
}

// SysInvitedYou is `"张三"邀请你加入了群聊，群聊参与人还有：李四、王五`, what the
// bot sees when it is added to a group.
func SysInvitedYou(inviter string, others ...string) string {
	return `"` + inviter + `"邀请你加入了群聊，群聊参与人还有：` + strings.Join(others, "、")
}

// SysJoinQR is `" 李四"通过扫描"张三"分享的二维码加入群聊`.
func SysJoinQR(joiner, sharer string) string {
	return `" ` + joiner + `"通过扫描"` + sharer + `"分享的二维码加入群聊`
}

// SysJoinYourQR is `"李四"通过扫描你分享的二维码加入群聊  `.
func SysJoinYourQR(joiner string) string {
	return `"` + joiner + `"通过扫描你分享的二维码加入群聊  `
}

// SysYouRemoved is `你将"李四"移出了群聊`.
func SysYouRemoved(name string) string {
	return `你将"` + name + `"移出了群聊`
}

// SysYouWereRemoved is `你被"张三"移出群聊`.
func SysYouWereRemoved(by string) string {
	return `你被"` + by + `"移出群聊`
}

// SysRenamed is `"张三"修改群名为“新名字”` (curly quotes around the name).
func SysRenamed(by, topic string) string {
	return `"` + by + `"修改群名为“` + topic + `”`
}

// SysYouRenamed is `你修改群名为“新名字”`.
func SysYouRenamed(topic string) string {
	return `你修改群名为“` + topic + `”`
}

// SysInviteEN is `"X" invited "Y" to the group chat`; several invitees are
// joined with ", " (the exact English separator is unverified).
func SysInviteEN(inviter string, invitees ...string) string {
	return `"` + inviter + `" invited "` + strings.Join(invitees, ", ") + `" to the group chat`
}

// SysJoinQREN is `"Y" joined the group chat via the QR Code shared by "X"`.
func SysJoinQREN(joiner, sharer string) string {
	return `"` + joiner + `" joined the group chat via the QR Code shared by "` + sharer + `"`
}

// SysYouRemovedEN is `You removed "X" from the group chat`.
func SysYouRemovedEN(name string) string {
	return `You removed "` + name + `" from the group chat`
}

// SysRenamedEN is `"X" changed the group name to "Y"`.
func SysRenamedEN(by, topic string) string {
	return `"` + by + `" changed the group name to "` + topic + `"`
}
