package bot

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// GroupID is qunguan's own durable identifier for a group. It never is a
// platform session name: web WeChat's UserName changes at every login, so the
// platform adapter maps each session's names onto GroupIDs kept in the store.
type GroupID string

// UserID is qunguan's own durable identifier for a person (friend or group
// member), with the same rules as GroupID.
type UserID string

// SelfID is the UserID that always denotes the bot account itself.
const SelfID UserID = "self"

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

func randomSuffix() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("bot: crypto/rand failed: " + err.Error())
	}
	return idEncoding.EncodeToString(b[:])
}

// NewGroupID returns a fresh random GroupID such as "g_7k2m9qxw0a".
func NewGroupID() GroupID { return GroupID("g_" + randomSuffix()) }

// NewUserID returns a fresh random UserID such as "u_3h8tq0cdz1".
func NewUserID() UserID { return UserID("u_" + randomSuffix()) }

// IsZero reports whether g is the empty id.
func (g GroupID) IsZero() bool { return g == "" }

// IsZero reports whether u is the empty id.
func (u UserID) IsZero() bool { return u == "" }

// ShortID returns the id without its kind prefix, for compact listings.
func ShortID(id string) string {
	if i := strings.IndexByte(id, '_'); i >= 0 {
		return id[i+1:]
	}
	return id
}
