package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// AlertKind names what an alert is about.
type AlertKind string

// Alert kinds.
const (
	AlertLogout       AlertKind = "logout"
	AlertReconnected  AlertKind = "reconnected"
	AlertGroupLost    AlertKind = "group_lost"
	AlertSpamWave     AlertKind = "spam_wave"
	AlertExportFailed AlertKind = "export_failed"
	AlertHealthChange AlertKind = "health_change"
	AlertTaskOverdue  AlertKind = "task_overdue"
	AlertOther        AlertKind = "other"
)

// Alert is something operators must hear about.
type Alert struct {
	Kind  AlertKind
	Group GroupID
	Text  string
	Data  map[string]string
	// Key de-duplicates: alerts with the same non-empty Key within
	// alerts.repeat_after (default 30 minutes) are sent once.
	Key string
}

// alerter keeps recent alerts and de-duplication state.
type alerter struct {
	mu     sync.Mutex
	recent []AlertRecord
	seen   map[string]time.Time
	client *http.Client
}

// AlertRecord is an alert as raised, with where it went.
type AlertRecord struct {
	Alert
	At      time.Time
	DMed    bool
	Webhook string // "", "sent", or the error
}

func newAlerter() *alerter {
	return &alerter{seen: map[string]time.Time{}, client: &http.Client{Timeout: 10 * time.Second}}
}

// Alert tells operators by DM while the bot is online, and posts to the
// configured webhook when it cannot DM (logged out) or when
// alerts.webhook_always is set.
func (rt *Runtime) Alert(ctx context.Context, a Alert) {
	al := rt.alerter
	now := rt.clock.Now()
	if a.Key != "" {
		al.mu.Lock()
		if last, ok := al.seen[a.Key]; ok && now.Sub(last) < rt.Config().Alerts.RepeatAfter.D() {
			al.mu.Unlock()
			return
		}
		al.seen[a.Key] = now
		al.mu.Unlock()
	}
	rec := AlertRecord{Alert: a, At: now}
	rt.log.Warn("alert", "kind", string(a.Kind), "group_id", string(a.Group))
	cfg := rt.Config()
	if rt.Online() {
		rt.NotifyOperators(ctx, a.Text, PrioModeration)
		rec.DMed = true
	}
	post := cfg.Alerts.WebhookURL != "" && (!rec.DMed || cfg.Alerts.WebhookAlways)
	if post {
		rec.Webhook = "pending"
	}
	// The record is kept before the webhook goes out, so the poster finds
	// it to note the outcome (in sync mode it runs inline, right here).
	al.mu.Lock()
	al.recent = append(al.recent, rec)
	if len(al.recent) > 50 {
		al.recent = al.recent[len(al.recent)-50:]
	}
	al.mu.Unlock()
	if !post {
		return
	}
	format := cfg.Alerts.WebhookFormat
	payload := webhookPayload(format, a, now, rt.groupName(a.Group))
	url := cfg.Alerts.WebhookURL
	rt.Go("webhook", func(ctx context.Context) {
		err := rt.postWebhook(ctx, al.client, url, format, payload)
		al.mu.Lock()
		for i := len(al.recent) - 1; i >= 0; i-- {
			if al.recent[i].At.Equal(now) && al.recent[i].Kind == a.Kind {
				if err != nil {
					al.recent[i].Webhook = err.Error()
				} else {
					al.recent[i].Webhook = "sent"
				}
				break
			}
		}
		al.mu.Unlock()
	})
}

// RecentAlerts returns the last alerts, oldest first.
func (rt *Runtime) RecentAlerts() []AlertRecord {
	al := rt.alerter
	al.mu.Lock()
	defer al.mu.Unlock()
	return append([]AlertRecord(nil), al.recent...)
}

func (rt *Runtime) groupName(g GroupID) string {
	if r, ok := rt.GroupRecord(g); ok {
		return r.Name
	}
	return ""
}

// webhookPayload shapes the alert for the configured receiver. WeCom and
// DingTalk group robots take {"msgtype":"text","text":{"content":...}};
// Feishu takes {"msg_type":"text","content":{"text":...}}.
func webhookPayload(format string, a Alert, at time.Time, groupName string) []byte {
	text := "[qunguan] " + a.Text
	var v any
	switch format {
	case "wecom", "dingtalk":
		v = map[string]any{"msgtype": "text", "text": map[string]string{"content": text}}
	case "feishu":
		v = map[string]any{"msg_type": "text", "content": map[string]string{"text": text}}
	default:
		v = map[string]any{"source": "qunguan", "kind": string(a.Kind), "group_id": string(a.Group), "group_name": groupName,
			"text": a.Text, "time": at.UTC().Format(time.RFC3339), "data": a.Data}
	}
	b, _ := json.Marshal(v)
	return b
}

func (rt *Runtime) postWebhook(ctx context.Context, client *http.Client, url, format string, body []byte) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 && !rt.clock.Sleep(time.Duration(attempt)*5*time.Second, ctx.Done()) {
			return ctx.Err()
		}
		var req *http.Request
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		var resp *http.Response
		resp, err = client.Do(req)
		if err != nil {
			continue
		}
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode < 300 {
			// Group robots answer 200 with an error code in the body when
			// they refuse a message (a missing security keyword, a bad
			// token); retrying does not help.
			if err = robotRefusal(format, answer); err != nil {
				break
			}
			return nil
		}
		err = fmt.Errorf("webhook answered %s", resp.Status)
	}
	rt.log.Error("webhook alert not delivered", "err", err)
	return err
}

// robotRefusal reads a WeCom/DingTalk ({"errcode":0,"errmsg":"ok"}) or
// Feishu ({"code":0,"msg":"success"}) robot's answer and returns an error
// when it refused the message. Generic JSON receivers are not checked.
func robotRefusal(format string, answer []byte) error {
	if format == "json" || len(answer) == 0 {
		return nil
	}
	var r struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		Code    *int   `json:"code"`
		Msg     string `json:"msg"`
	}
	if json.Unmarshal(answer, &r) != nil {
		return nil
	}
	if r.ErrCode != nil && *r.ErrCode != 0 {
		return fmt.Errorf("%s robot refused the alert: errcode %d %s", format, *r.ErrCode, r.ErrMsg)
	}
	if r.Code != nil && *r.Code != 0 {
		return fmt.Errorf("%s robot refused the alert: code %d %s", format, *r.Code, r.Msg)
	}
	return nil
}
