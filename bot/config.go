package bot

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration: global settings, defaults for every
// plugin and per-group overrides. It is immutable once loaded; a reload
// builds a new Config and swaps it in.
type Config struct {
	// Language is the default reply language (zh or en).
	Language Lang `yaml:"language"`
	// Timezone names the zone for cron jobs, day boundaries and displayed times.
	Timezone string `yaml:"timezone"`
	// Platform is "wechat" (the real bot) or "sim" (the simulated platform).
	Platform string `yaml:"platform"`
	// DataDir holds the store, backups, exports and the login session.
	DataDir string `yaml:"data_dir"`
	// Operators are the remark names (set on the bot's phone) of the friends
	// who operate the bot.
	Operators []string `yaml:"operators"`
	// CommandPrefixes start commands; full-width forms are accepted too.
	CommandPrefixes []string `yaml:"command_prefixes"`
	// ManageAllGroups manages every group the bot is in, not only those
	// listed under groups.
	ManageAllGroups bool `yaml:"manage_all_groups"`

	Wechat    WechatConfig    `yaml:"wechat"`
	Pacer     PacerConfig     `yaml:"pacer"`
	Store     StoreConfig     `yaml:"store"`
	Scheduler SchedulerConfig `yaml:"scheduler"`
	Confirm   ConfirmConfig   `yaml:"confirm"`
	Tasks     TasksConfig     `yaml:"tasks"`
	Alerts    AlertsConfig    `yaml:"alerts"`
	// MetricsListen serves Prometheus metrics on this address when set
	// (e.g. 127.0.0.1:9464). Off by default.
	MetricsListen string `yaml:"metrics_listen"`

	Groups  []GroupEntry         `yaml:"groups"`
	Plugins map[string]yaml.Node `yaml:"plugins"`
	// Texts override user-visible texts by key ("welcome.greeting").
	Texts map[string]Text `yaml:"texts"`

	// Path is the file the config came from; Raw is its text as written
	// (secrets still as ${VAR} placeholders), for export snapshots.
	Path     string         `yaml:"-"`
	Raw      []byte         `yaml:"-"`
	Location *time.Location `yaml:"-"`
	// Warnings are what the config says that is allowed but likely a
	// mistake (no operators), each as "file:line: key: what"; check-config
	// and the start print them.
	Warnings []string `yaml:"-"`
	// UnsetEnv are the ${VAR}s LoadConfigOffline left empty, each as
	// "file:line: key: environment variable VAR is not set; left empty".
	UnsetEnv []string `yaml:"-"`

	root      *yaml.Node
	pluginCfg map[string][]any // plugin -> [global, group entry 0, 1, ...]
	operators map[string]bool
}

// WechatConfig configures the web WeChat adapter.
type WechatConfig struct {
	// Mode is "desktop" (UOS; works for accounts refused with 1203) or "normal".
	Mode string `yaml:"mode"`
	// QRCodePNG also writes the login QR code as a PNG into the data dir.
	QRCodePNG bool `yaml:"qrcode_png"`
	// MemberRefresh is how often each managed group's member list is
	// re-read to notice silent leaves (staggered across groups, paced).
	MemberRefresh Duration `yaml:"member_refresh"`
	// MediaDownload saves pictures, voice messages, videos and file
	// attachments sent in managed groups under <data_dir>/media, so that
	// exports include them.
	MediaDownload bool `yaml:"media_download"`
	// MediaMaxSize skips attachments larger than this.
	MediaMaxSize ByteSize `yaml:"media_max_size"`
}

// StoreConfig configures the store.
type StoreConfig struct {
	BatchSize  int      `yaml:"batch_size"`
	BatchDelay Duration `yaml:"batch_delay"`
	BackupKeep int      `yaml:"backup_keep"`
	// BackupCron is when the daily backup runs.
	BackupCron string `yaml:"backup_cron"`
	// Retention purges message bodies older than this (0 keeps them forever).
	Retention Duration `yaml:"retention"`
}

// SchedulerConfig configures timers.
type SchedulerConfig struct {
	// MissedGrace: a timer due less than this before start still counts as
	// on time (start-up takes a moment).
	MissedGrace Duration `yaml:"missed_grace"`
}

// ConfirmConfig configures one-time confirmation codes.
type ConfirmConfig struct {
	TTL Duration `yaml:"ttl"`
}

// TasksConfig configures operator tasks.
type TasksConfig struct {
	// Expire closes open tasks as expired after this long.
	Expire Duration `yaml:"expire"`
	// RemindAfter re-alerts operators about tasks open this long.
	RemindAfter Duration `yaml:"remind_after"`
}

