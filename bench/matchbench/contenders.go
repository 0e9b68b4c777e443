package main

import (
	"regexp"
	"strings"

	bobu "github.com/BobuSumisu/aho-corasick"
	cloudflare "github.com/cloudflare/ahocorasick"
	"github.com/importcjj/sensitive"

	"github.com/qunguan/qunguan/plugins/moderation/engine"
)

// contender is one matcher in the comparison. setup builds it for a word
// list and returns a function that says whether one line is flagged.
type contender struct {
	name       string
	normalises bool // matches normalised text (the engine), not raw bytes
	t2s        bool // normalises traditional characters to simplified too
	sliceBytes int  // run only on the first sliceBytes of the corpus (0: all)
	setup      func(words []string) (flag func(line string, raw []byte) bool, err error)
}

const regexSlice = 64 << 10

func contenders() []contender {
	return []contender{
		{name: "engine Any (normalising)", normalises: true, setup: func(words []string) (func(string, []byte) bool, error) {
			m, err := engine.Compile(patternsOf(words), engine.Options{})
			if err != nil {
				return nil, err
			}
			return func(line string, _ []byte) bool { return m.Any(line) }, nil
		}},
		{name: "engine Match (normalising, spans)", normalises: true, setup: func(words []string) (func(string, []byte) bool, error) {
			m, err := engine.Compile(patternsOf(words), engine.Options{})
			if err != nil {
				return nil, err
			}
			var hits []engine.Hit
			return func(line string, _ []byte) bool {
				hits = m.Match(line, hits[:0])
				return len(hits) > 0
			}, nil
		}},
		{name: "engine Any (normalising + t2s)", normalises: true, t2s: true, setup: func(words []string) (func(string, []byte) bool, error) {
			m, err := engine.Compile(patternsOf(words), engine.Options{TradToSimp: true})
			if err != nil {
				return nil, err
			}
			return func(line string, _ []byte) bool { return m.Any(line) }, nil
		}},
		{name: "BobuSumisu MatchFirst", setup: func(words []string) (func(string, []byte) bool, error) {
			t := bobu.NewTrieBuilder().AddStrings(words).Build()
			return func(_ string, raw []byte) bool { return t.MatchFirst(raw) != nil }, nil
		}},
		{name: "BobuSumisu MatchString", setup: func(words []string) (func(string, []byte) bool, error) {
			t := bobu.NewTrieBuilder().AddStrings(words).Build()
			return func(line string, _ []byte) bool { return len(t.MatchString(line)) > 0 }, nil
		}},
		{name: "cloudflare Match", setup: func(words []string) (func(string, []byte) bool, error) {
			m := cloudflare.NewStringMatcher(words)
			return func(_ string, raw []byte) bool { return len(m.Match(raw)) > 0 }, nil
		}},
		{name: "importcjj FindAll", setup: func(words []string) (func(string, []byte) bool, error) {
			f := sensitive.New()
			f.AddWord(words...)
			return func(line string, _ []byte) bool { return len(f.FindAll(line)) > 0 }, nil
		}},
		{name: "regexp alternation (64 KiB)", sliceBytes: regexSlice, setup: func(words []string) (func(string, []byte) bool, error) {
			quoted := make([]string, len(words))
			for i, w := range words {
				quoted[i] = regexp.QuoteMeta(w)
			}
			re, err := regexp.Compile(strings.Join(quoted, "|"))
			if err != nil {
				return nil, err
			}
			return func(line string, _ []byte) bool { return re.MatchString(line) }, nil
		}},
	}
}

func patternsOf(words []string) []engine.Pattern {
	ps := make([]engine.Pattern, len(words))
	for i, w := range words {
		ps[i] = engine.Pattern{Text: w, Category: "bench"}
	}
	return ps
}
