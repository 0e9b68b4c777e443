package moderation

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/moderation/engine"
)

// wordlist is one config version's compiled word lists: the matcher and,
// for every pattern given to it, where the entry came from.
type wordlist struct {
	m     *engine.Matcher
	rules []rule // by pattern index
	// fingerprint identifies the lists' content; hit audits carry it so a
	// reviewer knows which version of the lists flagged a message.
	fingerprint string
	words       int
	regexes     int
	allows      int
}

// rule is one word-list entry as the user wrote it.
type rule struct {
	category string // "" for allow entries
	entry    string // "加微信", or "re:..." for an expression
	src      source
}

// source is where an entry was written: a config path, and for word files
// the file and line.
type source struct {
	path string // categories.ads.files[0], allow[2], ...
	file string
	line int
}

func (s source) String() string {
	if s.file != "" {
		return fmt.Sprintf("%s:%d", s.file, s.line)
	}
	return s.path
}

const regexPrefix = "re:"

// entryPattern turns a written entry into a pattern.
func entryPattern(entry, category string, allow bool) engine.Pattern {
	if strings.HasPrefix(entry, regexPrefix) {
		return engine.Pattern{Text: strings.TrimPrefix(entry, regexPrefix), Regex: true, Category: category, Allow: allow}
	}
	return engine.Pattern{Text: entry, Category: category, Allow: allow}
}

// readEntries reads a word file: one entry per line, blank lines and lines
// starting with # ignored, surrounding spaces trimmed.
func readEntries(path string) ([]string, []int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var entries []string
	var lines []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		entries = append(entries, l)
		lines = append(lines, n)
	}
	return entries, lines, sc.Err()
}

// compileWordlist gathers the categories' and allow-list entries from the
// config and the files it names, and compiles them into one matcher.
func compileWordlist(c *Config) (*wordlist, error) {
	wl := &wordlist{}
	var pats []engine.Pattern
	add := func(entry, category string, allow bool, src source) {
		p := entryPattern(entry, category, allow)
		pats = append(pats, p)
		wl.rules = append(wl.rules, rule{category: category, entry: entry, src: src})
		switch {
		case allow:
			wl.allows++
		case p.Regex:
			wl.regexes++
		default:
			wl.words++
		}
	}
	addFiles := func(files []string, path, category string, allow bool) error {
		for i, f := range files {
			p := fmt.Sprintf("%s[%d]", path, i)
			full := f
			if !filepath.IsAbs(full) {
				full = filepath.Join(c.dir, f)
			}
			entries, lines, err := readEntries(full)
			if err != nil {
				return &bot.FieldError{Path: p, Msg: err.Error()}
			}
			for j, e := range entries {
				add(e, category, allow, source{path: p, file: f, line: lines[j]})
			}
		}
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(c.Categories)) {
		cat := c.Categories[name]
		base := "categories." + name
		for i, w := range cat.Words {
			add(strings.TrimSpace(w), name, false, source{path: fmt.Sprintf("%s.words[%d]", base, i)})
		}
		for i, r := range cat.Regex {
			add(regexPrefix+r, name, false, source{path: fmt.Sprintf("%s.regex[%d]", base, i)})
		}
		if err := addFiles(cat.Files, base+".files", name, false); err != nil {
			return nil, err
		}
	}
	for i, a := range c.Allow {
		add(strings.TrimSpace(a), "", true, source{path: fmt.Sprintf("allow[%d]", i)})
	}
	if err := addFiles(c.AllowFiles, "allow_files", "", true); err != nil {
		return nil, err
	}

	h := sha256.New()
	fmt.Fprintf(h, "t2s=%v\n", c.TradToSimp)
	for _, p := range pats {
		fmt.Fprintf(h, "%s\x00%v\x00%v\x00%s\n", p.Category, p.Regex, p.Allow, p.Text)
	}
	wl.fingerprint = hex.EncodeToString(h.Sum(nil))[:12]
	if len(pats) == 0 {
		return wl, nil
	}
	opts := engine.Options{TradToSimp: c.TradToSimp}
	m, err := engine.Compile(pats, opts)
	if err != nil {
		return nil, locate(pats, wl.rules, opts, err)
	}
	wl.m = m
	return wl, nil
}

var enginePrefixRE = regexp.MustCompile(`^engine: pattern \d+ \(.*?\): `)

// locate finds the entry that made Compile fail by compiling the entries
// one at a time (only on this error path) and names its file and line.
func locate(pats []engine.Pattern, rules []rule, opts engine.Options, whole error) error {
	for i, p := range pats {
		if _, err := engine.Compile([]engine.Pattern{p}, opts); err != nil {
			msg := enginePrefixRE.ReplaceAllString(err.Error(), "")
			if rules[i].src.file != "" {
				msg = fmt.Sprintf("%s:%d: \"%s\": %s", rules[i].src.file, rules[i].src.line, rules[i].entry, msg)
			} else {
				msg = fmt.Sprintf("\"%s\": %s", rules[i].entry, msg)
			}
			return &bot.FieldError{Path: rules[i].src.path, Msg: msg}
		}
	}
	return whole
}