// AlertsConfig configures where alerts go besides operator DMs.
type AlertsConfig struct {
	// WebhookURL receives a JSON POST per alert; use ${ENV_VAR} for tokens.
	WebhookURL string `yaml:"webhook_url"`
	// WebhookFormat is "json" (generic), "wecom", "dingtalk" or "feishu".
	WebhookFormat string `yaml:"webhook_format"`
	// WebhookAlways also posts alerts while operators can be DMed.
	WebhookAlways bool `yaml:"webhook_always"`
	// RepeatAfter is how long the same alert (the same spam wave, the same
	// lost group) stays quiet after it was raised.
	RepeatAfter Duration `yaml:"repeat_after"`
}

// GroupEntry selects groups by exact name or glob pattern and overrides
// settings for them. The first matching entry applies.
type GroupEntry struct {
	Name    string `yaml:"name"`
	Pattern string `yaml:"pattern"`
	// Language overrides the reply language for these groups.
	Language Lang `yaml:"language"`
	// Retention overrides store.retention for these groups.
	Retention *Duration            `yaml:"retention"`
	Plugins   map[string]yaml.Node `yaml:"plugins"`
}

// Matches reports whether the entry selects a group named name.
func (e GroupEntry) Matches(name string) bool {
	if e.Name != "" {
		return FoldWidth(e.Name) == FoldWidth(name)
	}
	return globMatch(FoldWidth(e.Pattern), FoldWidth(name))
}

// globMatch matches * (any run) and ? (one rune) against s.
func globMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	var pi, ti, star, mark = 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// DefaultConfig returns the built-in defaults, which a config file overrides.
func DefaultConfig() *Config {
	return &Config{
		Language:        LangZH,
		Timezone:        "Asia/Shanghai",
		Platform:        "wechat",
		DataDir:         "data",
		CommandPrefixes: []string{"/", "#"},
		Wechat:          WechatConfig{Mode: "desktop", QRCodePNG: true, MemberRefresh: Duration(10 * time.Minute), MediaDownload: true, MediaMaxSize: 50 << 20},
		Pacer:           DefaultPacerConfig(),
		Store:           StoreConfig{BatchSize: 256, BatchDelay: Duration(20 * time.Millisecond), BackupKeep: 7, BackupCron: "30 4 * * *"},
		Scheduler:       SchedulerConfig{MissedGrace: Duration(2 * time.Minute)},
		Confirm:         ConfirmConfig{TTL: Duration(30 * time.Minute)},
		Tasks:           TasksConfig{Expire: Duration(7 * 24 * time.Hour), RemindAfter: Duration(24 * time.Hour)},
		Alerts:          AlertsConfig{WebhookFormat: "json", RepeatAfter: Duration(30 * time.Minute)},
	}
}

// ConfigError is a refused config: file, line and reason.
type ConfigError struct {
	File string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// FieldError is a validation error for a config field, by dotted path
// relative to the section being validated; the loader turns it into a
// ConfigError with the line of that field.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// Validator is implemented by config structs (and plugins) that check
// themselves.
type Validator interface{ Validate() error }

// ConfigDirUser is implemented by plugin config structs that name files
// relative to the config file (word lists): the loader tells them the
// config file's directory before Validate, so a missing or broken file is
// refused with the config's file and line like any other mistake.
type ConfigDirUser interface{ SetConfigDir(dir string) }

// Configurable plugins own a config section under plugins.<name>, and
// per-group overrides under groups[].plugins.<name>. DefaultConfig returns
// a new pointer to the plugin's config struct filled with its defaults.
type Configurable interface {
	DefaultConfig() any
}

// GlobalOnly is implemented by plugin config structs some of whose keys
// apply to all groups at once (a cron job, a folder, a total), so that a
// groups[].plugins.<name> override of them would be silently ignored; the
// loader refuses such an override with its line instead. GlobalOnlyKeys
// returns those keys as dotted paths in the plugin's section
// ("daily_cron"), or "*" when no key can be set per group.
type GlobalOnly interface{ GlobalOnlyKeys() []string }

// LoadConfig reads and validates the config file at path for the given
// plugins. Any problem is a *ConfigError naming the file and line.
func LoadConfig(path string, plugins []Plugin) (*Config, error) {
	return loadConfig(path, plugins, false)
}

// LoadConfigOffline is LoadConfig for the offline maintenance commands
// (db, audit verify, stats, export), which send nothing and so need no
// secrets: a ${VAR} that is not set in their shell (a webhook token that
// only the bot's service has) is left empty and named in UnsetEnv instead
// of refusing the file. data_dir is the exception, since these commands
// need it to find their files. The bot itself and check-config use
// LoadConfig, which refuses any unset ${VAR}.
func LoadConfigOffline(path string, plugins []Plugin) (*Config, error) {
	return loadConfig(path, plugins, true)
}

func loadConfig(path string, plugins []Plugin, offline bool) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{File: path, Msg: err.Error()}
	}
	return parseConfig(path, raw, plugins, offline)
}

