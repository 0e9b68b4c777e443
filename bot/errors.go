package bot

import (
	"errors"
	"fmt"
	"strings"
)

// UserError is an error meant for the person who typed a command: it
// carries a code and a message in the user's language. Anything else a
// handler returns is logged with context and the user sees a short
// "internal error" reply.
type UserError struct {
	Code string
	// Text is the reply, already in the asker's language.
	Text string
	Err  error
}

func (e *UserError) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Text + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Text
}

func (e *UserError) Unwrap() error { return e.Err }

// Errorf returns a UserError with the given code and formatted text.
func Errorf(code, format string, args ...any) error {
	return &UserError{Code: code, Text: fmt.Sprintf(format, args...)}
}

// AsUserError extracts a UserError from err's chain.
func AsUserError(err error) (*UserError, bool) {
	var ue *UserError
	if errors.As(err, &ue) {
		return ue, true
	}
	return nil, false
}

// ErrUsage is wrapped by argument errors; the router answers it with the
// command's usage line.
var ErrUsage = errors.New("wrong arguments")

// UsageError is returned by argument parsing; Detail says what was
// wrong, in both languages.
type UsageError struct{ Detail Text }

func (e *UsageError) Error() string { return "usage: " + e.Detail.In(LangEN) }

func usagef(zh, en string, args ...any) *UsageError {
	return &UsageError{Detail: Text{ZH: fmt.Sprintf(zh, args...), EN: fmt.Sprintf(en, args...)}}
}
func (e *UsageError) Unwrap() error { return ErrUsage }

// ShortError renders err for a chat message: its first line, at most max
// runes, so a wrapped error chain or a stack never floods a chat.
func ShortError(err error, max int) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}
