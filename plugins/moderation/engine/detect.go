package engine

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Pattern values of detector hits, and their categories.
const (
	DetectedLink      = -1
	DetectedPhone     = -2
	DetectedContactID = -3

	CategoryLink      = "link"
	CategoryPhone     = "phone"
	CategoryContactID = "contact_id"
)

// The detectors work on a lighter normalisation than keywords, because links
// and ids are made of the punctuation that keyword matching drops: letters
// and digits fold as in Normalize (full-width, case, look-alikes, circled
// digits), ignorable runes vanish, whitespace becomes one ASCII space,
// full-width punctuation becomes ASCII and the ideographic full stop 。
// becomes a dot; all other punctuation stays as it is.

// lightNormalize returns the detectors' form of s and, per byte, the offset
// in s of the rune it came from (plus len(s) at the end).
func lightNormalize(s string) (string, []int) {
	t := tableFor(false)
	out := make([]byte, 0, len(s))
	offs := make([]int, 0, len(s)+1)
	add := func(str string, at int) {
		out = append(out, str...)
		for range len(str) {
			offs = append(offs, at)
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
		case r < utf8.RuneSelf && (r == ' ' || r == '\t' || r == '\n' || r == '\r'):
			add(" ", i)
		default:
			switch e := t.lookup(r); e {
			case entKeep:
				add(s[i:i+size], i)
			case entIgnore:
			case entSep:
				add(lightSeparator(r, s[i:i+size]), i)
			default:
				add(t.repl[e-entRepl], i)
			}
		}
		i += size
	}
	return string(out), append(offs, len(s))
}

// lightSeparator is the detectors' form of a separator rune r (orig is its
// encoding): ASCII for full-width punctuation and 。, a space for any kind
// of space or control character, otherwise the rune itself.
func lightSeparator(r rune, orig string) string {
	switch {
	case r == 0x3002 || r == 0xFF61: // 。｡
		return "."
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII punctuation
		return string(r - 0xFEE0)
	case r == 0x3000 || r == 0xA0 || (r >= 0x2000 && r <= 0x200A) || r == 0x202F || r == 0x205F:
		return " "
	case r < ' ' || r == 0x7F:
		return " "
	}
	return orig
}

// hitAt maps a span of light-normalised text back to the original.
func hitAt(text string, offs []int, start, end, pattern int, category string) Hit {
	return Hit{Pattern: pattern, Category: category, Start: offs[start], End: endOf(text, offs[end-1])}
}

// urlChars are the characters a URL may contain after its host (RFC 3986,
// unreserved and reserved).
const urlChars = `[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]`

// linkRE finds URLs with a scheme, www. hosts and bare domains under common
// top-level domains; "点" may stand for the dot, as spammers write it.
var linkRE = regexp.MustCompile(`(?:https?|ftp)://` + urlChars + `+` +
	`|www(?:\.|点)[a-z0-9\-]+(?:(?:\.|点)[a-z0-9\-]+)+(?:/` + urlChars + `*)?` +
	`|[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?(?:(?:\.|点)[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)*(?:\.|点)` +
	`(?:com|cn|net|org|info|biz|top|xyz|vip|club|cc|me|io|co|tv|app|site|online|shop|store|tech|link|live|fun|pro|icu|ltd|wang|ren|ink|mobi|asia|tw|hk|mo|jp|kr|us|uk|ru|la|ly|gl|gg|to|ws|pw|work|life|today|cloud|email|space)\b` +
	`(?:/` + urlChars + `*)?`)

// DetectLinks appends to dst a Hit for every link in text: URLs with a
// scheme, www. hosts and bare domains under common top-level domains, also
// written with full-width characters, 。 or 点 for the dot.
func DetectLinks(text string, dst []Hit) []Hit {
	light, offs := lightNormalize(text)
	for _, loc := range linkRE.FindAllStringIndex(light, -1) {
		dst = append(dst, hitAt(text, offs, loc[0], loc[1], DetectedLink, CategoryLink))
	}
	return dst
}

// chineseDigits maps the Chinese numerals that spell out phone numbers.
var chineseDigits = map[rune]byte{
	'零': '0', '〇': '0', '一': '1', '幺': '1', '壹': '1', '二': '2', '贰': '2', '两': '2',
	'三': '3', '叁': '3', '四': '4', '肆': '4', '五': '5', '伍': '5', '六': '6', '陆': '6',
	'七': '7', '柒': '7', '八': '8', '捌': '8', '九': '9', '玖': '9',
}

// isPhoneSeparator reports whether r may stand between the digits of a phone
// number (DetectPhones allows at most two in a row).
func isPhoneSeparator(r rune) bool {
	return r == ' ' || r == '-' || r == '.' || r == '_' || r == '/' || r == '—' || r == '–' || r == '·'
}

