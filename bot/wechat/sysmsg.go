package wechat

import (
	"regexp"
	"strings"
)

// sysKind is what a group system message (MsgType 10000) says happened.
type sysKind uint8

const (
	sysNone       sysKind = iota
	sysJoin               // people joined: invited by someone or by QR code
	sysBotAdded           // the bot account was invited into the group
	sysRemoved            // the bot account removed people (its owner, on the phone)
	sysBotRemoved         // the bot account was removed from the group
	sysRenamed            // the group got a new name
)

func (k sysKind) String() string {
	switch k {
	case sysJoin:
		return "join"
	case sysBotAdded:
		return "bot_added"
	case sysRemoved:
		return "removed"
	case sysBotRemoved:
		return "bot_removed"
	case sysRenamed:
		return "renamed"
	}
	return "none"
}

// sysMsg is a parsed system message. Names are as the bot account sees
// them (its remark for a friend, else the nickname), so they are hints:
// the member list decides who really joined or left.
type sysMsg struct {
	Kind sysKind
	// Actor is who invited, shared the QR code, removed the bot or renamed
	// the group; ActorSelf means the bot account itself ("你", "You").
	Actor     string
	ActorSelf bool
	// Names are the people who joined or were removed.
	Names []string
	// NewName is the group's new name for sysRenamed.
	NewName string
	// ByQR marks a join by scanning a QR code rather than an invitation.
	ByQR bool
}

// A sysRule turns one template's match into a sysMsg. The groups of re are
// handed to build in order.
type sysRule struct {
	re    *regexp.Regexp
	build func(m []string) sysMsg
}

func join(actor string, self, qr bool, names string) sysMsg {
	return sysMsg{Kind: sysJoin, Actor: cleanName(actor), ActorSelf: self, ByQR: qr, Names: splitNames(names)}
}

