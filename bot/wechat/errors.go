package wechat

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/eatmoreapple/openwechat"
	"github.com/qunguan/qunguan/bot"
)

// Web WeChat's return codes that matter to the adapter (openwechat keeps
// its own constants private).
const (
	retLoggedOutOnPhone openwechat.Ret = 1100 // the owner logged out on the phone
	retSessionInvalid   openwechat.Ret = 1101 // logged in elsewhere, or expired
	retCookieInvalid    openwechat.Ret = 1102 // also seen right after bans
	retLoginRefused     openwechat.Ret = 1203 // "此微信号不能登录网页微信"
	retTooOften         openwechat.Ret = 1205 // operate too often
)

// sessionEnded reports whether err means the web session is over for
// good: openwechat exits on these and only a new login helps.
func sessionEnded(err error) bool {
	var ret openwechat.Ret
	if !errors.As(err, &ret) {
		return false
	}
	return ret == retLoggedOutOnPhone || ret == retSessionInvalid || ret == retCookieInvalid
}

// mapErr turns an openwechat error into one the runtime reacts to: rate
// limits and network failures are retried by the pacer with backoff, a
// dead session waits for the next login. op names the action for logs.
// The text is redacted (see redact), so the result may be logged.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ret openwechat.Ret
	switch {
	case errors.As(err, &ret) && ret == retTooOften:
		return fmt.Errorf("%w: wechat %s: %s", bot.ErrRateLimited, op, redact(err))
	case sessionEnded(err):
		return fmt.Errorf("%w: wechat %s: %s", bot.ErrOffline, op, redact(err))
	case errors.Is(err, context.Canceled):
		// Calls run under the session's context, which ends when the
		// session does.
		return fmt.Errorf("%w: wechat %s: session closed", bot.ErrOffline, op)
	case openwechat.IsNetworkError(err), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: wechat %s: %s", bot.ErrNetwork, op, redact(err))
	}
	return fmt.Errorf("wechat %s: %s", op, redact(err))
}

// urlQuery matches the query of a URL in an error text. Network errors
// quote the request URL, whose query carries the session's keys (skey,
// sid, pass_ticket): whoever has them can act as the bot account.
var urlQuery = regexp.MustCompile(`(https?://[^\s"?]+)\?[^\s"]*`)

// redact returns err's text with URL queries removed, for logs and for
// errors that the runtime logs.
func redact(err error) string {
	if err == nil {
		return ""
	}
	return urlQuery.ReplaceAllString(err.Error(), "$1?…")
}

// describeExit is the reason given to operators when a session ends, in
// Chinese with the code, which is what WeChat users search for.
func describeExit(err error) string {
	var ret openwechat.Ret
	switch {
	case err == nil:
		return "会话结束"
	case errors.As(err, &ret) && ret == retLoggedOutOnPhone:
		return "1100：已在手机上退出网页版登录"
	case errors.As(err, &ret) && ret == retSessionInvalid:
		return "1101：会话失效（在别处登录了网页版，或会话过期）"
	case errors.As(err, &ret) && ret == retCookieInvalid:
		return "1102：登录凭证失效（也可能是账号被限制）"
	case errors.Is(err, openwechat.ErrUserLogout):
		return "已退出登录"
	}
	return redact(err)
}

// loginRefused reports whether a login failed because WeChat refuses web
// logins for this account (error 1203), which retrying will not change.
func loginRefused(err error) bool {
	var ret openwechat.Ret
	if errors.As(err, &ret) && ret == retLoginRefused {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "不能登录网页微信")
}
