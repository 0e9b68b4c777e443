package bot

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Scope says where a command may be used.
type Scope uint8

// Command scopes.
const (
	// ScopeGroup commands run in a group, or from a DM naming the group
	// with @NAME or --group NAME.
	ScopeGroup Scope = iota + 1
	// ScopeDM commands run only in a DM to the bot.
	ScopeDM
	// ScopeBoth commands run anywhere; Call.Group is set when a group is known.
	ScopeBoth
)

// ArgKind is the type of a command argument.
type ArgKind uint8

// Argument kinds.
const (
	ArgString   ArgKind = iota + 1 // one word (or quoted phrase)
	ArgInt                         // an integer
	ArgDuration                    // 3d, 72h, 3天, 2小时, 1周
	ArgRest                        // the rest of the line, joined by spaces
)

// Arg describes one argument of a command.
type Arg struct {
	Name     string // the key handlers read it by
	Label    Text   // shown in the usage line
	Kind     ArgKind
	Optional bool
	// Choices, when set, are the only accepted values (matched case-insensitively).
	Choices []string
}

// Command is a command as data: the router checks its permission and scope
// in one place and generates /help from the same values.
type Command struct {
	// Name is the canonical English name, typed after a prefix: /countdown.
	Name string
	// Aliases are further names, Chinese first: 解散倒计时, 倒计时.
	Aliases []string
	Args    []Arg
	Help    Text
	Perm    Role
	Scope   Scope
	// Subcommands are chosen by the first argument (/countdown cancel);
	// when none matches, the command's own Args and Run apply.
	Subcommands []*Command
	// Verbatim commands take the rest of the message exactly as typed
	// (line breaks and quotes kept, nothing tokenized) in their single
	// ArgRest argument: texts such as rules and welcome templates. In a DM
	// a leading @GROUP or --group GROUP still names the group. Verbatim
	// commands have no subcommands.
	Verbatim bool
	Run      func(ctx context.Context, c *Call) error
	// Plugin is filled in by the runtime.
	Plugin string
}

// Names returns the name followed by the aliases.
func (c *Command) Names() []string { return append([]string{c.Name}, c.Aliases...) }

// Matches reports whether word names c (case-insensitive, full-width folded).
func (c *Command) Matches(word string) bool {
	w := strings.ToLower(FoldWidth(word))
	for _, n := range c.Names() {
		if strings.ToLower(n) == w {
			return true
		}
	}
	return false
}

// Usage renders the usage line with the first configured prefix, e.g.
// "/countdown（/解散倒计时） <时长> [原因…]".
func (c *Command) Usage(prefix string, lang Lang, parents ...*Command) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, p := range parents {
		b.WriteString(p.Name)
		b.WriteByte(' ')
	}
	b.WriteString(c.Name)
	if len(c.Aliases) > 0 && lang != LangEN {
		b.WriteString("（")
		b.WriteString(prefix)
		for _, p := range parents {
			if len(p.Aliases) > 0 {
				b.WriteString(p.Aliases[0])
			} else {
				b.WriteString(p.Name)
			}
			b.WriteByte(' ')
		}
		b.WriteString(c.Aliases[0])
		b.WriteString("）")
	}
	for _, a := range c.Args {
		b.WriteByte(' ')
		label := a.Label.In(lang)
		if label == "" {
			label = a.Name
		}
		if len(a.Choices) > 0 && a.Label.In(lang) == "" {
			label = strings.Join(a.Choices, "|")
		}
		if a.Kind == ArgRest {
			label += "…"
		}
		if a.Optional {
			b.WriteString("[" + label + "]")
		} else {
			b.WriteString("<" + label + ">")
		}
	}
	if len(c.Subcommands) > 0 {
		var subs []string
		for _, s := range c.Subcommands {
			if lang != LangEN && len(s.Aliases) > 0 {
				subs = append(subs, s.Aliases[0])
			} else {
				subs = append(subs, s.Name)
			}
		}
		if len(c.Args) > 0 || c.Run != nil {
			b.WriteString(" | ")
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(strings.Join(subs, "|"))
	}
	return b.String()
}

// Values are parsed arguments by name.
type Values map[string]any

// parseArgs checks tokens against the spec and converts them.
func parseArgs(spec []Arg, toks []string) (Values, error) {
	v := Values{}
	i := 0
	for ai, a := range spec {
		if a.Kind == ArgRest {
			if i >= len(toks) {
				if !a.Optional {
					return nil, missingArg(a)
				}
				continue
			}
			v[a.Name] = strings.Join(toks[i:], " ")
			i = len(toks)
			continue
		}
		if i >= len(toks) {
			if a.Optional {
				continue
			}
			return nil, missingArg(a)
		}
		val, err := convertArg(a, toks[i])
		if err != nil {
			// An optional argument that does not parse is skipped when a
			// later argument can take the token.
			if a.Optional && ai+1 < len(spec) {
				continue
			}
			return nil, err
		}
		v[a.Name] = val
		i++
	}
	if i < len(toks) {
		return nil, usagef("多余的参数“%s”", "unexpected %q", toks[i])
	}
	return v, nil
}

func argLabel(a Arg, lang Lang) string {
	if l := a.Label.In(lang); l != "" {
		return l
	}
	return a.Name
}

func missingArg(a Arg) error {
	return &UsageError{Detail: Text{ZH: "缺少<" + argLabel(a, LangZH) + ">", EN: "missing <" + argLabel(a, LangEN) + ">"}}
}

func convertArg(a Arg, tok string) (any, error) {
	switch a.Kind {
	case ArgInt:
		n, err := strconv.Atoi(FoldWidth(tok))
		if err != nil {
			return nil, usagef("“%s”不是数字", "%q is not a number", tok)
		}
		return n, nil
	case ArgDuration:
		d, err := ParseDuration(tok)
		if err != nil {
			return nil, usagef("“%s”不是有效的时长，请写成 3天、2小时、30分钟 或 3d、2h、30m", "%q is not a duration; write 3d, 2h or 30m", tok)
		}
		return d, nil
	default:
		if len(a.Choices) > 0 {
			w := strings.ToLower(FoldWidth(tok))
			for _, want := range []string{w, choiceSynonyms[w]} {
				for _, c := range a.Choices {
					if strings.ToLower(c) == want {
						return c, nil
					}
				}
			}
			return nil, usagef("“%s”不是可选值（%s）", "%q is not one of %s", tok, strings.Join(a.Choices, ", "))
		}
		return tok, nil
	}
}

// choiceSynonyms are the Chinese words accepted for the English choices
// they stand for, so that /安全模式 开 works like /safemode on.
var choiceSynonyms = map[string]string{
	"开": "on", "开启": "on", "打开": "on", "关": "off", "关闭": "off",
	"是": "yes", "否": "no",
}

// String returns a string argument, or "" when absent.
func (v Values) String(name string) string {
	s, _ := v[name].(string)
	return s
}

// Int returns an int argument, or 0 when absent.
func (v Values) Int(name string) int {
	n, _ := v[name].(int)
	return n
}

// Duration returns a duration argument, or 0 when absent.
func (v Values) Duration(name string) time.Duration {
	d, _ := v[name].(time.Duration)
	return d
}

// Has reports whether the argument was given.
func (v Values) Has(name string) bool {
	_, ok := v[name]
	return ok
}
