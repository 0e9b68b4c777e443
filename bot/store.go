package bot

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Store lookups that find nothing.
var ErrNotFound = errors.New("not found")

// GroupRecord is what the store knows about a group.
type GroupRecord struct {
	ID   GroupID
	Name string
	// NameHistory holds earlier names, oldest first.
	NameHistory []NameChange
	// SessionName is the platform's name for the group in the last session
	// (web WeChat's "@@..." UserName). Opaque outside the adapter.
	SessionName string
	FirstSeen   time.Time
	LastSeen    time.Time
	// LastHuman is the time of the last message from a person (not the bot).
	LastHuman time.Time
	// MemberCount is the member count at the last refresh.
	MemberCount int
	// BotPresent is false once the bot account was removed from the group.
	BotPresent bool
	// Gone is set when the group was observed dissolved or lost, at GoneAt.
	Gone   bool
	GoneAt time.Time
	// Frozen groups are recorded but not moderated or welcomed (see countdown).
	Frozen bool
	// Attrs holds small platform-specific facts (e.g. the adapter's
	// fingerprint of the member set).
	Attrs map[string]string
}

// NameChange is one earlier name of a group, used until Until.
type NameChange struct {
	Name  string
	Until time.Time
}

// UserRecord is what the store knows about a person across groups.
type UserRecord struct {
	ID     UserID
	Nick   string
	Remark string
	Friend bool
	// SessionName is the platform's name in the last session. Opaque.
	SessionName string
	// Fingerprint identifies the person for the adapter's identity mapping.
	Fingerprint string
	FirstSeen   time.Time
	LastSeen    time.Time
}

// MemberRecord is a person's membership of one group, kept after they leave.
type MemberRecord struct {
	Group       GroupID
	User        UserID
	Nick        string
	Card        string
	Fingerprint string
	// Present is false after the member left or was removed.
	Present   bool
	FirstSeen time.Time
	JoinedAt  time.Time
	LeftAt    time.Time
	// LastSpoke and Messages are maintained by the message recorder.
	LastSpoke time.Time
	Messages  int64
}

// DisplayName is the name to show for the member: card, else nickname.
func (m MemberRecord) DisplayName() string {
	return Member{ID: m.User, Nick: m.Nick, Card: m.Card}.DisplayName()
}

// Record is one entry of a group's timeline: a message or a membership or
// name event. The store keeps records per group in time order.
type Record struct {
	Group GroupID
	// Seq is assigned by the store; with Time it orders records.
	Seq        uint64
	Time       time.Time
	Kind       EventKind
	Sender     UserID
	SenderName string
	// FromBot marks messages the bot account sent (from qunguan or the phone).
	FromBot   bool
	MsgID     string
	MsgType   MsgType
	Text      string
	FileName  string
	Size      int64
	MediaPath string
	// Purged is set when retention removed the body (Text, MediaPath).
	Purged bool
}

// HourCount is the number of records of each kind in one UTC hour.
type HourCount struct {
	Hour     time.Time // UTC, truncated to the hour
	Messages int       // EventMessage records from people
	Bot      int       // EventMessage records from the bot account
	Media    int       // image and file messages (included in Messages/Bot)
	Joins    int
	Leaves   int
	Other    int
}

// AuditEntry is one entry of the hash-chained audit log.
type AuditEntry struct {
	// Seq, PrevHash and Hash are assigned by the store.
	Seq       uint64
	Time      time.Time
	Group     GroupID
	GroupName string
	// Actor is who acted: "system", "plugin:moderation", or a user as
	// "u_xxx (name)".
	Actor string
	// Action is a dotted name such as "moderation.warn" or "countdown.start".
	Action string
	// Detail explains the entry in a sentence.
	Detail string
	// Evidence is the triggering content, verbatim (Draupnir's users could
	// not review false positives because it was deleted).
	Evidence string
	// Data holds structured facts (manifest hash, counts, codes).
	Data     map[string]string
	PrevHash string
	Hash     string
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	Group  GroupID
	Action string // prefix match
	Since  time.Time
	Limit  int // the newest Limit entries; 0 means all
}

// AuditReport is the result of verifying the audit chain.
type AuditReport struct {
	Entries int
	// BrokenAt is the Seq of the first entry that fails verification, 0 if none.
	BrokenAt uint64
	Reason   string
	Head     string // hash of the last entry
}

// OK reports whether the chain verified.
func (r AuditReport) OK() bool { return r.BrokenAt == 0 }

// MissedPolicy says what happens to a timer whose deadline passed while the
// bot was not running.
type MissedPolicy uint8

const (
	// MissedRun runs the timer at start (reminders, benign jobs).
	MissedRun MissedPolicy = iota + 1
	// MissedConfirm holds the timer until an operator re-confirms it
	// (destructive steps are never run late on their own).
	MissedConfirm
	// MissedSkip drops the timer and tells the owning plugin.
	MissedSkip
)

// TimerRecord is a persisted one-shot timer.
type TimerRecord struct {
	ID      string
	Owner   string // plugin name
	Kind    string // the handler kind within the plugin
	Group   GroupID
	Due     time.Time
	Payload []byte
	Missed  MissedPolicy
	Created time.Time
	// Held is set when the timer was missed and waits for confirmation.
	Held bool
}

// TaskState is the state of an operator task.
type TaskState uint8

