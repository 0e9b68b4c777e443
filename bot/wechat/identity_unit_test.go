package wechat

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/qunguan/qunguan/bot"
)

// The matching rules, case by case. The integration tests run them on
// real logins; these pin down the margins.

func people(nicks ...string) map[string]int {
	out := map[string]int{}
	for _, n := range nicks {
		out[fingerprint{Nick: n, Attr: 1}.person()]++
	}
	return out
}

func record(id, name, session string, nicks ...string) *groupRecord {
	r := &groupRecord{ID: bot.GroupID(id), Name: name, Session: session, Members: map[bot.UserID]memberRecord{}}
	for _, n := range nicks {
		r.Members[bot.UserID("u_"+n)] = memberRecord{FP: fingerprint{Nick: n, Attr: 1}, Present: true}
	}
	return r
}

func TestMatchGroups(t *testing.T) {
	abc := []string{"a", "b", "c", "d", "e"}
	tests := []struct {
		name    string
		session []sessionGroup
		known   []*groupRecord
		want    map[string]bot.GroupID
		amb     []ambiguity
	}{
		{
			name:    "same name",
			session: []sessionGroup{{UserName: "@@1", Name: "技术群", People: people("x")}},
			known:   []*groupRecord{record("g_1", "技术群", "", abc...)},
			want:    map[string]bot.GroupID{"@@1": "g_1"},
		},
		{
			name:    "same session name after a hot login, renamed meanwhile",
			session: []sessionGroup{{UserName: "@@1", Name: "新名字", People: people("x")}},
			known:   []*groupRecord{record("g_1", "技术群", "@@1", abc...)},
			want:    map[string]bot.GroupID{"@@1": "g_1"},
		},
		{
			name:    "renamed while offline, same members",
			session: []sessionGroup{{UserName: "@@1", Name: "新名字", People: people(abc...)}},
			known:   []*groupRecord{record("g_1", "技术群", "", abc...), record("g_2", "别的群", "", "p", "q")},
			want:    map[string]bot.GroupID{"@@1": "g_1"},
		},
		{
			name:    "another name and other members is a new group",
			session: []sessionGroup{{UserName: "@@1", Name: "新名字", People: people("a", "b", "x", "y", "z")}},
			known:   []*groupRecord{record("g_1", "技术群", "", abc...)},
			want:    map[string]bot.GroupID{},
		},
		{
			name: "namesakes told apart by their members",
			session: []sessionGroup{
				{UserName: "@@1", Name: "班级群", People: people("a", "b", "c")},
				{UserName: "@@2", Name: "班级群", People: people("x", "y", "z")},
			},
			known: []*groupRecord{record("g_1", "班级群", "", "x", "y", "z"), record("g_2", "班级群", "", "a", "b", "c")},
			want:  map[string]bot.GroupID{"@@1": "g_2", "@@2": "g_1"},
		},
		{
			name: "identical namesakes are asked about",
			session: []sessionGroup{
				{UserName: "@@1", Name: "班级群", People: people("a", "b", "c")},
				{UserName: "@@2", Name: "班级群", People: people("a", "b", "c")},
			},
			known: []*groupRecord{record("g_1", "班级群", "", "a", "b", "c"), record("g_2", "班级群", "", "a", "b", "c")},
			want:  map[string]bot.GroupID{},
			amb:   []ambiguity{{Sessions: []string{"@@1", "@@2"}, Known: []bot.GroupID{"g_1", "g_2"}}},
		},
		{
			name: "a new namesake next to the old group",
			session: []sessionGroup{
				{UserName: "@@1", Name: "班级群", People: people("a", "b", "c", "d")},
				{UserName: "@@2", Name: "班级群", People: people("x", "y")},
			},
			known: []*groupRecord{record("g_1", "班级群", "", "a", "b", "c")},
			want:  map[string]bot.GroupID{"@@1": "g_1"},
		},
		{
			name: "an operator's tag settles it",
			session: []sessionGroup{
				{UserName: "@@1", Name: "班级群 #2", People: people("a", "b", "c")},
				{UserName: "@@2", Name: "班级群", People: people("a", "b", "c")},
			},
			known: []*groupRecord{record("g_1", "班级群", "", "a", "b", "c"), record("g_2", "班级群", "", "a", "b", "c")},
			want:  map[string]bot.GroupID{"@@1": "g_2", "@@2": "g_1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matchGroups(tt.session, tt.known)
			if diff := cmp.Diff(tt.want, got.IDs); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.amb, got.Ambiguous, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ambiguous (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchMembers(t *testing.T) {
	known := map[bot.UserID]memberRecord{
		"u_a":  {FP: fingerprint{Nick: "Ann", Card: "班长", Attr: 1}},
		"u_b":  {FP: fingerprint{Nick: "Ben", Attr: 2}},
		"u_c":  {FP: fingerprint{Nick: "Cy", Card: "课代表", Attr: 3}},
		"u_z":  {FP: fingerprint{Nick: "Zed"}},          // no AttrStatus
		"u_t1": {FP: fingerprint{Nick: "Tom", Attr: 9}}, // two identical people
		"u_t2": {FP: fingerprint{Nick: "Tom", Attr: 9}},
		"u_f":  {FP: fingerprint{Nick: "Fay", Attr: 5}},
	}
	session := []sessionMember{
		{UserName: "@a", FP: fingerprint{Nick: "Ann", Card: "班长", Attr: 1}},    // unchanged
		{UserName: "@b", FP: fingerprint{Nick: "Ben", Card: "新名片", Attr: 2}},   // card changed
		{UserName: "@c", FP: fingerprint{Nick: "Cyrus", Card: "课代表", Attr: 3}}, // nick changed
		{UserName: "@z", FP: fingerprint{Nick: "Zoe"}},                         // no AttrStatus, nick changed: new
		{UserName: "@t", FP: fingerprint{Nick: "Tom", Attr: 9}},                // which Tom?
		{UserName: "@f", FP: fingerprint{Nick: "Fay", Attr: 5}},                // u_f is taken by a friend
	}
	ids, amb := matchMembers(session, known, map[bot.UserID]bool{"u_f": true})
	want := map[string]bot.UserID{"@a": "u_a", "@b": "u_b", "@c": "u_c"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if len(amb) != 1 || amb[0].UserName != "@t" {
		t.Errorf("ambiguous = %+v, want the Tom", amb)
	}
}

func TestMatchFriends(t *testing.T) {
	known := []*friendRecord{
		{ID: "u_op", Remark: "运营-王老师", Nick: "old nick"},
		{ID: "u_b", Nick: "Bob", Attr: 7},
		{ID: "u_s", Remark: "旧备注", Session: "@s"},
	}
	session := []sessionFriend{
		{UserName: "@op", Remark: "运营-王老师", Nick: "new nick"},
		{UserName: "@b", Nick: "Bob", Attr: 7},
		{UserName: "@s", Remark: "新备注"}, // the remark was edited in this session
		{UserName: "@x1", Remark: "同名"},
		{UserName: "@x2", Remark: "同名"},
	}
	ids, shared := matchFriends(session, known)
	want := map[string]bot.UserID{"@op": "u_op", "@b": "u_b", "@s": "u_s"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if len(shared) != 1 || len(shared["同名"]) != 2 {
		t.Errorf("shared = %+v", shared)
	}
}
