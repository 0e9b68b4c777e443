package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"
)

const (
	runtimeNS        = "_runtime"
	confirmKindTimer = "_timer"
)

// ConfirmRequest asks operators to confirm an action with a one-time code.
type ConfirmRequest struct {
	// Owner is the plugin whose Confirmed method carries the action out.
	Owner string
	// Kind and Payload tell the owner what to do.
	Kind    string
	Group   GroupID
	Payload []byte
	// Action describes the action in a sentence, in the operators' language.
	Action string
	// RequestedBy names who triggered it, for the audit log.
	RequestedBy string
	// TTL overrides confirm.ttl.
	TTL time.Duration
}

// Confirmation is an issued code and its request.
type Confirmation struct {
	ConfirmRequest
	Code    string
	Created time.Time
	Expires time.Time
	Used    bool
	UsedBy  string
	UsedAt  time.Time
}

// ErrBadCode is returned for unknown, used or expired confirmation codes.
var ErrBadCode = errors.New("invalid, used or expired confirmation code")

// randomCode is the default code source: six digits from crypto/rand.
func randomCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic("bot: crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// RequestConfirmation issues a one-time code for r, stores it and DMs it to
// the operators. Codes expire and work once.
func (rt *Runtime) RequestConfirmation(ctx context.Context, r ConfirmRequest) (Confirmation, error) {
	kv := rt.store.KV(runtimeNS)
	ttl := r.TTL
	if ttl <= 0 {
		ttl = rt.Config().Confirm.TTL.D()
	}
	now := rt.clock.Now()
	var c Confirmation
	for tries := 0; ; tries++ {
		c = Confirmation{ConfirmRequest: r, Code: rt.codes(), Created: now, Expires: now.Add(ttl)}
		taken := false
		err := kv.Update(ctx, "confirm/"+c.Code, func(old []byte) ([]byte, error) {
			if old != nil {
				var prev Confirmation
				if json.Unmarshal(old, &prev) == nil && !prev.Used && now.Before(prev.Expires) {
					taken = true
					return old, nil
				}
			}
			return json.Marshal(c)
		})
		if err != nil {
			return Confirmation{}, fmt.Errorf("store confirmation: %w", err)
		}
		if !taken {
			break
		}
		if tries > 20 {
			return Confirmation{}, errors.New("no free confirmation code")
		}
	}
	lang := rt.Config().Language
	rt.NotifyOperators(ctx, rt.text("", lang, "confirm.request", map[string]string{
		"action": r.Action, "code": c.Code, "minutes": fmt.Sprint(int(ttl.Minutes()))}), PrioReply)
	_, err := rt.Audit(ctx, AuditEntry{Group: r.Group, Actor: orDefault(r.RequestedBy, "plugin:"+orDefault(r.Owner, "runtime")), Action: "confirm.request",
		Detail: r.Action, Data: map[string]string{"kind": r.Kind, "code_sha256": codeHash(c.Code), "expires": c.Expires.UTC().Format(time.RFC3339)}})
	return c, err
}

// PendingConfirmations lists the codes issued and neither used nor
// expired, oldest first, for /tasks (the codes themselves stay in the DMs
// that carried them).
func (rt *Runtime) PendingConfirmations(ctx context.Context) ([]Confirmation, error) {
	now := rt.clock.Now()
	var out []Confirmation
	err := rt.store.KV(runtimeNS).Scan(ctx, "confirm/", func(key string, val []byte) error {
		var c Confirmation
		if err := json.Unmarshal(val, &c); err != nil {
			rt.log.Warn("confirmation record unreadable", "key", key, "err", err)
			return nil
		}
		if !c.Used && now.Before(c.Expires) {
			out = append(out, c)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// codeHash keeps codes out of the audit log while letting entries be matched.
func codeHash(code string) string {
	h := sha256.Sum256([]byte("qunguan-confirm:" + code))
	return hex.EncodeToString(h[:8])
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// useCode marks a code used, exactly once, and returns it.
func (rt *Runtime) useCode(ctx context.Context, code, by string) (Confirmation, error) {
	code = strings.TrimSpace(FoldWidth(code))
	now := rt.clock.Now()
	var c Confirmation
	bad := false
	err := rt.store.KV(runtimeNS).Update(ctx, "confirm/"+code, func(old []byte) ([]byte, error) {
		if old == nil {
			bad = true
			return nil, nil
		}
		if err := json.Unmarshal(old, &c); err != nil {
			return nil, err
		}
		if c.Used || !now.Before(c.Expires) {
			bad = true
			return old, nil
		}
		c.Used, c.UsedBy, c.UsedAt = true, by, now
		return json.Marshal(c)
	})
	if err != nil {
		return Confirmation{}, err
	}
	if bad {
		return Confirmation{}, ErrBadCode
	}
	return c, nil
}

// confirmCommand is /confirm CODE (/确认), operators only, by DM.
func (rt *Runtime) confirmCommand() *Command {
	return &Command{
		Name: "confirm", Aliases: []string{"确认"},
		Args:  []Arg{{Name: "code", Label: Text{ZH: "验证码", EN: "code"}, Kind: ArgString}},
		Help:  Text{ZH: "用私聊收到的一次性验证码确认操作", EN: "Confirm an action with the one-time code sent to you"},
		Perm:  RoleOperator,
		Scope: ScopeDM,
		Run: func(ctx context.Context, call *Call) error {
			by := ActorName(call.Asker(), call.AskerName())
			if call.Event.FromSelf {
				by = "owner"
			}
			c, err := rt.useCode(ctx, call.Args.String("code"), by)
			if errors.Is(err, ErrBadCode) {
				_, _ = rt.Audit(ctx, AuditEntry{Actor: by, Action: "confirm.refused", Detail: "invalid, used or expired code", Data: map[string]string{"code_sha256": codeHash(call.Args.String("code"))}})
				call.Reply(ctx, rt.text("", call.Lang, "confirm.bad", nil))
				return nil
			}
			if err != nil {
				return err
			}
			if _, err := rt.Audit(ctx, AuditEntry{Group: c.Group, Actor: by, Action: "confirm.used", Detail: c.Action, Data: map[string]string{"kind": c.Kind, "code_sha256": codeHash(c.Code)}}); err != nil {
				return err
			}
			call.Reply(ctx, rt.text("", call.Lang, "confirm.ok", map[string]string{"action": c.Action}))
			if c.Kind == confirmKindTimer && c.Owner == "" {
				return rt.sched.releaseHeld(ctx, string(c.Payload))
			}
			p, ok := rt.byName[c.Owner].(Confirmer)
			if !ok {
				return fmt.Errorf("confirmation owner %q cannot confirm", c.Owner)
			}
			return rt.safely(ctx, "confirm", c.Owner, func() error { return p.Confirmed(ctx, c, call) })
		},
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// pruneConfirmations deletes codes that were used or expired more than a
// day ago; the audit log keeps their history.
func (rt *Runtime) pruneConfirmations(ctx context.Context) {
	kv := rt.store.KV(runtimeNS)
	cutoff := rt.clock.Now().Add(-24 * time.Hour)
	var stale []string
	err := kv.Scan(ctx, "confirm/", func(key string, val []byte) error {
		var c Confirmation
		if json.Unmarshal(val, &c) != nil || c.Expires.Before(cutoff) || (c.Used && c.UsedAt.Before(cutoff)) {
			stale = append(stale, key)
		}
		return nil
	})
	if err != nil {
		rt.log.Error("confirmations not read", "err", err)
		return
	}
	for _, k := range stale {
		if err := kv.Delete(ctx, k); err != nil {
			rt.log.Error("stale confirmation not deleted", "err", err)
			return
		}
	}
}