// yamlLineRE matches the "line N: " yaml.v3 puts before its messages.
var yamlLineRE = regexp.MustCompile(`^line (\d+): `)

// splitYAMLErr splits a yaml.v3 message into its line (0 if none) and the
// message without the "yaml: " and "line N: " prefixes.
func splitYAMLErr(msg string) (int, string) {
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, msg[len(m[0]):]
	}
	return 0, msg
}

// syntaxErr turns a YAML syntax error into file:line: reason in plain
// words. yaml.v3 often names the line where the enclosing block started
// rather than the bad one (a mis-indented key three lines into a section
// is reported on the section's first line), so the line is found again:
// it is the last line whose addition turns a file that parses into one
// that fails with the same problem. Lines that only open something that
// continues below (a [ list over several lines) fail with a different
// problem and are passed over.
func syntaxErr(file string, raw []byte, err error) *ConfigError {
	yline, problem := splitYAMLErr(err.Error())
	line := 0
	lines := bytes.SplitAfter(raw, []byte("\n"))
	prevOK := true // the empty prefix parses
	size := 0
	for k, l := range lines {
		size += len(l)
		var n yaml.Node
		perr := yaml.Unmarshal(raw[:size], &n)
		if perr == nil {
			prevOK = true
			continue
		}
		if _, p := splitYAMLErr(perr.Error()); prevOK && p == problem {
			line = k + 1
		}
		prevOK = false
	}
	if line == 0 {
		line = yline
	}
	text := ""
	if line > 0 && line <= len(lines) {
		text = string(lines[line-1])
	}
	return &ConfigError{File: file, Line: line, Msg: plainSyntax(problem, text)}
}

// plainSyntax says a YAML syntax problem in plain words; text is the line
// it was found on.
func plainSyntax(problem, text string) string {
	indent := strings.TrimRight(text[:len(text)-len(strings.TrimLeft(text, " \t"))], "\n")
	switch {
	case strings.Contains(indent, "\t") || strings.Contains(problem, "tab character"):
		return "a tab indents this line; YAML is indented with spaces only"
	case problem == "did not find expected key":
		return "the indentation of this line does not match the lines above it"
	case problem == "did not find expected '-' indicator":
		return `the indentation of this line does not match the list items ("- ...") above it`
	case problem == "mapping values are not allowed in this context":
		return `unexpected ":" here: either the indentation is off, or a value contains ": " and must be quoted`
	case problem == "block sequence entries are not allowed in this context":
		return `unexpected list item ("- ") here: put the list on its own lines, indented under its key`
	case problem == "could not find expected ':'":
		return `a key without ":" (write key: value)`
	case problem == "did not find expected ',' or ']'":
		return `a list opened with "[" is not closed with "]" (or its items are not separated by commas)`
	case problem == "did not find expected ',' or '}'":
		return `a mapping opened with "{" is not closed with "}" (or its entries are not separated by commas)`
	case problem == "found unexpected end of stream":
		return "a quote opened on this line is not closed"
	case problem == "found unknown escape character":
		return `unknown escape (\ and a letter) in a double-quoted value: use single quotes, or write \\ for a backslash`
	case problem == "found character that cannot start any token":
		return "a value starts with a character YAML reserves (such as @ or `): quote the value"
	case strings.HasPrefix(problem, "unknown anchor"):
		return problem + " (an alias *name needs an anchor &name above it)"
	case problem == "did not find expected node content":
		return "a value is missing here"
	}
	return problem
}

// unmarshalRE matches yaml.v3's type errors: cannot unmarshal !!str `lots`
// into int.
var unmarshalRE = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")