// sysRules are tried in order; the more specific templates come first
// ("你邀请..." before "X邀请...", "invited you" before "invited X"). The
// Chinese templates are the web protocol's; the English ones are what
// English-language phones produce, as collected by web and pad puppets.
var sysRules = []sysRule{
	// Chinese.
	{regexp.MustCompile(`^你邀请"(.+)"加入了群聊`), func(m []string) sysMsg { return join("", true, false, m[1]) }},
	{regexp.MustCompile(`^"(.+?)"邀请你和"(.+?)"加入了群聊`), func(m []string) sysMsg { return sysMsg{Kind: sysBotAdded, Actor: cleanName(m[1])} }},
	{regexp.MustCompile(`^"(.+?)"邀请你加入了群聊`), func(m []string) sysMsg { return sysMsg{Kind: sysBotAdded, Actor: cleanName(m[1])} }},
	{regexp.MustCompile(`^"(.+?)"邀请"(.+)"加入了群聊`), func(m []string) sysMsg { return join(m[1], false, false, m[2]) }},
	{regexp.MustCompile(`^"(.+?)"通过扫描你分享的二维码加入群聊`), func(m []string) sysMsg { return join("", true, true, m[1]) }},
	{regexp.MustCompile(`^"(.+?)"通过扫描"(.+?)"分享的二维码加入群聊`), func(m []string) sysMsg { return join(m[2], false, true, m[1]) }},
	// A join by an accepted invitation card (groups of 40 or more) may
	// read like an invitation ("你邀请…", above) or like these, which
	// pad-protocol bots match; neither is verified for web WeChat.
	{regexp.MustCompile(`^" ?(.+?)"通过你的邀请(?:二维码)?加入了?群聊`), func(m []string) sysMsg { return join("", true, false, m[1]) }},
	{regexp.MustCompile(`^" ?(.+?)"通过"(.+?)"的邀请(?:二维码)?加入了?群聊`), func(m []string) sysMsg { return join(m[2], false, false, m[1]) }},
	{regexp.MustCompile(`^你将"(.+)"移出了群聊`), func(m []string) sysMsg { return sysMsg{Kind: sysRemoved, ActorSelf: true, Names: splitNames(m[1])} }},
	{regexp.MustCompile(`^你被"(.+?)"移出群聊`), func(m []string) sysMsg { return sysMsg{Kind: sysBotRemoved, Actor: cleanName(m[1])} }},
	{regexp.MustCompile(`^你修改群名为“(.+)”`), func(m []string) sysMsg { return sysMsg{Kind: sysRenamed, ActorSelf: true, NewName: m[1]} }},
	{regexp.MustCompile(`^"?(.+?)"?修改群名为“(.+)”`), func(m []string) sysMsg { return sysMsg{Kind: sysRenamed, Actor: cleanName(m[1]), NewName: m[2]} }},

	// English.
	{regexp.MustCompile(`^You(?:'ve)? invited (.+?) to (?:the|a) group chat`), func(m []string) sysMsg { return join("", true, false, m[1]) }},
	{regexp.MustCompile(`^(.+?) invited you and (.+?) to (?:the|a) group chat`), func(m []string) sysMsg { return sysMsg{Kind: sysBotAdded, Actor: cleanName(m[1])} }},
	{regexp.MustCompile(`^(.+?) invited you to (?:the|a) group chat`), func(m []string) sysMsg { return sysMsg{Kind: sysBotAdded, Actor: cleanName(m[1])} }},
	{regexp.MustCompile(`^(.+?) invited (.+?) to (?:the|a) group chat`), func(m []string) sysMsg { return join(m[1], false, false, m[2]) }},
	{regexp.MustCompile(`^"(.+?)" joined (?:the )?group chat via (?:your shared QR Code|the QR [Cc]ode you shared)`), func(m []string) sysMsg { return join("", true, true, m[1]) }},
	{regexp.MustCompile(`^"(.+?)" joined the group chat via the QR Code shared by (.+?)\.?$`), func(m []string) sysMsg { return join(m[2], false, true, m[1]) }},
	{regexp.MustCompile(`^"(.+?)" joined the group chat via (.+?) shared QR Code\.?$`), func(m []string) sysMsg { return join(m[2], false, true, m[1]) }},
	{regexp.MustCompile(`^You removed (.+?) from the group chat`), func(m []string) sysMsg { return sysMsg{Kind: sysRemoved, ActorSelf: true, Names: splitNames(m[1])} }},
	{regexp.MustCompile(`^You were removed from the group chat by (.+?)\.?$`), func(m []string) sysMsg { return sysMsg{Kind: sysBotRemoved, Actor: cleanName(m[1])} }},
	{regexp.MustCompile(`^You changed the group name to "(.+)"`), func(m []string) sysMsg { return sysMsg{Kind: sysRenamed, ActorSelf: true, NewName: m[1]} }},
	{regexp.MustCompile(`^(.+?) changed the group name to "(.+)"`), func(m []string) sysMsg { return sysMsg{Kind: sysRenamed, Actor: cleanName(m[1]), NewName: m[2]} }},
}

// revokeSuffix is what the real server appends to the bot's own
// invitations (a link to undo them); it is not part of any name.
var revokeSuffix = regexp.MustCompile(`\s*\$revoke\$\s*$`)

// parseSystem reads a group system message in Chinese or English. Unknown
// texts (red packets, "拍了拍", notices) give Kind sysNone.
func parseSystem(content string) sysMsg {
	text := strings.TrimSpace(revokeSuffix.ReplaceAllString(content, ""))
	for _, r := range sysRules {
		if m := r.re.FindStringSubmatch(text); m != nil {
			out := r.build(m)
			if out.Kind == sysJoin && len(out.Names) == 0 {
				continue
			}
			return out
		}
	}
	return sysMsg{}
}

// nameSep separates several names in one template: "、" in Chinese,
// ", " or " and " in English, with or without quotes around each name.
var nameSep = regexp.MustCompile(`"?\s*(?:、|,\s+|\s+and\s+)\s*"?`)

func splitNames(s string) []string {
	var out []string
	for _, n := range nameSep.Split(strings.Trim(strings.TrimSpace(s), `"`), -1) {
		if n = cleanName(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// cleanName drops the quotes and the stray spaces the templates put
// around names (a QR join quotes the joiner as `" 李四"`).
func cleanName(s string) string {
	return strings.TrimSpace(strings.Trim(strings.TrimSpace(s), `"`))
}
