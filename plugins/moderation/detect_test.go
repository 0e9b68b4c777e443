package moderation

import "testing"

func TestAllowedDomain(t *testing.T) {
	allowed := []string{"github.com", "qunguan.example.cn"}
	cases := []struct {
		link string
		want bool
	}{
		{"https://github.com/qunguan/qunguan", true},
		{"github.com", true},
		{"gist.github.com/x", true},
		{"ＧＩＴＨＵＢ．ＣＯＭ", true},
		{"github点com", true},
		{"notgithub.com", false},
		{"github.com.evil.top", false},
		{"http://qunguan.example.cn:8080/a", true},
		{"www.abc.top", false},
	}
	for _, c := range cases {
		if got := allowedDomain(c.link, allowed); got != c.want {
			t.Errorf("%q: %v, want %v", c.link, got, c.want)
		}
	}
	if allowedDomain("github.com", nil) {
		t.Error("allowed with no list")
	}
}

func TestDetectorCategoryMustExist(t *testing.T) {
	cfg := defaultConfig()
	cfg.Detectors.Links = "ads"
	if err := cfg.Validate(); err == nil {
		t.Fatal("detector naming a missing category accepted")
	}
	cfg.Categories = map[string]*Category{"ads": {Points: 1}}
	cfg.Detectors.AllowDomains = []string{" Example.COM. "}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Detectors.AllowDomains[0] != "example.com" {
		t.Errorf("domain not cleaned: %q", cfg.Detectors.AllowDomains[0])
	}
	cfg.Detectors.AllowDomains = []string{"https://example.com/"}
	if err := cfg.Validate(); err == nil {
		t.Error("a URL accepted as a domain")
	}
}