// quotedRE matches a Go-quoted string in an error message.
var quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// decodeErr turns an error from decoding node n (at path below the root)
// into file:line: path: reason. checkKeys catches most mistakes before
// decoding; this renders the rest: values a custom type refused (a bad
// duration), and type errors checkKeys let through (a number too large).
func decodeErr(file string, n *yaml.Node, path string, err error) *ConfigError {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	line, msg := splitYAMLErr(msg)
	if line == 0 {
		return &ConfigError{File: file, Msg: msg}
	}
	tag, value, into := "", "", ""
	if m := unmarshalRE.FindStringSubmatch(msg); m != nil {
		tag, value, into = m[1], strings.TrimSuffix(m[2], "..."), m[3]
	}
	var p string
	var v *yaml.Node
	if tag == "" {
		// A custom type's error quotes the value it refused, which tells
		// it apart from others on the same line ({burst: 2, interval: soon}).
		if q := quotedRE.FindString(msg); q != "" {
			if uq, err := strconv.Unquote(q); err == nil {
				p, v = nodeOnLine(n, path, line, "!!str", uq)
			}
		}
	}
	if v == nil {
		p, v = nodeOnLine(n, path, line, tag, value)
	}
	if v == nil {
		return &ConfigError{File: file, Line: line, Msg: msg}
	}
	if into != "" {
		msg = describeTypeError(v, into)
	}
	return &ConfigError{File: file, Line: line, Msg: describePath(p) + ": " + msg}
}

// describeTypeError says why value v cannot be a Go value of type into.
func describeTypeError(v *yaml.Node, into string) string {
	switch {
	case strings.HasPrefix(into, "[]"):
		return `must be a list ([a, b], or one "- item" per line), not ` + describeNode(v)
	case strings.HasPrefix(into, "map["):
		return "must be a mapping (key: value lines), not " + describeNode(v)
	case v.Kind != yaml.ScalarNode:
		return "must be a single value, not " + describeNode(v)
	case into == "bool":
		return fmt.Sprintf("%q is not true or false", v.Value)
	case strings.HasPrefix(into, "float"):
		return fmt.Sprintf("%q is not a number", v.Value)
	case strings.HasPrefix(into, "int") || strings.HasPrefix(into, "uint"):
		if tag := v.ShortTag(); tag == "!!int" || tag == "!!float" {
			return fmt.Sprintf("%q is too large", v.Value)
		}
		return fmt.Sprintf("%q is not a whole number", v.Value)
	}
	return fmt.Sprintf("%q cannot be read as %s", v.Value, into)
}

// nodeOnLine finds the value on line below n (at path) that an error
// message names: of the kind tag says (!!map, !!seq, or a scalar) and
// starting with value, when those are known. It returns its dotted path
// and the node, or nil when no value on that line fits.
func nodeOnLine(n *yaml.Node, path string, line int, tag, value string) (string, *yaml.Node) {
	fits := func(v *yaml.Node) bool {
		if v.Line != line {
			return false
		}
		switch tag {
		case "":
			return v.Kind == yaml.ScalarNode
		case "!!map":
			return v.Kind == yaml.MappingNode
		case "!!seq":
			return v.Kind == yaml.SequenceNode
		}
		return v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, value)
	}
	var walk func(n *yaml.Node, path string) (string, *yaml.Node)
	walk = func(n *yaml.Node, path string) (string, *yaml.Node) {
		if fits(n) {
			return path, n
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if p, v := walk(c, path); v != nil {
					return p, v
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if p, v := walk(n.Content[i+1], joinPath(path, n.Content[i].Value)); v != nil {
					return p, v
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if p, v := walk(c, fmt.Sprintf("%s[%d]", path, i)); v != nil {
					return p, v
				}
			}
		}
		return "", nil
	}
	return walk(n, path)
}

// ParseConfig parses and validates config text; file names it in errors.
func ParseConfig(file string, raw []byte, plugins []Plugin) (*Config, error) {
	return parseConfig(file, raw, plugins, false)
}

func parseConfig(file string, raw []byte, plugins []Plugin, offline bool) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, syntaxErr(file, raw, err)
	}
	cfg := DefaultConfig()
	cfg.Path, cfg.Raw = file, raw
	if len(doc.Content) == 0 {
		return nil, &ConfigError{File: file, Msg: "the file is empty"}
	}
	root := doc.Content[0]
	var unset []unsetVar
	expandEnv(root, "", &unset)
	for _, u := range unset {
		if !offline || u.path == "data_dir" {
			return nil, &ConfigError{File: file, Line: u.line, Msg: fmt.Sprintf("%s: environment variable %s is not set", u.path, u.name)}
		}
		cfg.UnsetEnv = append(cfg.UnsetEnv, (&ConfigError{File: file, Line: u.line,
			Msg: fmt.Sprintf("%s: environment variable %s is not set; left empty", u.path, u.name)}).Error())
	}
	err := parseRoot(cfg, root, plugins)
	var ce *ConfigError
	if errors.As(err, &ce) {
		// A value that is wrong because a variable was left empty says so.
		for _, u := range unset {
			if u.line == ce.Line {
				ce.Msg += fmt.Sprintf(" (environment variable %s is not set)", u.name)
				break
			}
		}
		return nil, ce
	}
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseRoot checks, decodes and validates the document's root mapping into cfg.
func parseRoot(cfg *Config, root *yaml.Node, plugins []Plugin) error {
	if err := checkKeys(root, reflect.TypeOf(cfg).Elem(), ""); err != nil {
		return &ConfigError{File: cfg.Path, Line: err.line, Msg: err.msg}
	}
	if err := root.Decode(cfg); err != nil {
		return decodeErr(cfg.Path, root, "", err)
	}
	cfg.root = root
	if err := cfg.validate(plugins); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return ce
		}
		return &ConfigError{File: cfg.Path, Msg: err.Error()}
	}
	return nil
}

