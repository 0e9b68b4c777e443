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

	"github.com/qunguan/qunguan/internal/failpoint"
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
	// UsedByID and UsedByName are who typed the code, so that an action
	// interrupted by a crash can be finished and reported to them.
	UsedByID   UserID `json:",omitempty"`
	UsedByName string `json:",omitempty"`
	// Applied is set once the confirmed action was carried out (or found
	// to be no longer possible). A code used but not applied was
	// interrupted: the runtime finishes it at the next start.
	Applied bool `json:",omitempty"`
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
func (rt *Runtime) useCode(ctx context.Context, code, by string, byID UserID, byName string) (Confirmation, error) {
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
		c.Used, c.UsedBy, c.UsedAt, c.UsedByID, c.UsedByName = true, by, now, byID, byName
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
			who := call.Asker()
			if call.Event.FromSelf {
				who = SelfID
			}
			c, err := rt.useCode(ctx, call.Args.String("code"), by, who, call.AskerName())
			if errors.Is(err, ErrBadCode) {
				_, _ = rt.Audit(ctx, AuditEntry{Actor: by, Action: "confirm.refused", Detail: "invalid, used or expired code", Data: map[string]string{"code_sha256": codeHash(call.Args.String("code"))}})
				call.Reply(ctx, rt.text("", call.Lang, "confirm.bad", nil))
				return nil
			}
			if err != nil {
				return err
			}
			failpoint.Inject("confirm.used")
			if _, err := rt.Audit(ctx, AuditEntry{Group: c.Group, Actor: by, Action: "confirm.used", Detail: c.Action, Data: map[string]string{"kind": c.Kind, "code_sha256": codeHash(c.Code)}}); err != nil {
				return err
			}
			call.Reply(ctx, rt.text("", call.Lang, "confirm.ok", map[string]string{"action": c.Action}))
			return rt.applyConfirmation(ctx, c, call)
		},
	}
}

// applyConfirmation carries out a confirmed action and records that it
// did, so that a restart does not carry it out again.
func (rt *Runtime) applyConfirmation(ctx context.Context, c Confirmation, call *Call) error {
	var err error
	if c.Kind == confirmKindTimer && c.Owner == "" {
		err = rt.sched.releaseHeld(ctx, string(c.Payload))
	} else if p, ok := rt.byName[c.Owner].(Confirmer); !ok {
		err = fmt.Errorf("confirmation owner %q cannot confirm", c.Owner)
	} else {
		err = rt.safely(ctx, "confirm", c.Owner, func() error { return p.Confirmed(ctx, c, call) })
	}
	if merr := rt.markApplied(ctx, c.Code); merr != nil && err == nil {
		err = merr
	}
	return err
}

func (rt *Runtime) markApplied(ctx context.Context, code string) error {
	return rt.store.KV(runtimeNS).Update(ctx, "confirm/"+code, func(old []byte) ([]byte, error) {
		var c Confirmation
		if old == nil || json.Unmarshal(old, &c) != nil {
			return old, nil
		}
		c.Applied = true
		return json.Marshal(c)
	})
}

// resumeConfirmations finishes actions whose code was used but which the
// bot did not carry out because it stopped in between (a crash, a kill).
// The owners' Confirmed methods check their own state, so one that had in
// fact been carried out does nothing the second time. The person who
// confirmed is told, in one message, instead of the command's replies.
func (rt *Runtime) resumeConfirmations(ctx context.Context) {
	cutoff := rt.clock.Now().Add(-24 * time.Hour)
	var todo []Confirmation
	err := rt.store.KV(runtimeNS).Scan(ctx, "confirm/", func(key string, val []byte) error {
		var c Confirmation
		if json.Unmarshal(val, &c) == nil && c.Used && !c.Applied && c.UsedAt.After(cutoff) {
			todo = append(todo, c)
		}
		return nil
	})
	if err != nil {
		rt.log.Error("confirmations not read", "err", err)
		return
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].UsedAt.Before(todo[j].UsedAt) })
	lang := rt.Config().Language
	for _, c := range todo {
		cmd := rt.router.lookup("confirm")
		call := &Call{rt: rt, Cmd: cmd, Lang: lang, Role: RoleOperator, Group: c.Group, quiet: true,
			Event: &Event{Kind: EventMessage, Sender: c.UsedByID, SenderName: c.UsedByName, FromSelf: c.UsedByID == SelfID, Time: c.UsedAt}}
		if g, ok := rt.GroupRecord(c.Group); ok {
			call.GroupName = g.Name
		}
		err := rt.applyConfirmation(ctx, c, call)
		detail, key, short := c.Action, "confirm.resumed", ""
		if err != nil {
			detail, key, short = c.Action+": "+err.Error(), "confirm.resume_failed", ShortError(err, 120)
			rt.log.Warn("interrupted confirmation not finished", "kind", c.Kind, "err", err)
		}
		_, _ = rt.Audit(ctx, AuditEntry{Group: c.Group, Actor: "runtime", Action: key, Detail: detail,
			Data: map[string]string{"kind": c.Kind, "code_sha256": codeHash(c.Code), "used_by": c.UsedBy}})
		text := rt.text("", lang, key, map[string]string{"action": c.Action, "err": short})
		if c.UsedByID != "" {
			rt.Send(ctx, ToUser(c.UsedByID), text, PrioReply)
		} else {
			rt.NotifyOperators(ctx, text, PrioReply)
		}
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
