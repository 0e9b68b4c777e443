package bottest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
)

// TestAlertRepeatAfter: the same alert raised again within
// alerts.repeat_after reaches operators once; after the window, again.
func TestAlertRepeatAfter(t *testing.T) {
	h := bottest.New(t, bottest.Options{Config: bottest.DefaultConfigWith("alerts:\n  repeat_after: 2h\n")})
	h.Texts()
	ctx := context.Background()
	raise := func() {
		h.RT.Alert(ctx, bot.Alert{Kind: bot.AlertOther, Text: "刷屏潮", Key: "wave"})
		h.Settle()
	}
	count := func() int {
		n := 0
		for _, s := range h.Texts() {
			if strings.HasPrefix(s, "DM:王老师:") && strings.Contains(s, "刷屏潮") {
				n++
			}
		}
		return n
	}
	raise()
	h.Advance(90 * time.Minute) // past the default 30m, within 2h
	raise()
	if n := count(); n != 1 {
		t.Fatalf("alert sent %d times within repeat_after, want 1", n)
	}
	h.Advance(31 * time.Minute)
	raise()
	if n := count(); n != 1 {
		t.Fatalf("alert sent %d times after repeat_after, want 1 more", n)
	}
}
