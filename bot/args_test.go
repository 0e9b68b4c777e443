package bot

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"3d 课程结束", []string{"3d", "课程结束"}, false},
		{"  a\u3000b\tc ", []string{"a", "b", "c"}, false},
		{`"hello world" x`, []string{"hello world", "x"}, false},
		{`“课程 结束” 提前`, []string{"课程 结束", "提前"}, false},
		{`「群规 第一条」`, []string{"群规 第一条"}, false},
		{`'single q'`, []string{"single q"}, false},
		{`"esc \"q\""`, []string{`esc "q"`}, false},
		{`a"b c"d`, []string{"ab cd"}, false},
		{`""`, []string{""}, false},
		{`"unterminated`, nil, true},
		{`“中文未闭合`, nil, true},
	}
	for _, tt := range tests {
		got, err := Tokenize(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("Tokenize(%q) err = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrUsage) {
				t.Errorf("Tokenize(%q) error %v is not ErrUsage", tt.in, err)
			}
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("Tokenize(%q) (-want +got):\n%s", tt.in, d)
		}
	}
}

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"3d", 3 * day, false},
		{"72h", 72 * time.Hour, false},
		{"1w", 7 * day, false},
		{"1w2d", 9 * day, false},
		{"2h30m", 150 * time.Minute, false},
		{"90s", 90 * time.Second, false},
		{"1500ms", 1500 * time.Millisecond, false},
		{"10min", 10 * time.Minute, false},
		{"3天", 3 * day, false},
		{"3日", 3 * day, false},
		{"2小时", 2 * time.Hour, false},
		{"2个小时", 2 * time.Hour, false},
		{"1周", 7 * day, false},
		{"2个星期", 14 * day, false},
		{"30分钟", 30 * time.Minute, false},
		{"三天", 3 * day, false},
		{"十二小时", 12 * time.Hour, false},
		{"两周", 14 * day, false},
		{"二十五分钟", 25 * time.Minute, false},
		{"1天12小时", 36 * time.Hour, false},
		{"半小时", 30 * time.Minute, false},
		{"１２ｈ", 12 * time.Hour, false}, // full-width
		{"1.5h", 90 * time.Minute, false},
		{"3D", 3 * day, false},
		{"3 天", 3 * day, false},
		{"2 h 30 m", 150 * time.Minute, false},
		{"3 seconds", 0, true},
		{"2hours", 0, true},
		{"5mins", 0, true},
		{"3", 0, true},
		{"", 0, true},
		{"d", 0, true},
		{"3x", 0, true},
		{"0d", 0, true},
		{"明天", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseDuration(%q) = %v, %v; want error %v", tt.in, got, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// A refused duration says what was wrong and which units there are.
func TestParseDurationErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"3 seconds", `duration "3 seconds": "seconds" is not a unit; write it like 3s, 2m, 1h, 3d, 1w or 3天`},
		{"2hours", `duration "2hours": "hours" is not a unit; write it like 3s`},
		{"3", `duration "3" needs a unit: write it like 3s, 2m, 1h, 3d, 1w or 3天 (units s, m, h, d, w, ms or 秒, 分钟, 小时, 天, 周)`},
		{"soon", `duration "soon" needs a number and a unit, like 3d or 3天`},
	} {
		_, err := ParseDuration(tt.in)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseDuration(%q): %v, want %q...", tt.in, err, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		lang Lang
		want string
	}{
		{74 * time.Hour, LangZH, "3天2小时"},
		{74 * time.Hour, LangEN, "3d2h"},
		{10 * time.Minute, LangZH, "10分钟"},
		{30 * time.Second, LangZH, "30秒"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d, tt.lang); got != tt.want {
			t.Errorf("FormatDuration(%v, %s) = %q, want %q", tt.d, tt.lang, got, tt.want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	spec := []Arg{
		{Name: "duration", Kind: ArgDuration},
		{Name: "reason", Kind: ArgRest, Optional: true},
	}
	v, err := parseArgs(spec, []string{"3天", "课程", "结束"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Duration("duration") != 72*time.Hour || v.String("reason") != "课程 结束" {
		t.Errorf("got %v", v)
	}
	if _, err := parseArgs(spec, nil); !errors.Is(err, ErrUsage) {
		t.Errorf("missing duration: err = %v, want ErrUsage", err)
	}
	if _, err := parseArgs(spec, []string{"soon"}); !errors.Is(err, ErrUsage) {
		t.Errorf("bad duration: err = %v, want ErrUsage", err)
	}
	choice := []Arg{{Name: "state", Kind: ArgString, Choices: []string{"on", "off"}}}
	if v, err := parseArgs(choice, []string{"ＯＮ"}); err != nil || v.String("state") != "on" {
		t.Errorf("choice folding: %v %v", v, err)
	}
	for in, want := range map[string]string{"开": "on", "开启": "on", "关": "off", "关闭": "off"} {
		if v, err := parseArgs(choice, []string{in}); err != nil || v.String("state") != want {
			t.Errorf("choice synonym %q: %v %v, want %s", in, v, err, want)
		}
	}
	if _, err := parseArgs([]Arg{{Name: "x", Kind: ArgString, Choices: []string{"a", "b"}}}, []string{"开"}); !errors.Is(err, ErrUsage) {
		t.Errorf("a synonym of a choice the command does not have was accepted: %v", err)
	}
	if _, err := parseArgs(choice, []string{"maybe"}); !errors.Is(err, ErrUsage) {
		t.Errorf("bad choice: err = %v", err)
	}
	if _, err := parseArgs(choice, []string{"on", "extra"}); !errors.Is(err, ErrUsage) {
		t.Errorf("extra arg: err = %v", err)
	}
	num := []Arg{{Name: "n", Kind: ArgInt}}
	if v, err := parseArgs(num, []string{"４２"}); err != nil || v.Int("n") != 42 {
		t.Errorf("int: %v %v", v, err)
	}
}

func TestRouterSplit(t *testing.T) {
	r := newRouter()
	prefixes := []string{"/", "#"}
	tests := []struct {
		in         string
		word, rest string
		prefix     string
		ok         bool
	}{
		{"/help", "help", "", "/", true},
		{"／帮助", "帮助", "", "/", true},
		{"＃countdown 3d", "countdown", " 3d", "#", true},
		{"  /countdown　3天 原因", "countdown", "　3天 原因", "/", true},
		{"hello /help", "", "", "", false},
		{"/", "", "", "", false},
		{"", "", "", "", false},
	}
	for _, tt := range tests {
		p, w, rest, ok := r.split(tt.in, prefixes)
		if ok != tt.ok || w != tt.word || rest != tt.rest || p != tt.prefix {
			t.Errorf("split(%q) = %q %q %q %v, want %q %q %q %v", tt.in, p, w, rest, ok, tt.prefix, tt.word, tt.rest, tt.ok)
		}
	}
}

func TestExtractGroupFlag(t *testing.T) {
	tests := []struct {
		in   []string
		rest []string
		name string
	}{
		{[]string{"@技术群", "3d"}, []string{"3d"}, "技术群"},
		{[]string{"3d", "--group", "技术 群"}, []string{"3d"}, "技术 群"},
		{[]string{"--group=读书会", "status"}, []string{"status"}, "读书会"},
		{[]string{"-g", "读书会"}, []string{}, "读书会"},
		{[]string{"add", "@技术群", "小A"}, []string{"add", "小A"}, "技术群"},
		{[]string{"@技术群", "@小A"}, []string{"@小A"}, "技术群"},
	}
	for _, tt := range tests {
		rest, name, err := extractGroupFlag(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if name != tt.name || !cmp.Equal(rest, tt.rest, cmp.Comparer(func(a, b []string) bool { return len(a) == len(b) && (len(a) == 0 || cmp.Equal(a, b)) })) {
			t.Errorf("extractGroupFlag(%q) = %q %q, want %q %q", tt.in, rest, name, tt.rest, tt.name)
		}
	}
	if _, _, err := extractGroupFlag([]string{"--group"}); !errors.Is(err, ErrUsage) {
		t.Errorf("--group without a name: %v", err)
	}
}

func TestRender(t *testing.T) {
	got := Render("欢迎 {names} 加入{group}！{unknown}", map[string]string{"names": "bob、carol", "group": "技术群"})
	if want := "欢迎 bob、carol 加入技术群！{unknown}"; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		p, s string
		ok   bool
	}{
		{"课程*", "课程2026春季班", true},
		{"*班", "课程2026春季班", true},
		{"课程?班", "课程A班", true},
		{"课程?班", "课程AB班", false},
		{"*", "", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.p, tt.s); got != tt.ok {
			t.Errorf("globMatch(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}

func TestUnquoteWhole(t *testing.T) {
	for in, want := range map[string]string{
		`"一、友善 二、别刷屏"`:  "一、友善 二、别刷屏",
		"“一、友善\n二、别刷屏”": "一、友善\n二、别刷屏",
		"「友善」":          "友善",
		`"友善"交流，"不发广告"`: `"友善"交流，"不发广告"`, // quotes inside: the text's own
		`友善 "交流"`:       `友善 "交流"`,
		`""`:            `""`,
		`"`:             `"`,
		"":              "",
	} {
		if got := unquoteWhole(in); got != want {
			t.Errorf("unquoteWhole(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDisplayActor(t *testing.T) {
	for in, want := range map[string]string{
		"u_0002 (李助教)":     "李助教（u_0002）",
		"u_0002 (Li (TA))": "Li (TA)（u_0002）",
		"u_0002":           "u_0002",
		"owner":            "owner",
		"plugin:countdown": "plugin:countdown",
		"":                 "",
	} {
		if got := DisplayActor(in); got != want {
			t.Errorf("DisplayActor(%q) = %q, want %q", in, got, want)
		}
	}
}
