package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/width"
)

// Tokenize splits a command line into arguments. Whitespace (including the
// ideographic space U+3000) separates arguments; ASCII quotes "..." and
// '...', Chinese quotes “...” ‘...’ and corner brackets 「...」 group words,
// and a backslash escapes the next character inside ASCII double quotes.
// An unterminated quote is an error, so a half-typed argument is never
// silently taken.
func Tokenize(s string) ([]string, error) {
	var (
		out   []string
		cur   strings.Builder
		inTok bool
		close rune // the closing quote we are inside, or 0
	)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if close != 0 {
			if r == '\\' && close == '"' && i < len(s) {
				n, nsize := utf8.DecodeRuneInString(s[i:])
				i += nsize
				cur.WriteRune(n)
				continue
			}
			if r == close {
				close = 0
				continue
			}
			cur.WriteRune(r)
			continue
		}
		switch {
		case unicode.IsSpace(r):
			if inTok {
				out = append(out, cur.String())
				cur.Reset()
				inTok = false
			}
		case r == '"' || r == '\'':
			close, inTok = r, true
		case r == '“':
			close, inTok = '”', true
		case r == '‘':
			close, inTok = '’', true
		case r == '「':
			close, inTok = '」', true
		default:
			cur.WriteRune(r)
			inTok = true
		}
	}
	if close != 0 {
		return nil, usagef("引号 %s 没有闭合", "missing closing quote %s", string(close))
	}
	if inTok {
		out = append(out, cur.String())
	}
	return out, nil
}

// FoldWidth maps full-width ASCII forms (／＃ＡＢＣ１２３) to their
// half-width equivalents, so commands typed with a Chinese input method work.
func FoldWidth(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return width.Narrow.String(s)
		}
	}
	return s
}