type nodeErr struct {
	line int
	msg  string
}

var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// unsetVar is a ${NAME} whose variable is not set, and where.
type unsetVar struct {
	name, path string
	line       int
}

// expandEnv replaces ${NAME} in string scalars below n (at path) with the
// environment variable, so secrets (webhook tokens) need not be written in
// the file. Variables that are not set become empty and are added to
// unset, in file order.
func expandEnv(n *yaml.Node, path string, unset *[]unsetVar) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		n.Value = envRE.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := envRE.FindStringSubmatch(m)[1]
			v, ok := os.LookupEnv(name)
			if !ok {
				*unset = append(*unset, unsetVar{name: name, path: describePath(path), line: n.Line})
			}
			return v
		})
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			expandEnv(n.Content[i+1], joinPath(path, n.Content[i].Value), unset)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			expandEnv(c, fmt.Sprintf("%s[%d]", path, i), unset)
		}
	}
}

var (
	nodeType            = reflect.TypeOf(yaml.Node{})
	durationType        = reflect.TypeOf(time.Duration(0))
	unmarshalerType     = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// checkKeys reports the first mistake in n for a value of type t at path:
// a mapping key t has no field for, a key given twice, or a value of the
// wrong kind ("lots" for a number, "maybe" for true or false), each with
// its line and dotted path. yaml.v3 only checks unknown keys when decoding
// a whole document with KnownFields, which loses the lines of nested
// plugin sections, and says "cannot unmarshal !!str into int" without the
// key, so the check walks the node tree itself before decoding.
func checkKeys(n *yaml.Node, t reflect.Type, path string) *nodeErr {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nodeType || t == durationType || reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil // the zero value
	}
	at := func(msg string) *nodeErr {
		return &nodeErr{line: n.Line, msg: describePath(path) + ": " + msg}
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return at("must be a mapping (key: value lines), not " + describeNode(n))
		}
		fields := yamlFields(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				return &nodeErr{line: k.Line, msg: fmt.Sprintf("unknown key %q in %s", k.Value, describePath(path))}
			}
			if err := checkDuplicate(seen, k, path); err != nil {
				return err
			}
			if err := checkKeys(v, f, joinPath(path, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return at("must be a mapping (key: value lines), not " + describeNode(n))
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkDuplicate(seen, n.Content[i], path); err != nil {
				return err
			}
			if err := checkKeys(n.Content[i+1], t.Elem(), joinPath(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return at(`must be a list ([a, b], or one "- item" per line), not ` + describeNode(n))
		}
		for i, c := range n.Content {
			if err := checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind != yaml.ScalarNode {
			return at("must be a single value, not " + describeNode(n))
		}
		if msg := checkScalar(n, t); msg != "" {
			return at(msg)
		}
	}
	return nil
}

// checkDuplicate reports a mapping key given twice, which yaml.v3 refuses
// without saying where.
func checkDuplicate(seen map[string]int, k *yaml.Node, path string) *nodeErr {
	if first, ok := seen[k.Value]; ok {
		return &nodeErr{line: k.Line, msg: fmt.Sprintf("%s: given twice (first on line %d)", joinPath(path, k.Value), first)}
	}
	seen[k.Value] = k.Line
	return nil
}

// yamlBoolWords are the YAML 1.1 spellings yaml.v3 still reads into a bool.
var yamlBoolWords = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true, "off": true, "Off": true, "OFF": true,
}

// checkScalar says what is wrong with scalar n as a value of basic type t,
// or "". It refuses what yaml.v3 would refuse, and also a fraction for a
// whole number (yaml.v3 would cut 2.5 to 2 without a word); what it lets
// through, such as a number too large for its field, yaml.v3 still
// refuses when decoding.
func checkScalar(n *yaml.Node, t reflect.Type) string {
	tag := n.ShortTag()
	switch t.Kind() {
	case reflect.Bool:
		if tag == "!!bool" || tag == "!!str" && yamlBoolWords[n.Value] {
			return ""
		}
		return fmt.Sprintf("%q is not true or false", n.Value)
	case reflect.Float32, reflect.Float64:
		if tag == "!!int" || tag == "!!float" {
			return ""
		}
		return fmt.Sprintf("%q is not a number", n.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		switch tag {
		case "!!int":
			if t.Kind() >= reflect.Uint && strings.HasPrefix(n.Value, "-") {
				return fmt.Sprintf("%q must not be negative", n.Value)
			}
			return ""
		case "!!float":
			var f float64
			if err := n.Decode(&f); err == nil && f != math.Trunc(f) {
				return fmt.Sprintf("%q is not a whole number", n.Value)
			}
			return ""
		}
		return fmt.Sprintf("%q is not a whole number", n.Value)
	}
	return ""
}

// describeNode names what a node holds, for "must be a list, not ...".
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func describePath(p string) string {
	if p == "" {
		return "the top level"
	}
	return p
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// findNode walks a dotted path ("groups[1].plugins.welcome.window") below
// n. It returns the node at the path and true, or the deepest node it
// reached and false.
func findNode(n *yaml.Node, path string) (*yaml.Node, bool) {
	if n == nil || path == "" {
		return n, n != nil
	}
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		if name != "" {
			if n.Kind != yaml.MappingNode {
				return n, false
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == name {
					n, found = n.Content[i+1], true
					break
				}
			}
			if !found {
				return n, false
			}
		}
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return n, false
			}
			n = n.Content[idx]
		}
	}
	return n, true
}

// nodeAt returns the node at path, or the deepest node on the way to it
// (so an error about a missing key points at its parent's line).
func nodeAt(n *yaml.Node, path string) *yaml.Node {
	m, _ := findNode(n, path)
	return m
}

// nodeIsAt reports whether the full path exists.
func nodeIsAt(root *yaml.Node, path string) bool {
	_, ok := findNode(root, path)
	return ok
}

func (c *Config) errAt(path, msg string) error {
	line := 0
	if n := nodeAt(c.root, path); n != nil {
		line = n.Line
	}
	return &ConfigError{File: c.Path, Line: line, Msg: fmt.Sprintf("%s: %s", path, msg)}
}

// fieldErr converts err from a validator of the section at base.
func (c *Config) fieldErr(base string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		p := base
		if fe.Path != "" {
			p = joinPath(base, fe.Path)
		}
		return c.errAt(p, fe.Msg)
	}
	return c.errAt(base, err.Error())
}

