package archive

import "unicode/utf8"

// Redact masks mainland Chinese mobile numbers, landline numbers and
// 18-digit resident ID numbers in s (脱敏) and returns the result and how
// many numbers it masked. Masks keep the shape: 138****5678,
// 010-****5678, 110105********1234; separators stay, and a full-width
// digit becomes a full-width ＊.
//
// What counts as a number, and why:
//   - Digits are ASCII or full-width (０-９); between two digits of one
//     number up to three separators may stand (spaces, ideographic space,
//     dashes, parentheses), because people write 138 1234 5678, 138-1234-5678,
//     (0755) 1234567 or space digits out to dodge filters.
//   - A mobile number is 1[3-9] and nine more digits; a +86 or 86 before it
//     is left visible.
//   - An ID number is 17 digits and a digit or X. The checksum is not
//     validated and the birth date is not checked: a mistyped or made-up ID
//     still identifies someone, and in an archive that leaves the bot a
//     false negative is worse than masking an 18-digit order number too.
//   - A landline is 0, a non-zero digit and 8 to 10 more digits (area code
//     and number) making up the rest of a digit run; 400/800 service numbers
//     are public and left alone.
//   - Numbers are found anywhere in a run of digits, not only at word
//     boundaries, so a number glued to other digits ("订单2024 13812345678",
//     "8613812345678", two numbers back to back) is still masked.
//
// Numbers spelled in Chinese numerals (一三八…) or with letters in between
// are not recognised.
func Redact(s string) (string, int) {
	if !hasDigit(s) {
		return s, 0
	}
	var (
		out    []byte // nil until the first mask
		copied int    // bytes of s already copied to out
		count  int
		run    []digitPos
	)
	flush := func(xTail bool) {
		if len(run) == 0 {
			return
		}
		masks, n := findNumbers(run, xTail)
		count += n
		for _, p := range masks {
			if out == nil {
				out = make([]byte, 0, len(s)+8)
			}
			out = append(out, s[copied:p.off]...)
			if p.wide {
				out = append(out, "＊"...)
			} else {
				out = append(out, '*')
			}
			copied = p.off + p.width
		}
		run = run[:0]
	}
	seps := 0 // separators since the last digit of the current run
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r >= '0' && r <= '9':
			if seps > maxSeparators {
				flush(false)
			}
			run = append(run, digitPos{off: i, width: size, val: byte(r - '0'), gap: seps > 0 && len(run) > 0})
			seps = 0
		case r >= '０' && r <= '９':
			if seps > maxSeparators {
				flush(false)
			}
			run = append(run, digitPos{off: i, width: size, val: byte(r - '０'), wide: true, gap: seps > 0 && len(run) > 0})
			seps = 0
		case isIDCheckX(r) && len(run) > 0 && seps == 0:
			// An X directly after the digits may end an ID number; it ends
			// the run either way.
			run = append(run, digitPos{off: i, width: size, val: 10, wide: size > 1})
			flush(true)
		case isSeparator(r) && len(run) > 0:
			seps++
		default:
			flush(false)
			seps = 0
		}
		i += size
	}
	flush(false)
	if out == nil {
		return s, count
	}
	out = append(out, s[copied:]...)
	return string(out), count
}

// maxSeparators is how many separator characters may stand between two
// digits of one number ("138 - 1234 - 5678" has three).
const maxSeparators = 3

// digitPos is one digit (or a trailing X) of a run.
type digitPos struct {
	off, width int
	val        byte // 0-9, or 10 for an ID check X
	wide       bool // full-width form
	gap        bool // separators stand between this digit and the previous one
}

// findNumbers finds the numbers in one run, left to right, and returns the
// digits to mask (in order) and how many numbers it found. xTail reports
// that the run's last entry is an X, which only an ID number may use.
func findNumbers(run []digitPos, xTail bool) (masks []digitPos, n int) {
	digits := len(run)
	if xTail {
		digits--
	}
	isMobile := func(i int) bool {
		return i+11 <= digits && run[i].val == 1 && run[i+1].val >= 3 && run[i+1].val <= 9
	}
	isID := func(i int) (int, bool) {
		if run[i].val == 0 {
			return 0, false
		}
		if i+18 <= digits {
			return 18, true
		}
		if xTail && i+17 == digits {
			return 18, true
		}
		return 0, false
	}
	for i := 0; i < digits; {
		mobile := isMobile(i)
		// A mobile number that ends at a separator or at the end of the run
		// stands on its own; so do two mobile numbers back to back. Only
		// otherwise does a longer run read as an ID number.
		standalone := mobile && (i+11 == len(run) || run[i+11].gap || isMobile(i+11))
		idLen, id := isID(i)
		switch {
		case standalone || (mobile && !id):
			masks = append(masks, run[i+3:i+7]...)
			n++
			i += 11
		case id:
			masks = append(masks, run[i+6:i+idLen-4]...)
			n++
			i += idLen
		case isLandline(run[i:digits]):
			area := 4
			if run[i+1].val == 1 || run[i+1].val == 2 {
				area = 3 // 010 and 02x are the three-digit area codes
			}
			masks = append(masks, run[i+area:digits-4]...)
			n++
			i = digits
		default:
			i++
		}
	}
	return masks, n
}

// isLandline reports whether the digits are an area code and number: a 0,
// a non-zero digit and 10 to 12 digits in all.
func isLandline(d []digitPos) bool {
	return len(d) >= 10 && len(d) <= 12 && d[0].val == 0 && d[1].val != 0
}

func isIDCheckX(r rune) bool { return r == 'X' || r == 'x' || r == 'Ｘ' || r == 'ｘ' }

func isSeparator(r rune) bool {
	switch r {
	case ' ', '\t', '\u00a0', '\u3000', '-', '(', ')', '（', '）',
		'\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\ufe63', '\uff0d':
		return true
	}
	return false
}

// hasDigit reports whether s holds an ASCII or full-width digit; most
// messages have none and skip the scan.
func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= '0' && b <= '9' {
			return true
		}
		// Full-width digits are EF BC 90 to EF BC 99.
		if b == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && s[i+2] >= 0x90 && s[i+2] <= 0x99 {
			return true
		}
	}
	return false
}

// redactor applies Redact to every person-controlled text of an export and
// counts the masks. A nil *redactor leaves text alone.
type redactor struct{ count int64 }

// text redacts one field of the exported data and counts its masks.
func (r *redactor) text(s string) string {
	if r == nil {
		return s
	}
	out, n := Redact(s)
	r.count += int64(n)
	return out
}

// derived redacts a value derived from a field already counted (a media
// file's name, the manifest's list of missing files), without counting it
// again.
func (r *redactor) derived(s string) string {
	if r == nil {
		return s
	}
	out, _ := Redact(s)
	return out
}

// all redacts each string in place.
func (r *redactor) all(ss ...*string) {
	for _, s := range ss {
		*s = r.text(*s)
	}
}