// DetectPhones appends to dst a Hit for every mainland mobile number in
// text: eleven digits 1[3-9]xxxxxxxxx, optionally after +86, 86 or 0086,
// written with ASCII, full-width, circled or Chinese digits and with up to
// two separators (space, -, ., _, /, dashes, middle dot) between digits. A
// longer run of digits (an order number, a bank card) is not a phone
// number.
func DetectPhones(text string, dst []Hit) []Hit {
	light, offs := lightNormalize(text)
	// Digits are collected into groups (digits written together); a phone
	// number is one or more consecutive groups of one run, so that two
	// numbers separated by a space are found apart, while a long number
	// written without separators never hides a phone number inside it.
	var run []phoneDigit
	var groups []int // index in run where each group starts
	flush := func() {
		groups = append(groups, len(run))
		for a := 0; a+1 < len(groups); {
			found := -1
			for b := a + 1; b < len(groups) && groups[b]-groups[a] <= 15; b++ {
				if isMobile(run[groups[a]:groups[b]]) {
					found = b
				}
			}
			if found < 0 {
				a++
				continue
			}
			first, last := run[groups[a]], run[groups[found]-1]
			dst = append(dst, hitAt(text, offs, first.start, last.end, DetectedPhone, CategoryPhone))
			a = found
		}
		run, groups = run[:0], groups[:0]
	}
	seps := 0
	for i := 0; i < len(light); {
		r, size := utf8.DecodeRuneInString(light[i:])
		d, ok := byte(0), false
		switch {
		case r >= '0' && r <= '9':
			d, ok = byte(r), true
		default:
			d, ok = chineseDigits[r]
		}
		switch {
		case ok:
			if len(run) == 0 || seps > 0 {
				groups = append(groups, len(run))
			}
			run = append(run, phoneDigit{d, i, i + size})
			seps = 0
		case len(run) > 0 && isPhoneSeparator(r) && seps < 2:
			seps++
		default:
			if len(run) > 0 {
				flush()
			}
			seps = 0
		}
		i += size
	}
	if len(run) > 0 {
		flush()
	}
	return dst
}

// phoneDigit is one digit of a possible phone number, at [start, end) of
// the light-normalised text.
type phoneDigit struct {
	d          byte
	start, end int
}

// isMobile reports whether digits are a mainland mobile number, with or
// without the country code 86 or 0086.
func isMobile(ds []phoneDigit) bool {
	b := make([]byte, len(ds))
	for i, d := range ds {
		b[i] = d.d
	}
	s := string(b)
	switch {
	case len(s) == 13 && strings.HasPrefix(s, "86"):
		s = s[2:]
	case len(s) == 15 && strings.HasPrefix(s, "0086"):
		s = s[4:]
	}
	return len(s) == 11 && s[0] == '1' && s[1] >= '3'
}

// contactRE finds an offer of an account: an optional "加我" style verb, a
// name for WeChat, QQ or Telegram, an optional colon or 是, and an id. Group
// 1 is the id. Weak names (v, 微, 飞机) count only after a verb or before a
// colon; see DetectContactIDs.
var contactRE = regexp.MustCompile(
	`(?:(加|添加|联系|私聊|私信|找)\s*(?:我|本人)?\s*(?:的)?\s*)?` +
		`(微信号|微信|威信|薇信|徽信|维信|v\s?信|v\s?x|w\s?x|weixin|wechat|扣扣|qq|企鹅号?|tg|telegram|飞机号|纸飞机|v|微|薇|飞机)` +
		`\s*(?:号码?|账号)?\s*([:=]|是|为)?\s*` +
		`(wxid_[a-z0-9_-]{4,30}|[a-z][a-z0-9_-]{5,19}|[0-9][0-9 -]{4,16}[0-9])`)

var weakContact = map[string]bool{"v": true, "微": true, "薇": true, "飞机": true}

// wxidRE finds WeChat's generated ids, which are an offer on their own.
var wxidRE = regexp.MustCompile(`wxid_[a-z0-9_-]{4,30}`)

// DetectContactIDs appends to dst a Hit for every offer of a WeChat, QQ or
// Telegram contact in text, such as "加我vx: abc_123", "V信 abc123456",
// "qq：12345678" or a bare "wxid_..." id. The Hit spans from the verb or the
// account name to the end of the id. An id is what WeChat allows (a letter,
// then 5-19 letters, digits, _ or -), a number of 6 to 18 digits (QQ
// numbers, phone numbers), or a wxid_ id.
func DetectContactIDs(text string, dst []Hit) []Hit {
	light, offs := lightNormalize(text)
	first := len(dst)
	for _, m := range contactRE.FindAllStringSubmatchIndex(light, -1) {
		start, end := m[0], m[1]
		verb := m[2] >= 0
		name := strings.ReplaceAll(light[m[4]:m[5]], " ", "")
		colon := m[6] >= 0
		if weakContact[name] && !verb && !colon {
			continue
		}
		// An ASCII account name glued to a word before it ("mtv") is not one.
		if !verb && isASCIIAlnum(light[m[4]]) && m[4] > 0 && isASCIIAlnum(light[m[4]-1]) {
			continue
		}
		// An id running on past the length WeChat allows is something else.
		if end < len(light) && (isASCIIAlnum(light[end]) || light[end] == '_' || light[end] == '-') {
			continue
		}
		dst = append(dst, hitAt(text, offs, start, end, DetectedContactID, CategoryContactID))
	}
	for _, loc := range wxidRE.FindAllStringIndex(light, -1) {
		if !alreadyCovered(dst[first:], offs[loc[0]]) {
			dst = append(dst, hitAt(text, offs, loc[0], loc[1], DetectedContactID, CategoryContactID))
		}
	}
	return dst
}

// alreadyCovered reports whether a contact-id hit of hits contains offset at.
func alreadyCovered(hits []Hit, at int) bool {
	for _, h := range hits {
		if h.Pattern == DetectedContactID && h.Start <= at && at < h.End {
			return true
		}
	}
	return false
}