func (c *Config) validate(plugins []Plugin) error {
	if !c.Language.Valid() {
		return c.errAt("language", fmt.Sprintf("%q is not zh or en", c.Language))
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return c.errAt("timezone", fmt.Sprintf("unknown time zone %q", c.Timezone))
	}
	c.Location = loc
	if c.Platform != "wechat" && c.Platform != "sim" {
		return c.errAt("platform", fmt.Sprintf("%q is not wechat or sim", c.Platform))
	}
	if c.Wechat.Mode != "desktop" && c.Wechat.Mode != "normal" {
		return c.errAt("wechat.mode", fmt.Sprintf("%q is not desktop or normal", c.Wechat.Mode))
	}
	if len(c.CommandPrefixes) == 0 {
		return c.errAt("command_prefixes", "at least one prefix is needed")
	}
	for i, p := range c.CommandPrefixes {
		if p == "" || len([]rune(p)) != 1 {
			return c.errAt(fmt.Sprintf("command_prefixes[%d]", i), fmt.Sprintf("%q must be a single character", p))
		}
		c.CommandPrefixes[i] = FoldWidth(p)
	}
	c.operators = map[string]bool{}
	for i, op := range c.Operators {
		op = strings.TrimSpace(op)
		if op == "" {
			return c.errAt(fmt.Sprintf("operators[%d]", i), "empty remark name")
		}
		c.operators[op] = true
	}
	if len(c.operators) == 0 {
		w := &ConfigError{File: c.Path, Msg: "operators: none are listed, so nobody can use operator commands or /confirm (/确认) an action; " +
			"list the remark names you gave the operators on the bot's phone"}
		if n, ok := findNode(c.root, "operators"); ok {
			w.Line = n.Line
		}
		c.Warnings = append(c.Warnings, w.Error())
	}
	if err := c.Pacer.Validate(); err != nil {
		return c.fieldErr("", err)
	}
	if c.Wechat.MediaMaxSize < 1 {
		return c.errAt("wechat.media_max_size", "must be positive (turn downloads off with media_download: false)")
	}
	if c.Store.BatchSize < 1 || c.Store.BatchDelay <= 0 || c.Store.BackupKeep < 1 {
		return c.errAt("store", "batch_size, batch_delay and backup_keep must be positive")
	}
	if _, err := ParseCron(c.Store.BackupCron); err != nil {
		return c.errAt("store.backup_cron", err.Error())
	}
	if c.Confirm.TTL < Duration(time.Minute) {
		return c.errAt("confirm.ttl", "must be at least 1m")
	}
	switch c.Alerts.WebhookFormat {
	case "json", "wecom", "dingtalk", "feishu":
	default:
		return c.errAt("alerts.webhook_format", fmt.Sprintf("%q is not json, wecom, dingtalk or feishu", c.Alerts.WebhookFormat))
	}
	if c.Alerts.RepeatAfter < Duration(time.Minute) {
		return c.errAt("alerts.repeat_after", "must be at least 1m")
	}
	if u := c.Alerts.WebhookURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return c.errAt("alerts.webhook_url", "must be an http:// or https:// URL")
	}
	if c.MetricsListen != "" {
		if err := CheckLoopback(c.MetricsListen); err != nil {
			return c.errAt("metrics_listen", err.Error())
		}
	}
	for i, g := range c.Groups {
		p := fmt.Sprintf("groups[%d]", i)
		if (g.Name == "") == (g.Pattern == "") {
			return c.errAt(p, "give exactly one of name or pattern")
		}
		if g.Language != "" && !g.Language.Valid() {
			return c.errAt(p+".language", fmt.Sprintf("%q is not zh or en", g.Language))
		}
	}
	for key := range c.Texts {
		if !strings.Contains(key, ".") {
			return c.errAt("texts."+key, "text keys look like plugin.key")
		}
	}

	byName := map[string]Plugin{}
	for _, p := range plugins {
		byName[p.Name()] = p
	}
	if nodeIsAt(c.root, "plugins") {
		pn := nodeAt(c.root, "plugins")
		for i := 0; i+1 < len(pn.Content); i += 2 {
			name := pn.Content[i]
			if _, ok := byName[name.Value]; !ok {
				return &ConfigError{File: c.Path, Line: name.Line, Msg: fmt.Sprintf("plugins: no plugin named %q", name.Value)}
			}
		}
	}
	c.pluginCfg = map[string][]any{}
	for _, p := range plugins {
		cp, ok := p.(Configurable)
		if !ok {
			continue
		}
		name := p.Name()
		global, err := c.decodePlugin(cp, "plugins."+name, nil)
		if err != nil {
			return err
		}
		list := []any{global}
		for i, g := range c.Groups {
			path := fmt.Sprintf("groups[%d].plugins.%s", i, name)
			v := global
			if _, has := g.Plugins[name]; has {
				if err := c.checkGlobalOnly(global, name, path); err != nil {
					return err
				}
				v, err = c.decodePlugin(cp, "plugins."+name, &path)
				if err != nil {
					return err
				}
			}
			list = append(list, v)
		}
		c.pluginCfg[name] = list
	}
	for i, g := range c.Groups {
		for name := range g.Plugins {
			if _, ok := byName[name]; !ok {
				return c.errAt(fmt.Sprintf("groups[%d].plugins.%s", i, name), fmt.Sprintf("no plugin named %q", name))
			}
		}
	}
	return nil
}

