package wechat

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
)

// The templates the fake server sends come from the same package the real
// traffic was modelled on; the other rows are texts web and pad clients
// have recorded from real phones.
func TestParseSystem(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    sysMsg
	}{
		{"invite", fakewx.SysInvite("张三", "李四"), sysMsg{Kind: sysJoin, Actor: "张三", Names: []string{"李四"}}},
		{"invite several", fakewx.SysInvite("张三", "李四", "王五", "赵六"), sysMsg{Kind: sysJoin, Actor: "张三", Names: []string{"李四", "王五", "赵六"}}},
		{"you invited", fakewx.SysYouInvited("李四", "王五"), sysMsg{Kind: sysJoin, ActorSelf: true, Names: []string{"李四", "王五"}}},
		{"you invited with revoke link", `你邀请"李佳芮"加入了群聊  $revoke$`, sysMsg{Kind: sysJoin, ActorSelf: true, Names: []string{"李佳芮"}}},
		{"invited you", fakewx.SysInvitedYou("张三", "李四", "王五"), sysMsg{Kind: sysBotAdded, Actor: "张三"}},
		{"invited you and others", `"张三"邀请你和"李四"加入了群聊`, sysMsg{Kind: sysBotAdded, Actor: "张三"}},
		{"qr", fakewx.SysJoinQR("李四", "张三"), sysMsg{Kind: sysJoin, Actor: "张三", ByQR: true, Names: []string{"李四"}}},
		{"your qr", fakewx.SysJoinYourQR("李四"), sysMsg{Kind: sysJoin, ActorSelf: true, ByQR: true, Names: []string{"李四"}}},
		{"accepted card", fakewx.SysJoinByInvite("李四", "张三"), sysMsg{Kind: sysJoin, Actor: "张三", Names: []string{"李四"}}},
		{"accepted card, no qr", `"李四"通过"张三"的邀请加入了群聊`, sysMsg{Kind: sysJoin, Actor: "张三", Names: []string{"李四"}}},
		{"accepted your card", `"李四"通过你的邀请二维码加入群聊`, sysMsg{Kind: sysJoin, ActorSelf: true, Names: []string{"李四"}}},
		{"you removed", fakewx.SysYouRemoved("李四"), sysMsg{Kind: sysRemoved, ActorSelf: true, Names: []string{"李四"}}},
		{"you were removed", fakewx.SysYouWereRemoved("张三"), sysMsg{Kind: sysBotRemoved, Actor: "张三"}},
		{"renamed", fakewx.SysRenamed("张三", "新名字"), sysMsg{Kind: sysRenamed, Actor: "张三", NewName: "新名字"}},
		{"you renamed", fakewx.SysYouRenamed("新 名字"), sysMsg{Kind: sysRenamed, ActorSelf: true, NewName: "新 名字"}},
		// A nickname may contain quotes; the template stays readable at the
		// last `"邀请"`, and the member list settles who it was anyway.
		{"name with quotes inside", `"A"B"邀请"C"加入了群聊`, sysMsg{Kind: sysJoin, Actor: `A"B`, Names: []string{"C"}}},

		{"en invite", fakewx.SysInviteEN("Zhang", "Li"), sysMsg{Kind: sysJoin, Actor: "Zhang", Names: []string{"Li"}}},
		{"en invite several", fakewx.SysInviteEN("Zhang", "Li", "Wang"), sysMsg{Kind: sysJoin, Actor: "Zhang", Names: []string{"Li", "Wang"}}},
		{"en invite chinese separator", `"凌" invited "庆次、小桔妹" to the group chat`, sysMsg{Kind: sysJoin, Actor: "凌", Names: []string{"庆次", "小桔妹"}}},
		{"en invite quoted each", `"凌" invited "庆次" and "小桔妹" to the group chat`, sysMsg{Kind: sysJoin, Actor: "凌", Names: []string{"庆次", "小桔妹"}}},
		{"en you invited", `You invited "Oscar" to the group chat`, sysMsg{Kind: sysJoin, ActorSelf: true, Names: []string{"Oscar"}}},
		{"en you've invited", `You've invited "Oscar" to the group chat`, sysMsg{Kind: sysJoin, ActorSelf: true, Names: []string{"Oscar"}}},
		{"en invited you", `Zhang invited you to a group chat with Li, Wang`, sysMsg{Kind: sysBotAdded, Actor: "Zhang"}},
		{"en invited you and", `"Zhang" invited you and "Li" to the group chat`, sysMsg{Kind: sysBotAdded, Actor: "Zhang"}},
		{"en qr", fakewx.SysJoinQREN("Li", "Zhang"), sysMsg{Kind: sysJoin, Actor: "Zhang", ByQR: true, Names: []string{"Li"}}},
		{"en qr with period", `" 桔小秘" joined the group chat via the QR Code shared by "李佳芮".`, sysMsg{Kind: sysJoin, Actor: "李佳芮", ByQR: true, Names: []string{"桔小秘"}}},
		{"en your qr", `"桔小秘" joined the group chat via your shared QR Code.`, sysMsg{Kind: sysJoin, ActorSelf: true, ByQR: true, Names: []string{"桔小秘"}}},
		{"en your qr 2", `"管理员" joined group chat via the QR code you shared.`, sysMsg{Kind: sysJoin, ActorSelf: true, ByQR: true, Names: []string{"管理员"}}},
		{"en you removed", fakewx.SysYouRemovedEN("Bruce LEE"), sysMsg{Kind: sysRemoved, ActorSelf: true, Names: []string{"Bruce LEE"}}},
		{"en you were removed", `You were removed from the group chat by "桔小秘"`, sysMsg{Kind: sysBotRemoved, Actor: "桔小秘"}},
		{"en renamed", fakewx.SysRenamedEN("Zhang", "New name"), sysMsg{Kind: sysRenamed, Actor: "Zhang", NewName: "New name"}},
		{"en you renamed", `You changed the group name to "Weekly"`, sysMsg{Kind: sysRenamed, ActorSelf: true, NewName: "Weekly"}},

		{"red packet", "收到红包，请在手机上查看", sysMsg{}},
		{"tickle", `"张三" 拍了拍我`, sysMsg{}},
		{"empty", "", sysMsg{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseSystem(tt.content)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseSystem(%q) (-want +got):\n%s", tt.content, diff)
			}
		})
	}
}
