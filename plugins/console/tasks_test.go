package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
)

// TestTasksListConfirmations: /tasks shows the confirmations operators
// still have to give (without their codes), until they are used or expire.
func TestTasksListConfirmations(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins})
	ctx := context.Background()
	if out := h.Do("dm 王老师: /tasks"); !strings.Contains(out, "没有未完成的待办") {
		t.Fatalf("empty: %s", out)
	}
	c, err := h.RT.RequestConfirmation(ctx, bot.ConfirmRequest{Owner: "countdown", Kind: "start", Group: h.Group("读书会"), Action: "为读书会启动 3 天解散倒计时"})
	if err != nil {
		t.Fatal(err)
	}
	h.Settle()
	if sent := h.Texts(); len(sent) != 1 || !strings.Contains(sent[0], "/confirm "+c.Code) {
		t.Fatalf("the code went out as %v", sent)
	}
	out := h.Do("dm 王老师: /tasks")
	if !strings.Contains(out, "等待确认（1）：\n>   · 为读书会启动 3 天解散倒计时（读书会（g_0002），03-02 09:30 前用私聊收到的验证码 /confirm）") {
		t.Errorf("pending confirmation not listed:\n%s", out)
	}
	if strings.Contains(out, c.Code) {
		t.Errorf("/tasks shows the code:\n%s", out)
	}
	h.Do("advance 31m")
	if out := h.Do("dm 王老师: /tasks"); !strings.Contains(out, "没有未完成的待办") {
		t.Errorf("expired confirmation still listed:\n%s", out)
	}
}