// checkGlobalOnly refuses keys of a group's override (at path) of plugin
// name that its config declares global only: they would be ignored.
func (c *Config) checkGlobalOnly(cfg any, name, path string) error {
	g, ok := cfg.(GlobalOnly)
	if !ok {
		return nil
	}
	for _, key := range g.GlobalOnlyKeys() {
		if key == "*" {
			return &ConfigError{File: c.Path, Line: c.keyLine(path),
				Msg: fmt.Sprintf("%s: the %s plugin cannot be configured per group; configure it under plugins.%s", path, name, name)}
		}
		if p := joinPath(path, key); nodeIsAt(c.root, p) {
			return &ConfigError{File: c.Path, Line: c.keyLine(p),
				Msg: fmt.Sprintf("%s: cannot be set per group, it applies to all groups; set it under plugins.%s.%s", p, name, key)}
		}
	}
	return nil
}

// keyLine returns the line of the key at the end of a dotted path, or of
// the deepest node on the way to it.
func (c *Config) keyLine(path string) int {
	parent, key := "", path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent, key = path[:i], path[i+1:]
	}
	if n, ok := findNode(c.root, parent); ok && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i].Line
			}
		}
	}
	if n := nodeAt(c.root, path); n != nil {
		return n.Line
	}
	return 0
}

