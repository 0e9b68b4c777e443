// Package engine is qunguan's keyword matching engine: thousands of keywords
// and a few regular expressions matched in one pass over a chat message,
// after normalisation that undoes the usual spam evasions, with evidence
// spans in the original text. It depends on nothing else in the project;
// the moderation plugin builds on it.
//
// # API
//
// A word list is a []Pattern: plain keywords, RE2 regular expressions
// (Regex), and allow-list phrases (Allow) that suppress false positives.
// Compile turns it into an immutable *Matcher, once per configuration
// version; the plugin keeps it in an atomic.Pointer and swaps it on reload.
//
//	m, err := engine.Compile(patterns, engine.Options{TradToSimp: true})
//	if m.Any(text) { ... }             // fast yes/no
//	hits := m.Match(text, hits[:0])    // every Hit, with original offsets
//
// Hit.Start and Hit.End are byte offsets in the original text;
// text[Start:End] is the evidence. Normalize shows the text as the matcher
// sees it, with a map from normalised to original offsets. DetectLinks,
// DetectPhones and DetectContactIDs find links, mainland mobile numbers and
// offers of a WeChat (or QQ, Telegram) contact.
//
// # Normalisation
//
// Text and keywords go through the same function, one rune at a time
// (SEMANTICS.md beside this file has the exact tables, the detectors' rules
// and the reasons):
//
//   - Ignorable runes vanish without a trace: format characters (zero-width
//     space and joiners, BOM, soft hyphen, bidi controls), combining marks,
//     variation selectors and other default-ignorable code points such as
//     U+3164 HANGUL FILLER.
//   - Every other rune is NFKC-decomposed (full-width to half-width,
//     circled, parenthesised and mathematical letters and digits, Roman
//     numerals, ligatures, CJK compatibility ideographs, Kangxi radicals),
//     then each resulting rune is folded: look-alike capitals of Cyrillic and
//     Greek to Latin (В to b), Latin letters lose their diacritics (é to e,
//     so pinyin with tone marks reads as plain pinyin), lower-casing,
//     look-alike small letters to Latin (Cyrillic а е о р с х, Greek ν ο,
//     small capitals), decimal digits of any script to ASCII digits, and
//     dingbat and double-circled digits (❶ ➊ ⓵) and negative circled or
//     squared letters (🅐 🅰) to ASCII.
//   - What is then not a letter or a number is a separator and is dropped:
//     whitespace, punctuation, symbols, emoji, control characters and
//     invalid UTF-8 bytes. So "加 微-信", "加\u200b微信" and "赌😀博" become
//     "加微信" and "赌博".
//   - One space is kept where separators were dropped between two ASCII
//     letters or digits: "fuck you" stays "fuck you", "v i a g r a" stays
//     "v i a g r a". Ignorable runes do not count: "vi\u200bagra" is
//     "viagra".
//   - With Options.TradToSimp, traditional characters become simplified
//     ones through a single-character table generated from OpenCC's
//     TSCharacters (Apache-2.0): "發票" is "发票".
//
// Normalisation is idempotent: normalising normalised text changes nothing.
//
// # Matching
//
// A keyword is stored normalised with its spaces removed. It matches the
// normalised text wherever its bytes occur, skipping the spaces of the text
// ("viagra" matches "v i a g r a"), subject to word boundaries at ASCII
// edges: if the keyword starts with an ASCII letter or digit, the character
// before the occurrence must not be one (a space, a non-ASCII character or
// the start of the text is fine), and likewise after it if it ends with one.
// So "fuck" matches "fuck you", "ＦＵＣＫ" and "f.u.c.k" but not "fucking",
// "sex" does not match "Essex", and "v信" matches "加V信" but not "abcv信".
// CJK edges need no boundary: "赌博" matches anywhere.
//
// Regular expressions (Go's RE2 syntax, linear time) run on the normalised
// text, with all their non-overlapping leftmost-first matches; empty matches
// are ignored. Their literals must be able to occur in normalised text
// (lower case, no punctuation; the space is allowed), or Compile refuses
// them.
//
// A hit is suppressed when it lies inside an occurrence of an allow phrase
// (keyword or expression): allowStart <= hitStart and hitEnd <= allowEnd in
// the normalised text. Allow phrases match with the same rules.
//
// Every occurrence of every deny pattern is reported, overlapping ones too,
// once per pattern and span, ordered by Start, End and pattern index. A span
// in normalised text maps to the original text from the first byte of the
// rune that produced its first character to the end of the rune that
// produced its last.
//
// # Speed
//
// Keywords are compiled into an Aho-Corasick DFA over byte classes with
// normalisation and UTF-8 validation folded in (dfa.go, scan.go), including
// TradToSimp, whose traditional characters the automaton reads directly as
// alternative byte paths of the simplified ones, so that it costs no
// decoding and next to no speed: Any and
// Match scan the original bytes once, a message cut into up to four regions
// scanned in lock-step so that their cache misses overlap, and build the
// normalised text with offsets only for messages where a keyword occurs
// (about one in a hundred in chat). Regular expressions need the normalised
// text of every message, so keep them few. bench/matchbench compares the
// engine with other Go matchers on a generated corpus.
package engine
