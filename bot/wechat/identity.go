package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Identity across logins.
//
// Web WeChat names everyone anew at every login (the @/@@ UserNames), so
// the adapter keeps what it knows about each durable id in the store,
// under its own KV namespace, and maps each session's names onto it:
//
//	group/<GroupID>   groupRecord: last name, last session name, members
//	friend/<UserID>   friendRecord: remark, nickname, AttrStatus
//	asked/<key>       the operator task already opened about an ambiguity
//	told/<GroupID>    when operators were told to save the group to contacts
//
// Groups match by an operator's tag in the name ("#<short id>"), by the
// session name (a hot login keeps it), by exact name, then by how much the
// member sets overlap. Friends match by the remark the bot account gave
// them. Other members match within their group by fingerprint: nickname,
// group card and AttrStatus, which the server assigns and nobody can set.
// Whatever fits several ways at once is not guessed: it gets a new id and
// an operator task says so.
const kvNamespace = "wechat"

const (
	keyGroup  = "group/"
	keyFriend = "friend/"
	keyAsked  = "asked/"
	keyTold   = "told/"
)

// fingerprint is how a member looks in one group.
type fingerprint struct {
	Nick string `json:"n"`
	Card string `json:"c,omitempty"`
	Attr int64  `json:"a,omitempty"`
}

// person is the part of a fingerprint that is the same in every group; it
// is what group overlap compares, so that card changes do not count.
func (f fingerprint) person() string { return f.Nick + "\x00" + strconv.FormatInt(f.Attr, 10) }

// memberRecord is one person's last known look in a group. Former members
// are kept so that someone who leaves and comes back keeps their id.
type memberRecord struct {
	FP      fingerprint `json:"fp"`
	Present bool        `json:"present"`
	Seen    time.Time   `json:"seen"`
	// Session is the member's UserName in the group record's session:
	// within one session (a hot login, a network outage) it identifies
	// the member exactly, even among lookalikes.
	Session string `json:"session,omitempty"`
}

// groupRecord is what the adapter remembers of a group between logins.
type groupRecord struct {
	ID      bot.GroupID                 `json:"-"`
	Name    string                      `json:"name"`
	Session string                      `json:"session"`
	Members map[bot.UserID]memberRecord `json:"members"`
	Updated time.Time                   `json:"updated"`
}

// maxFormer bounds how many former members a group record keeps.
const maxFormer = 2000

// people returns the multiset of person keys of the present members.
func (r *groupRecord) people() map[string]int {
	out := map[string]int{}
	for _, m := range r.Members {
		if m.Present {
			out[m.FP.person()]++
		}
	}
	return out
}

// prune drops the longest-gone former members beyond maxFormer.
func (r *groupRecord) prune() {
	var former []bot.UserID
	for id, m := range r.Members {
		if !m.Present {
			former = append(former, id)
		}
	}
	if len(former) <= maxFormer {
		return
	}
	sort.Slice(former, func(i, j int) bool { return r.Members[former[i]].Seen.Before(r.Members[former[j]].Seen) })
	for _, id := range former[:len(former)-maxFormer] {
		delete(r.Members, id)
	}
}

// friendRecord is what the adapter remembers of a friend between logins.
type friendRecord struct {
	ID      bot.UserID `json:"-"`
	Remark  string     `json:"remark"`
	Nick    string     `json:"nick"`
	Attr    int64      `json:"attr,omitempty"`
	Session string     `json:"session"`
}

// idStore is the owner goroutine's copy of the identity records, written
// through to the store.
type idStore struct {
	kv      bot.KV
	groups  map[bot.GroupID]*groupRecord
	friends map[bot.UserID]*friendRecord
}

