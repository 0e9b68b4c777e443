package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
)

// hook is an httptest server that keeps the bodies it was posted.
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	// answer is the body the server replies with (robots answer 200 with
	// an error code when they refuse a message).
	answer string
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook got %s with %q", r.Method, r.Header.Get("Content-Type"))
		}
		raw, _ := io.ReadAll(r.Body)
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Errorf("webhook body is not JSON: %s", raw)
		}
		h.mu.Lock()
		h.bodies = append(h.bodies, v)
		answer := h.answer
		h.mu.Unlock()
		io.WriteString(w, answer)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) take() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.bodies
	h.bodies = nil
	return b
}

func TestLogoutPostsWebhook(t *testing.T) {
	wh := newHook(t)
	h := bottest.New(t, bottest.Options{Plugins: plugins, Config: bottest.DefaultConfigWith(`
alerts:
  webhook_url: ` + wh.URL + `
`)})
	h.Do("alice@技术交流群: 你好")
	if got := wh.take(); len(got) != 0 {
		t.Fatalf("webhook posted while online and nothing happened: %v", got)
	}
	h.Do("logout 1101 会话过期")
	got := wh.take()
	if len(got) != 1 {
		t.Fatalf("webhook got %d posts, want 1: %v", len(got), got)
	}
	if got[0]["kind"] != "logout" || got[0]["source"] != "qunguan" {
		t.Errorf("payload %v", got[0])
	}
	if text, _ := got[0]["text"].(string); !strings.Contains(text, "1101 会话过期") {
		t.Errorf("the reason is not in the text: %q", text)
	}
	// Back online: the reconnect alert goes by DM, not the webhook.
	if out := h.Do("login"); !strings.Contains(out, "DM:王老师: 【恢复】") {
		t.Errorf("no reconnect DM: %s", out)
	}
	if got := wh.take(); len(got) != 0 {
		t.Errorf("webhook posted while operators could be DMed: %v", got)
	}
}

func TestGroupLostAlert(t *testing.T) {
	wh := newHook(t)
	h := bottest.New(t, bottest.Options{Plugins: plugins, Config: bottest.DefaultConfigWith(`
alerts:
  webhook_url: ` + wh.URL + `
  webhook_format: wecom
  webhook_always: true
`)})
	out := h.Do("dissolve 读书会")
	if !strings.Contains(out, "DM:王老师: 【群已失去】管理中的群“读书会”（g_0002）已解散或不可用。已记录的内容仍在") {
		t.Errorf("no group-lost DM: %s", out)
	}
	got := wh.take()
	if len(got) != 1 || got[0]["msgtype"] != "text" {
		t.Fatalf("wecom webhook: %v", got)
	}
	content, _ := got[0]["text"].(map[string]any)["content"].(string)
	if !strings.HasPrefix(content, "[qunguan] 【群已失去】") {
		t.Errorf("wecom content %q", content)
	}

	// A frozen group (a countdown froze it before the end) leaving is the
	// plan, not an alert.
	if err := h.RT.SetFrozen(context.Background(), h.Group("技术交流群"), true, "test"); err != nil {
		t.Fatal(err)
	}
	if out := h.Do("removebot 技术交流群 by 王老师"); strings.Contains(out, "群已失去") {
		t.Errorf("alert for a frozen group: %s", out)
	}
	if got := wh.take(); len(got) != 0 {
		t.Errorf("webhook for a frozen group: %v", got)
	}
}

// TestGroupLostExpected: an operator task waiting for the bot to leave
// (a hand-done dissolve) makes the leave expected: the task is verified,
// and no "lost" alert follows.
func TestGroupLostExpected(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins})
	ctx := context.Background()
	task, err := h.RT.CreateTask(ctx, bot.Task{Owner: "countdown", Kind: "dissolve_group", Group: h.Group("读书会"), Title: "解散读书会", Steps: "在手机上解散", Watch: bot.WatchGroupGone})
	if err != nil {
		t.Fatal(err)
	}
	h.Actions()
	out := h.Do("dissolve 读书会")
	if strings.Contains(out, "群已失去") {
		t.Errorf("alert for an expected dissolve: %s", out)
	}
	if !strings.Contains(out, "【待办 "+task.ID+" 已核实完成】") {
		t.Errorf("task not verified: %s", out)
	}
}

// TestRobotRefusalIsReported: a DingTalk robot whose security keyword is
// missing answers 200 with errcode 310000; that is recorded as a failure,
// not as delivered.
func TestRobotRefusalIsReported(t *testing.T) {
	wh := newHook(t)
	wh.answer = `{"errcode":310000,"errmsg":"keywords not in content"}`
	h := bottest.New(t, bottest.Options{Plugins: plugins, Config: bottest.DefaultConfigWith(`
alerts:
  webhook_url: ` + wh.URL + `
  webhook_format: dingtalk
`)})
	h.Do("logout 1102")
	if got := wh.take(); len(got) != 1 {
		t.Fatalf("posts: %v (a refusal must not be retried)", got)
	}
	recent := h.RT.RecentAlerts()
	last := recent[len(recent)-1]
	if last.Kind != bot.AlertLogout || !strings.Contains(last.Webhook, "errcode 310000") {
		t.Errorf("alert record %+v", last)
	}
	wh.mu.Lock()
	wh.answer = `{"errcode":0,"errmsg":"ok"}`
	wh.mu.Unlock()
	h.Do("login", "logout 1101")
	recent = h.RT.RecentAlerts()
	if last := recent[len(recent)-1]; last.Webhook != "sent" {
		t.Errorf("accepted alert recorded as %q", last.Webhook)
	}
}
