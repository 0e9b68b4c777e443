package bottest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
)

// TestOperatorsMayLeaveThePrefixOutInDMs: an operator's DM that starts
// with a command's name runs it; the same from a member, in a group, or a
// word that is no command, is left alone.
func TestOperatorsMayLeaveThePrefixOutInDMs(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	if out := h.Do("dm 王老师: help"); !strings.Contains(out, "DM:王老师:") || !strings.Contains(out, "可用命令") {
		t.Errorf("operator's bare help not answered:\n%s", out)
	}
	if out := h.Do("dm 王老师: 帮助 later"); !strings.Contains(out, "/later") {
		t.Errorf("operator's bare help with an argument not answered:\n%s", out)
	}
	if out := h.Do("owner: help"); !strings.Contains(out, "可用命令") {
		t.Errorf("owner's bare help from File Transfer not answered:\n%s", out)
	}
	for _, line := range []string{"dm alice: help", "王老师@技术交流群: help", "dm 王老师: 你好 help"} {
		if out := h.Do(line); out != "" {
			t.Errorf("%s: answered as a command:\n%s", line, out)
		}
	}
}

// TestBotMessagesAreRecordedWithItsName: what the bot says in a managed
// group is in the record under the account's nickname (exports show it).
func TestBotMessagesAreRecordedWithItsName(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	h.Do("alice@技术交流群: /help")
	var got []string
	err := h.Store.ScanRecords(context.Background(), h.Group("技术交流群"), time.Time{}, time.Time{}, func(r bot.Record) error {
		if r.FromBot {
			got = append(got, r.SenderName)
		}
		return nil
	})
	if err != nil || len(got) == 0 || got[0] != "群管机器人" {
		t.Errorf("bot records: %q %v", got, err)
	}
}