func loadIDs(ctx context.Context, kv bot.KV) (*idStore, error) {
	s := &idStore{kv: kv, groups: map[bot.GroupID]*groupRecord{}, friends: map[bot.UserID]*friendRecord{}}
	err := kv.Scan(ctx, keyGroup, func(key string, val []byte) error {
		r := &groupRecord{ID: bot.GroupID(strings.TrimPrefix(key, keyGroup))}
		if err := json.Unmarshal(val, r); err != nil {
			return fmt.Errorf("identity record %s: %w", key, err)
		}
		if r.Members == nil {
			r.Members = map[bot.UserID]memberRecord{}
		}
		s.groups[r.ID] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = kv.Scan(ctx, keyFriend, func(key string, val []byte) error {
		r := &friendRecord{ID: bot.UserID(strings.TrimPrefix(key, keyFriend))}
		if err := json.Unmarshal(val, r); err != nil {
			return fmt.Errorf("identity record %s: %w", key, err)
		}
		s.friends[r.ID] = r
		return nil
	})
	return s, err
}

func (s *idStore) putGroup(ctx context.Context, r *groupRecord) error {
	r.prune()
	s.groups[r.ID] = r
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.kv.Put(ctx, keyGroup+string(r.ID), b)
}

func (s *idStore) putFriend(ctx context.Context, r *friendRecord) error {
	s.friends[r.ID] = r
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.kv.Put(ctx, keyFriend+string(r.ID), b)
}

// flag reads a marker key; ok is false when it is absent.
func (s *idStore) flag(ctx context.Context, key string) (string, bool, error) {
	v, err := s.kv.Get(ctx, key)
	if errors.Is(err, bot.ErrNotFound) {
		return "", false, nil
	}
	return string(v), err == nil, err
}

// sessionGroup is a group as the current session shows it, for matching.
type sessionGroup struct {
	UserName string
	Name     string
	People   map[string]int // person keys of the members, without the bot
}

// ambiguity is a set of session groups that fit the same known groups
// equally well.
type ambiguity struct {
	Sessions []string // UserNames
	Known    []bot.GroupID
}

// groupMatch is the result of matching a session's groups.
type groupMatch struct {
	IDs       map[string]bot.GroupID // UserName -> id; absent: a new group
	Ambiguous []ambiguity
}

// Thresholds of the member overlap (Jaccard of person keys). A group with
// the same name needs less to be told apart from its namesakes than a
// group with another name needs to be taken for a renamed one; the best
// pair must beat every rival by a margin, or it is a guess.
const (
	minOverlapSameName = 0.3
	minOverlapRenamed  = 0.6
	overlapMargin      = 0.15
)

// overlap is the Jaccard index of two multisets.
func overlap(a, b map[string]int) float64 {
	inter, union := 0, 0
	for k, n := range a {
		m := b[k]
		inter += min(n, m)
		union += max(n, m)
	}
	for k, m := range b {
		if _, ok := a[k]; !ok {
			union += m
		}
	}
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// tagRE finds an operator's tag in a group name: "#" and a short id.
func tagOf(name string, id bot.GroupID) bool {
	return strings.Contains(name, "#"+bot.ShortID(string(id)))
}

// matchGroups maps the session's groups onto known records. It never maps
// two session groups to one record or the other way round.
func matchGroups(session []sessionGroup, known []*groupRecord) groupMatch {
	res := groupMatch{IDs: map[string]bot.GroupID{}}
	claimed := map[bot.GroupID]bool{}
	done := func(s sessionGroup) bool { _, ok := res.IDs[s.UserName]; return ok }
	assign := func(s sessionGroup, k *groupRecord) {
		res.IDs[s.UserName] = k.ID
		claimed[k.ID] = true
	}
	// unique calls assign when exactly one unclaimed record fits s.
	unique := func(s sessionGroup, fits func(*groupRecord) bool) {
		var hit *groupRecord
		for _, k := range known {
			if claimed[k.ID] || !fits(k) {
				continue
			}
			if hit != nil {
				return
			}
			hit = k
		}
		if hit != nil {
			assign(s, hit)
		}
	}

	// 1. An operator's tag, then the session name (the same session after
	// a hot login or a network outage).
	for _, s := range session {
		unique(s, func(k *groupRecord) bool { return tagOf(s.Name, k.ID) })
	}
	for _, s := range session {
		if !done(s) {
			unique(s, func(k *groupRecord) bool { return k.Session != "" && k.Session == s.UserName })
		}
	}

	// 2. Exact names, with overlap to tell namesakes apart.
	byName := map[string][]sessionGroup{}
	for _, s := range session {
		if !done(s) {
			byName[s.Name] = append(byName[s.Name], s)
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var ks []*groupRecord
		for _, k := range known {
			if !claimed[k.ID] && k.Name == n {
				ks = append(ks, k)
			}
		}
		ss := byName[n]
		if len(ks) == 0 {
			continue
		}
		if len(ss) == 1 && len(ks) == 1 {
			assign(ss[0], ks[0])
			continue
		}
		pairUp(ss, ks, minOverlapSameName, assign, &res)
	}

	// 3. Renamed while offline: a strong overlap with a record of another
	// name. What step 2 found ambiguous stays so.
	asked := map[string]bool{}
	for _, a := range res.Ambiguous {
		for _, n := range a.Sessions {
			asked[n] = true
		}
		for _, id := range a.Known {
			asked[string(id)] = true
		}
	}
	var rest []sessionGroup
	for _, s := range session {
		if !done(s) && !asked[s.UserName] {
			rest = append(rest, s)
		}
	}
	var ks []*groupRecord
	for _, k := range known {
		if !claimed[k.ID] && !asked[string(k.ID)] {
			ks = append(ks, k)
		}
	}
	if len(rest) > 0 && len(ks) > 0 {
		pairUp(rest, ks, minOverlapRenamed, assign, &res)
	}
	return res
}

// pairUp assigns the session groups and records that are each other's
// clear best match, and reports those left with rivals as ambiguous.
func pairUp(ss []sessionGroup, ks []*groupRecord, threshold float64, assign func(sessionGroup, *groupRecord), res *groupMatch) {
	score := make([][]float64, len(ss))
	for i, s := range ss {
		score[i] = make([]float64, len(ks))
		for j, k := range ks {
			score[i][j] = overlap(s.People, k.people())
		}
	}
	usedS, usedK := make([]bool, len(ss)), make([]bool, len(ks))
	for changed := true; changed; {
		changed = false
		for i := range ss {
			if usedS[i] {
				continue
			}
			j, best, second := -1, 0.0, 0.0
			for jj := range ks {
				if usedK[jj] {
					continue
				}
				switch v := score[i][jj]; {
				case v > best:
					j, best, second = jj, v, best
				case v > second:
					second = v
				}
			}
			if j < 0 || best < threshold || best-second < overlapMargin {
				continue
			}
			// The record must prefer this group as clearly.
			rival := 0.0
			for ii := range ss {
				if ii != i && !usedS[ii] {
					rival = max(rival, score[ii][j])
				}
			}
			if best-rival < overlapMargin {
				continue
			}
			usedS[i], usedK[j] = true, true
			assign(ss[i], ks[j])
			changed = true
		}
	}
	// What is left with a rival above the threshold is ambiguous: the
	// groups, and the records any of them fits.
	var amb ambiguity
	cand := make([]bool, len(ks))
	for i, s := range ss {
		if usedS[i] {
			continue
		}
		fits := false
		for j := range ks {
			if !usedK[j] && score[i][j] >= threshold {
				fits, cand[j] = true, true
			}
		}
		if fits {
			amb.Sessions = append(amb.Sessions, s.UserName)
		}
	}
	if len(amb.Sessions) == 0 {
		return
	}
	for j, k := range ks {
		if cand[j] {
			amb.Known = append(amb.Known, k.ID)
		}
	}
	res.Ambiguous = append(res.Ambiguous, amb)
}

// sessionFriend is a friend as the current session shows them.
type sessionFriend struct {
	UserName, Nick, Remark string
	Attr                   int64
}

// matchFriends maps friends by the session name (hot login), then by
// remark, then, for friends without a remark, by nickname and AttrStatus.
// It returns the ids and the remarks several friends share.
func matchFriends(session []sessionFriend, known []*friendRecord) (map[string]bot.UserID, map[string][]sessionFriend) {
	ids := map[string]bot.UserID{}
	claimed := map[bot.UserID]bool{}
	shared := map[string][]sessionFriend{}

	byRemark := map[string][]sessionFriend{}
	for _, f := range session {
		if f.Remark != "" {
			byRemark[f.Remark] = append(byRemark[f.Remark], f)
		}
	}
	for r, fs := range byRemark {
		if len(fs) > 1 {
			shared[r] = fs
		}
	}
	pick := func(f sessionFriend, fits func(*friendRecord) bool) bool {
		var hit *friendRecord
		for _, k := range known {
			if claimed[k.ID] || !fits(k) {
				continue
			}
			if hit != nil {
				return false
			}
			hit = k
		}
		if hit == nil {
			return false
		}
		ids[f.UserName], claimed[hit.ID] = hit.ID, true
		return true
	}
	for _, f := range session {
		if shared[f.Remark] != nil {
			continue
		}
		// The same session name is the same person (a hot login, or a
		// remark edited while online).
		if pick(f, func(k *friendRecord) bool { return k.Session == f.UserName }) {
			continue
		}
		if f.Remark != "" {
			// The remark alone, else the nickname among the records with
			// that remark.
			_ = pick(f, func(k *friendRecord) bool { return k.Remark == f.Remark }) ||
				pick(f, func(k *friendRecord) bool { return k.Remark == f.Remark && k.Nick == f.Nick && k.Attr == f.Attr })
			continue
		}
		if f.Attr != 0 {
			pick(f, func(k *friendRecord) bool { return k.Remark == "" && k.Nick == f.Nick && k.Attr == f.Attr })
		}
	}
	return ids, shared
}

// sessionMember is a group member as the current session shows them.
type sessionMember struct {
	UserName string
	FP       fingerprint
}

// matchMembers maps a group's members onto the group's record: the exact
// fingerprint first, then nickname and AttrStatus (the card changed), then
// card and AttrStatus (the nickname changed). AttrStatus is set by the
// server, so the looser levels need it; without it only the exact
// fingerprint counts. taken are ids already given to someone (friends);
// ambiguous lists members whose look several people share.
func matchMembers(session []sessionMember, known map[bot.UserID]memberRecord, taken map[bot.UserID]bool) (ids map[string]bot.UserID, ambiguous []sessionMember) {
	ids = map[string]bot.UserID{}
	out := map[string]bool{} // matched or given up on
	levels := []func(f fingerprint) (string, bool){
		func(f fingerprint) (string, bool) {
			return f.Nick + "\x00" + f.Card + "\x00" + strconv.FormatInt(f.Attr, 10), true
		},
		func(f fingerprint) (string, bool) {
			return f.Nick + "\x00" + strconv.FormatInt(f.Attr, 10), f.Attr != 0
		},
		func(f fingerprint) (string, bool) {
			return f.Card + "\x00" + strconv.FormatInt(f.Attr, 10), f.Attr != 0 && f.Card != ""
		},
	}
	for li, level := range levels {
		sess := map[string][]sessionMember{}
		for _, m := range session {
			if k, ok := level(m.FP); ok && !out[m.UserName] {
				sess[k] = append(sess[k], m)
			}
		}
		rec := map[string][]bot.UserID{}
		for id, r := range known {
			if _, used := taken[id]; used {
				continue
			}
			if k, ok := level(r.FP); ok {
				rec[k] = append(rec[k], id)
			}
		}
		for k, ms := range sess {
			cands := rec[k]
			switch {
			case len(ms) == 1 && len(cands) == 1:
				ids[ms[0].UserName] = cands[0]
				out[ms[0].UserName] = true
				taken[cands[0]] = true
			case li == 0 && len(cands) > 0 && (len(ms) > 1 || len(cands) > 1):
				// Identical people: whichever is whom would be a guess.
				for _, m := range ms {
					out[m.UserName] = true
					ambiguous = append(ambiguous, m)
				}
			}
		}
	}
	return ids, ambiguous
}
