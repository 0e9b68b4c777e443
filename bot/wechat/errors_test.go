package wechat

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/eatmoreapple/openwechat"
	"github.com/qunguan/qunguan/bot"
)

func TestMapErrAndRedact(t *testing.T) {
	netErr := errors.Join(openwechat.NetworkErr, fmt.Errorf(`Get "https://webpush.wx.qq.com/cgi-bin/mmwebwx-bin/synccheck?skey=%%40crypt_1&sid=SID&uin=1": EOF`))
	tests := []struct {
		err  error
		is   error
		bare bool // not retryable
	}{
		{openwechat.Ret(1205), bot.ErrRateLimited, false},
		{fmt.Errorf("send: %w", openwechat.Ret(1101)), bot.ErrOffline, false},
		{openwechat.Ret(1100), bot.ErrOffline, false},
		{openwechat.Ret(1102), bot.ErrOffline, false},
		{netErr, bot.ErrNetwork, false},
		{openwechat.Ret(1), nil, true},
	}
	for _, tt := range tests {
		got := mapErr("op", tt.err)
		if tt.is != nil && !errors.Is(got, tt.is) {
			t.Errorf("mapErr(%v) = %v, want %v", tt.err, got, tt.is)
		}
		if tt.bare && bot.Retryable(got) {
			t.Errorf("mapErr(%v) = %v is retryable", tt.err, got)
		}
		if strings.Contains(got.Error(), "SID") || strings.Contains(got.Error(), "crypt") {
			t.Errorf("mapErr(%v) leaks the session keys: %v", tt.err, got)
		}
	}
	if got := redact(netErr); !strings.Contains(got, "https://webpush.wx.qq.com/cgi-bin/mmwebwx-bin/synccheck?…") {
		t.Errorf("redact = %q", got)
	}
}