// Operator task states.
const (
	TaskOpen     TaskState = iota + 1 // waiting for a human
	TaskDone                          // a human said it is done; not yet observed
	TaskVerified                      // the bot observed the outcome
	TaskExpired                       // nobody did it in time
	TaskCanceled                      // no longer needed
)

func (s TaskState) String() string {
	switch s {
	case TaskOpen:
		return "open"
	case TaskDone:
		return "done"
	case TaskVerified:
		return "verified"
	case TaskExpired:
		return "expired"
	case TaskCanceled:
		return "canceled"
	}
	return "unknown"
}

// WatchKind is the outcome a task waits to observe.
type WatchKind uint8

// What an operator task watches for.
const (
	WatchNothing      WatchKind = iota // closed by hand only
	WatchMembersGone                   // Users are no longer members of Group
	WatchBotRemoved                    // the bot is no longer in Group
	WatchGroupGone                     // Group is dissolved: bot removed or no members left
	WatchMembersAdded                  // Users are members of Group
)

// Task is a recorded request for a human to do what the platform cannot.
type Task struct {
	ID    string
	Owner string // plugin that created it
	Kind  string // e.g. "remove_member", "dissolve_group", "identity"
	Ref   string // the owner's reference (countdown id, ...)
	Group GroupID
	Users []UserID
	// Title is one line; Steps are the exact instructions, in the operator's language.
	Title   string
	Steps   string
	State   TaskState
	Watch   WatchKind
	Created time.Time
	Updated time.Time
	Expires time.Time
	Note    string
	// Alerted is when operators were last reminded of the task.
	Alerted time.Time
}

// Session is a period during which the bot was online on its platform.
type Session struct {
	ID    uint64
	Start time.Time
	// End is zero while the session is open; LastAlive is the last heartbeat.
	End       time.Time
	LastAlive time.Time
	EndReason string
}

// AdminGrant records that a person is a group admin of a group.
type AdminGrant struct {
	Group     GroupID
	User      UserID
	GrantedBy string
	At        time.Time
}

// KV is a plugin's private namespaced key-value space.
type KV interface {
	Get(ctx context.Context, key string) ([]byte, error) // ErrNotFound if absent
	Put(ctx context.Context, key string, val []byte) error
	Delete(ctx context.Context, key string) error
	// Update replaces the value of key with fn's result in one transaction;
	// old is nil when absent, and a nil result deletes the key.
	Update(ctx context.Context, key string, fn func(old []byte) ([]byte, error)) error
	// Scan calls fn for each key with the prefix, in key order.
	Scan(ctx context.Context, prefix string, fn func(key string, val []byte) error) error
}

// StoreReader is the read side of the store that plugins may use.
type StoreReader interface {
	Group(ctx context.Context, id GroupID) (GroupRecord, error)
	Groups(ctx context.Context) ([]GroupRecord, error)
	User(ctx context.Context, id UserID) (UserRecord, error)
	Users(ctx context.Context) ([]UserRecord, error)
	Member(ctx context.Context, g GroupID, u UserID) (MemberRecord, error)
	// Members lists present and former members of g.
	Members(ctx context.Context, g GroupID) ([]MemberRecord, error)
	// ScanRecords calls fn for each record of g with from <= Time < to, in
	// order, reading in short transactions; a zero to means no upper bound.
	ScanRecords(ctx context.Context, g GroupID, from, to time.Time, fn func(Record) error) error
	// HourCounts returns the non-empty hours of g in [from, to).
	HourCounts(ctx context.Context, g GroupID, from, to time.Time) ([]HourCount, error)
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	Tasks(ctx context.Context) ([]Task, error)
	Sessions(ctx context.Context, from, to time.Time) ([]Session, error)
	Admins(ctx context.Context, g GroupID) ([]AdminGrant, error)
}

// Store is everything the runtime needs from persistence. Package store
// implements it on bbolt.
type Store interface {
	StoreReader

	PutGroup(ctx context.Context, g GroupRecord) error
	PutUser(ctx context.Context, u UserRecord) error
	PutMembers(ctx context.Context, ms []MemberRecord) error

	// AppendRecord queues r for the group-commit writer and returns a
	// channel that yields the commit result once r is durable.
	AppendRecord(r Record) <-chan error
	// Sync waits until every record queued so far is durable.
	Sync(ctx context.Context) error
	// PurgeBodies drops text and media paths of g's records older than
	// before, keeping the skeleton for statistics, and returns the count.
	// media, if not nil, receives the media paths dropped, after the
	// records that named them are rewritten.
	PurgeBodies(ctx context.Context, g GroupID, before time.Time, media func(paths []string)) (int, error)

	// AppendAudit chains e onto the audit log and returns it with Seq and hashes.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	VerifyAudit(ctx context.Context) (AuditReport, error)

	PutTimer(ctx context.Context, t TimerRecord) error
	DeleteTimer(ctx context.Context, id string) error
	Timers(ctx context.Context) ([]TimerRecord, error)

	PutTask(ctx context.Context, t Task) error
	Task(ctx context.Context, id string) (Task, error)

	SetAdmin(ctx context.Context, grant AdminGrant, on bool) error

	// OpenSession records that the bot came online; Heartbeat marks it
	// alive; CloseSession ends it. At open, a session left open by a crash
	// is closed at its last heartbeat with reason "crash".
	OpenSession(ctx context.Context, at time.Time) (Session, error)
	Heartbeat(ctx context.Context, at time.Time) error
	CloseSession(ctx context.Context, at time.Time, reason string) error

	// KV returns the namespace's key-value space.
	KV(namespace string) KV
}
