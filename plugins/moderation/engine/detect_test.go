package engine

import "testing"

// spans returns the evidence of hits as the original substrings.
func spans(text string, hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, text[h.Start:h.End])
	}
	return out
}

func checkDetector(t *testing.T, name string, detect func(string, []Hit) []Hit, cases []struct {
	text string
	want []string
}) {
	t.Helper()
	for _, c := range cases {
		got := spans(c.text, detect(c.text, nil))
		if len(got) != len(c.want) {
			t.Errorf("%s(%q) = %q, want %q", name, c.text, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s(%q) = %q, want %q", name, c.text, got, c.want)
				break
			}
		}
	}
}

func TestDetectLinks(t *testing.T) {
	checkDetector(t, "DetectLinks", DetectLinks, []struct {
		text string
		want []string
	}{
		{"点这里 https://example.com/a?b=1 领红包", []string{"https://example.com/a?b=1"}},
		{"官网www.abc123.cn有惊喜", []string{"www.abc123.cn"}},
		{"打开 t.me/joinchat 进群", []string{"t.me/joinchat"}},
		{"全角ＷＷＷ．ＡＢＣ．ＣＯＭ也算", []string{"ＷＷＷ．ＡＢＣ．ＣＯＭ"}},
		{"域名 abc点com 记住", []string{"abc点com"}},
		{"句号写法 abc。top 也算", []string{"abc。top"}},
		{"HTTP://EXAMPLE.ORG", []string{"HTTP://EXAMPLE.ORG"}},
		{"版本 1.5 和 v2.0 不是链接", nil},
		{"今天天气不错。明天见", nil},
		{"邮箱 a.b@qq.com 的域名也是链接", []string{"qq.com"}},
	})
}

func TestDetectPhones(t *testing.T) {
	checkDetector(t, "DetectPhones", DetectPhones, []struct {
		text string
		want []string
	}{
		{"电话13812345678找我", []string{"13812345678"}},
		{"电话 138-1234-5678", []string{"138-1234-5678"}},
		{"电话 138 1234 5678 随时", []string{"138 1234 5678"}},
		{"全角１３８１２３４５６７８", []string{"１３８１２３４５６７８"}},
		{"+86 139 0000 1111", []string{"86 139 0000 1111"}},
		{"幺三八一二三四五六七八", []string{"幺三八一二三四五六七八"}},
		{"①③⑧①②③④⑤⑥⑦⑧", []string{"①③⑧①②③④⑤⑥⑦⑧"}},
		{"两个号 13812345678 13912345678", []string{"13812345678", "13912345678"}},
		{"订单号 138123456789012 不是", nil},
		{"座机 010-12345678 不算", nil},
		{"12812345678 第二位不对", nil},
		{"1381234567 只有十位", nil},
	})
}

func TestDetectContactIDs(t *testing.T) {
	checkDetector(t, "DetectContactIDs", DetectContactIDs, []struct {
		text string
		want []string
	}{
		{"加我vx: abc_123 有福利", []string{"加我vx: abc_123"}},
		{"有事加我微信 wangxiaoming88", []string{"加我微信 wangxiaoming88"}},
		{"V信：ｈｅｌｌｏ２０２４", []string{"V信：ｈｅｌｌｏ２０２４"}},
		{"薇信号是 abc-2024x", []string{"薇信号是 abc-2024x"}},
		{"加 v x ： tom_cat", []string{"加 v x ： tom_cat"}},
		{"qq：12345678", []string{"qq：12345678"}},
		{"联系我的飞机号 @nope 不算，飞机号: dealer01 算", []string{"飞机号: dealer01"}},
		{"我的微信是wxid_abcd1234", []string{"微信是wxid_abcd1234"}},
		{"转发 wxid_q1w2e3r4 就行", []string{"wxid_q1w2e3r4"}},
		{"加v 13812345678", []string{"加v 13812345678"}},
		{"微 abc123 不够明确", nil},
		{"mtv abcdef 不是", nil},
		{"微信群里聊天很开心", nil},
		{"vx: ab 太短", nil},
	})
}
