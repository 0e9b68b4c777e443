package wechat

import (
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/eatmoreapple/openwechat"
)

// jarGuard wraps a Bot's HTTP transport to make openwechat's cookie jar
// safe to share between the Bot's sync goroutine and the owner goroutine.
//
// openwechat.Jar keeps, besides a goroutine-safe net/http jar, a plain map
// of the hosts it has seen; SetCookies adds to it and MarshalJSON (run after
// every sync to save the session) iterates it. Two goroutines adding a host
// at once, or one adding while the other saves, is a fatal concurrent map
// write. The guard therefore registers every host of the WeChat domain
// (the domain itself, file. and webpush.) on the jar the first time it sees
// one of them, which happens during login while only the logging-in
// goroutine uses the Bot; from then on the map is only read. A response
// from a host outside that set after login loses its Set-Cookie headers,
// since adding it could race; no WeChat endpoint lives there.
//
// While registering it also restores cookies that openwechat's hot-login
// storage demoted: the storage keeps only names and values per host, so
// after a hot login the domain cookies (webwx_data_ticket for uploads,
// wxuin and wxsid for the sync host) would reach only the main host. They
// are set again for the whole domain.
type jarGuard struct {
	base   http.RoundTripper
	client *openwechat.Client

	mu     sync.Mutex
	jar    *openwechat.Jar
	hosts  map[string]bool
	sealed bool
}

func newJarGuard(base http.RoundTripper, client *openwechat.Client) *jarGuard {
	if base == nil {
		base = http.DefaultTransport
	}
	return &jarGuard{base: base, client: client}
}

// loginHosts serve the QR and push login; they are registered with the
// first request.
var loginHosts = []string{"login.wx.qq.com", "login.weixin.qq.com"}

func (g *jarGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	g.mu.Lock()
	// HotLogin and PushLogin replace the jar with one read from storage;
	// the new one has no hosts registered yet.
	if jar := g.client.Jar(); jar != g.jar {
		g.jar, g.hosts = jar, map[string]bool{}
	}
	if !g.sealed {
		if len(g.hosts) == 0 {
			g.register(loginHosts...)
		}
		if d := wechatDomain(host); d != "" && !g.hosts[d] {
			g.register(d, "file."+d, "webpush."+d)
			g.restoreDomainCookies(d)
		}
		// The first sync check comes from the sync goroutine: from here
		// on two goroutines use the Bot.
		if strings.HasPrefix(host, "webpush.") {
			g.sealed = true
		}
	}
	known := g.hosts[host]
	g.mu.Unlock()

	resp, err := g.base.RoundTrip(req)
	if err == nil && !known {
		resp.Header.Del("Set-Cookie")
	}
	return resp, err
}

// register adds hosts to the jar's host map. Caller holds g.mu, during
// login.
func (g *jarGuard) register(hosts ...string) {
	for _, h := range hosts {
		g.jar.SetCookies(&url.URL{Scheme: "https", Host: h, Path: "/"}, nil)
		g.hosts[h] = true
	}
}

// restoreDomainCookies sets every cookie the main host has, but the file
// host does not see, as a cookie of the whole domain d.
func (g *jarGuard) restoreDomainCookies(d string) {
	main := &url.URL{Scheme: "https", Host: d, Path: "/"}
	file := &url.URL{Scheme: "https", Host: "file." + d, Path: "/"}
	seen := map[string]bool{}
	for _, c := range g.jar.Cookies(file) {
		seen[c.Name] = true
	}
	var lost []*http.Cookie
	for _, c := range g.jar.Cookies(main) {
		if !seen[c.Name] {
			lost = append(lost, &http.Cookie{Name: c.Name, Value: c.Value, Domain: d, Path: "/"})
		}
	}
	if len(lost) > 0 {
		g.jar.SetCookies(main, lost)
	}
}

// wechatDomain returns the web WeChat domain a host belongs to ("wx.qq.com"
// for "file.wx.qq.com"), or "" for the login hosts.
func wechatDomain(host string) string {
	for _, h := range loginHosts {
		if host == h {
			return ""
		}
	}
	for _, p := range []string{"file.", "webpush."} {
		if strings.HasPrefix(host, p) {
			return strings.TrimPrefix(host, p)
		}
	}
	return host
}