// decodePlugin builds a plugin's config: defaults, then the global section,
// then the group override at groupPath (if any), then validates it.
func (c *Config) decodePlugin(cp Configurable, globalPath string, groupPath *string) (any, error) {
	v := cp.DefaultConfig()
	layers := []string{globalPath}
	if groupPath != nil {
		layers = append(layers, *groupPath)
	}
	for _, path := range layers {
		if !nodeIsAt(c.root, path) {
			continue
		}
		n := nodeAt(c.root, path)
		if err := checkKeys(n, reflect.TypeOf(v), path); err != nil {
			return nil, &ConfigError{File: c.Path, Line: err.line, Msg: err.msg}
		}
		if err := n.Decode(v); err != nil {
			return nil, decodeErr(c.Path, n, path, err)
		}
	}
	if d, ok := v.(ConfigDirUser); ok {
		d.SetConfigDir(filepath.Dir(c.Path))
	}
	if val, ok := v.(Validator); ok {
		base := globalPath
		if groupPath != nil {
			base = *groupPath
		}
		if err := val.Validate(); err != nil {
			return nil, c.fieldErr(base, err)
		}
	}
	return v, nil
}

// DataPath is DataDir resolved against the config file's folder when it
// is relative, so the bot finds its data wherever it is started from.
func (c *Config) DataPath() string {
	d := c.DataDir
	if !filepath.IsAbs(d) && c.Path != "" {
		d = filepath.Join(filepath.Dir(c.Path), d)
	}
	return d
}

// MediaDirName is the folder of the data dir that platforms save
// downloaded attachments in; retention deletes files only inside it.
const MediaDirName = "media"

// MediaDir returns the media folder of a data dir.
func MediaDir(dataDir string) string { return filepath.Join(dataDir, MediaDirName) }

// CheckLoopback accepts a host:port whose host is a loopback address
// (127.0.0.0/8, ::1 or localhost): metrics stay on the machine, and a
// reverse proxy or an SSH tunnel reaches them from elsewhere.
func CheckLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:9464)", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q has no valid port", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q is not a loopback address; serve metrics on 127.0.0.1 and put a reverse proxy or an SSH tunnel in front to reach them from elsewhere", addr)
}

// EntryFor returns the index of the first group entry matching name, or -1.
func (c *Config) EntryFor(name string) int {
	for i, g := range c.Groups {
		if g.Matches(name) {
			return i
		}
	}
	return -1
}

// Manages reports whether a group with this name is managed.
func (c *Config) Manages(name string) bool {
	return c.ManageAllGroups || c.EntryFor(name) >= 0
}

// PluginConfig returns the plugin's effective config for a group named
// groupName ("" for the global section), or nil if the plugin has none.
func (c *Config) PluginConfig(plugin, groupName string) any {
	list := c.pluginCfg[plugin]
	if len(list) == 0 {
		return nil
	}
	if groupName != "" {
		if i := c.EntryFor(groupName); i >= 0 {
			return list[i+1]
		}
	}
	return list[0]
}

// LangFor returns the reply language for a group named groupName.
func (c *Config) LangFor(groupName string) Lang {
	if groupName != "" {
		if i := c.EntryFor(groupName); i >= 0 && c.Groups[i].Language != "" {
			return c.Groups[i].Language
		}
	}
	return c.Language
}

// RetentionFor returns the body retention for a group (0: keep forever).
func (c *Config) RetentionFor(groupName string) time.Duration {
	if i := c.EntryFor(groupName); i >= 0 && c.Groups[i].Retention != nil {
		return c.Groups[i].Retention.D()
	}
	return c.Store.Retention.D()
}

// IsOperator reports whether a remark name is a configured operator.
func (c *Config) IsOperator(remark string) bool {
	return remark != "" && c.operators[strings.TrimSpace(remark)]
}

// Redacted returns the config text as written, which keeps secrets as
// ${VAR} placeholders, for archive snapshots. Literal webhook URLs are
// masked.
func (c *Config) Redacted() []byte {
	out := c.Raw
	if u := c.Alerts.WebhookURL; u != "" && bytes.Contains(out, []byte(u)) {
		out = bytes.ReplaceAll(out, []byte(u), []byte("<redacted>"))
	}
	return out
}