var chineseDigits = map[rune]int{'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}

// parseChineseNumber parses 0-99 written in Chinese numerals (三, 十二, 二十五).
func parseChineseNumber(s string) (int, bool) {
	rs := []rune(s)
	switch {
	case len(rs) == 0:
		return 0, false
	case len(rs) == 1:
		if rs[0] == '十' {
			return 10, true
		}
		d, ok := chineseDigits[rs[0]]
		return d, ok
	case len(rs) == 2 && rs[0] == '十':
		d, ok := chineseDigits[rs[1]]
		return 10 + d, ok
	case len(rs) == 2 && rs[1] == '十':
		d, ok := chineseDigits[rs[0]]
		return d * 10, ok
	case len(rs) == 3 && rs[1] == '十':
		a, ok1 := chineseDigits[rs[0]]
		b, ok2 := chineseDigits[rs[2]]
		return a*10 + b, ok1 && ok2
	}
	return 0, false
}

// durationUnits maps unit words, longest first per prefix, to their length.
var durationUnits = []struct {
	word string
	d    time.Duration
}{
	{"个星期", 7 * 24 * time.Hour}, {"星期", 7 * 24 * time.Hour}, {"个礼拜", 7 * 24 * time.Hour}, {"礼拜", 7 * 24 * time.Hour},
	{"周", 7 * 24 * time.Hour}, {"w", 7 * 24 * time.Hour},
	{"天", 24 * time.Hour}, {"日", 24 * time.Hour}, {"d", 24 * time.Hour},
	{"个小时", time.Hour}, {"小时", time.Hour}, {"个钟头", time.Hour}, {"钟头", time.Hour}, {"时", time.Hour}, {"h", time.Hour},
	{"分钟", time.Minute}, {"分", time.Minute}, {"ms", time.Millisecond}, {"min", time.Minute}, {"m", time.Minute},
	{"秒钟", time.Second}, {"秒", time.Second}, {"s", time.Second},
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// durationUnitsHelp says which units a duration takes.
const durationUnitsHelp = "write it like 3s, 2m, 1h, 3d, 1w or 3天 (units s, m, h, d, w, ms or 秒, 分钟, 小时, 天, 周)"

// ParseDuration parses durations in both styles: Go-like "3d", "72h",
// "1w2d", "2h30m", "90s" and Chinese "3天", "2小时", "1周", "三天",
// "半小时", "1天12小时". Full-width digits are accepted. A bare number is an
// error: the unit must be explicit, because "3" could mean days or hours.
func ParseDuration(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err == nil && d <= 0 {
		return 0, fmt.Errorf("duration %q must be positive", s)
	}
	return d, err
}

// parseDuration is ParseDuration without the positivity check, for config
// values where "0s" means off.
func parseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.ToLower(strings.TrimSpace(FoldWidth(s)))
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s == "半小时" || s == "半个小时" || s == "半个钟头" {
		return 30 * time.Minute, nil
	}
	if s == "半天" {
		return 12 * time.Hour, nil
	}
	var total time.Duration
	for s != "" {
		// The number: ASCII digits (optionally with a fraction) or Chinese numerals.
		j := 0
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		var n float64
		if j > 0 {
			v, err := strconv.ParseFloat(s[:j], 64)
			if err != nil {
				return 0, fmt.Errorf("bad number in duration %q", orig)
			}
			n, s = v, s[j:]
		} else {
			k := 0
			for k < len(s) {
				r, size := utf8.DecodeRuneInString(s[k:])
				if _, ok := chineseDigits[r]; !ok && r != '十' {
					break
				}
				k += size
			}
			v, ok := parseChineseNumber(s[:k])
			if !ok {
				return 0, fmt.Errorf("duration %q needs a number and a unit, like 3d or 3天", orig)
			}
			n, s = float64(v), s[k:]
		}
		// "3 天" and "3 d" are written too. A Latin unit must end its
		// word, so "3 seconds" is not read as 3s followed by "econds".
		s = strings.TrimLeft(s, " ")
		matched := false
		for _, u := range durationUnits {
			if rest, ok := strings.CutPrefix(s, u.word); ok && (rest == "" || !isASCIILetter(u.word[0]) || !isASCIILetter(rest[0])) {
				total += time.Duration(n * float64(u.d))
				s = s[len(u.word):]
				matched = true
				break
			}
		}
		if !matched {
			word := s
			if i := strings.IndexFunc(word, func(r rune) bool { return !unicode.IsLetter(r) }); i >= 0 {
				word = word[:i]
			}
			if word == "" {
				return 0, fmt.Errorf("duration %q needs a unit: %s", orig, durationUnitsHelp)
			}
			return 0, fmt.Errorf("duration %q: %q is not a unit; %s", orig, word, durationUnitsHelp)
		}
		s = strings.TrimLeft(s, " 又零")
	}
	if total < 0 {
		return 0, fmt.Errorf("duration %q must not be negative", orig)
	}
	return total, nil
}

// FormatDuration renders d compactly in lang: "3天2小时" or "3d2h".
func FormatDuration(d time.Duration, lang Lang) string {
	if d < time.Minute {
		if lang == LangEN {
			return fmt.Sprintf("%ds", int(d.Seconds()))
		}
		return fmt.Sprintf("%d秒", int(d.Seconds()))
	}
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	hours := int(d / time.Hour)
	d -= time.Duration(hours) * time.Hour
	mins := int(d / time.Minute)
	units := [3]string{"天", "小时", "分钟"}
	if lang == LangEN {
		units = [3]string{"d", "h", "m"}
	}
	var b strings.Builder
	for i, v := range [3]int{days, hours, mins} {
		if v > 0 {
			fmt.Fprintf(&b, "%d%s", v, units[i])
		}
	}
	return b.String()
}

// Duration is a time.Duration that reads "3d", "72h", "3天" in config files.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalText parses the duration with ParseDuration; "0" is zero.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "0" || s == "" {
		*d = 0
		return nil
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML parses the duration and reports errors with their line.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// MarshalText renders the duration in Go syntax with days.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(FormatDuration(time.Duration(d), LangEN)), nil
}
