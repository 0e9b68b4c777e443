package moderation

import (
	"hash/maphash"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/moderation/engine"
)

// floodTracker keeps the recent messages antiflood needs, in memory: a
// restart forgets them, which at worst lets one flood start over.
type floodTracker struct {
	mu      sync.Mutex
	seed    maphash.Seed
	members map[memberKey]*memberFlood
	waves   map[uint64]*wave
}

type memberKey struct {
	g bot.GroupID
	u bot.UserID
}

// memberFlood is one member's recent messages in one group.
type memberFlood struct {
	times  []time.Time            // message times within the rate window
	recent []stamped              // the last messages, for evidence
	texts  map[uint64][]time.Time // times of each recent text, for repeats
	done   map[uint64]bool        // texts whose repeat already fired
	until  time.Time              // flood episode: checks quiet until then
	fired  time.Time              // when the episode began
	last   time.Time
}

type stamped struct {
	at   time.Time
	text string
}

// wave is one text seen in several groups.
type wave struct {
	text   string
	first  time.Time
	last   time.Time
	groups map[bot.GroupID]time.Time
	posts  []post
	fired  bool
	// penalised are the members already penalised for this wave.
	penalised map[memberKey]bool
}

// post is one posting of a wave's text.
type post struct {
	g    bot.GroupID
	u    bot.UserID
	name string
	at   time.Time
}

const (
	recentKept   = 10               // messages kept per member for evidence
	maxWavePosts = 200              // posts kept per wave
	maxEpisode   = 30 * time.Minute // the longest one flood episode lasts
)

func newFloodTracker() *floodTracker {
	return &floodTracker{seed: maphash.MakeSeed(), members: map[memberKey]*memberFlood{}, waves: map[uint64]*wave{}}
}

// textKey normalises text for comparison (the matcher's normalisation,
// without the spaces it keeps) and hashes it; ok is false for texts
// shorter than min characters.
func (t *floodTracker) textKey(text string, min int) (uint64, bool) {
	n, _ := engine.Normalize(text)
	n = strings.ReplaceAll(n, " ", "")
	if utf8.RuneCountInString(n) < min {
		return 0, false
	}
	return maphash.String(t.seed, n), true
}

// floodHit is a rate or repeat check that fired.
type floodHit struct {
	kind     string // catFlood or catRepeat
	count    int
	within   time.Duration
	evidence []stamped
}

// observe records a message from u in g and reports a check that fired.
// After one fires, the member is in a flood episode: no further check
// fires until they have been quiet for the longer window, so a flood is
// one offence and one alert. An episode lasts at most maxEpisode, so
// someone who never stops cannot hide inside one.
func (t *floodTracker) observe(g bot.GroupID, u bot.UserID, now time.Time, text string, key uint64, keyed bool, f Flood) (floodHit, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := memberKey{g, u}
	m := t.members[k]
	if m == nil {
		m = &memberFlood{texts: map[uint64][]time.Time{}, done: map[uint64]bool{}}
		t.members[k] = m
	}
	m.last = now
	m.recent = append(m.recent, stamped{now, text})
	if len(m.recent) > recentKept {
		m.recent = m.recent[len(m.recent)-recentKept:]
	}
	episode := max(f.Rate.Within.D(), f.Repeat.Within.D())
	inEpisode := now.Before(m.until) && now.Sub(m.fired) < maxEpisode

	var hit floodHit
	fired := false
	if f.Rate.Messages > 0 {
		m.times = append(within(m.times, now, f.Rate.Within.D()), now)
		if len(m.times) >= f.Rate.Messages && !inEpisode {
			hit = floodHit{kind: catFlood, count: len(m.times), within: f.Rate.Within.D(), evidence: evidence(m.recent, len(m.times))}
			fired = true
		}
	}
	if f.Repeat.Times > 0 && keyed {
		for h, ts := range m.texts {
			if ts = within(ts, now, f.Repeat.Within.D()); len(ts) == 0 {
				delete(m.texts, h)
				delete(m.done, h)
			} else {
				m.texts[h] = ts
			}
		}
		m.texts[key] = append(m.texts[key], now)
		if n := len(m.texts[key]); n >= f.Repeat.Times && !m.done[key] && !inEpisode && !fired {
			hit = floodHit{kind: catRepeat, count: n, within: f.Repeat.Within.D()}
			for _, at := range m.texts[key] {
				hit.evidence = append(hit.evidence, stamped{at, text})
			}
			fired = true
		}
		if fired {
			m.done[key] = true
		}
	}
	switch {
	case fired:
		m.fired, m.until = now, now.Add(episode)
	case inEpisode:
		m.until = now.Add(episode)
	}
	return hit, fired
}

// within drops times older than d before now.
func within(ts []time.Time, now time.Time, d time.Duration) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= d {
		i++
	}
	return ts[i:]
}

func evidence(recent []stamped, n int) []stamped {
	if n > len(recent) {
		n = len(recent)
	}
	return append([]stamped(nil), recent[len(recent)-n:]...)
}

// waveHit is a spam wave: the text, the groups it reached, and the posts
// to penalise now (all of them when the wave is first seen, then each new
// one).
type waveHit struct {
	text   string
	groups []bot.GroupID
	posts  []post
	first  bool
	key    uint64
}

// observeWave records a post of a keyed text and reports a wave when the
// text has reached enough groups within the window.
func (t *floodTracker) observeWave(p post, text string, key uint64, w WaveCheck) (waveHit, bool) {
	if w.Groups == 0 {
		return waveHit{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	wv := t.waves[key]
	if wv == nil || p.at.Sub(wv.last) >= w.Within.D() {
		wv = &wave{text: text, first: p.at, groups: map[bot.GroupID]time.Time{}, penalised: map[memberKey]bool{}}
		t.waves[key] = wv
	}
	wv.last = p.at
	for g, at := range wv.groups {
		if p.at.Sub(at) >= w.Within.D() {
			delete(wv.groups, g)
		}
	}
	wv.groups[p.g] = p.at
	wv.posts = append(wv.posts, p)
	if len(wv.posts) > maxWavePosts {
		wv.posts = wv.posts[len(wv.posts)-maxWavePosts:]
	}
	if len(wv.groups) < w.Groups {
		return waveHit{}, false
	}
	h := waveHit{text: wv.text, key: key}
	for g := range wv.groups {
		h.groups = append(h.groups, g)
	}
	sort.Slice(h.groups, func(i, j int) bool { return h.groups[i] < h.groups[j] })
	h.first = !wv.fired
	wv.fired = true
	for _, q := range wv.posts {
		if k := (memberKey{q.g, q.u}); !wv.penalised[k] {
			wv.penalised[k] = true
			h.posts = append(h.posts, q)
		}
	}
	return h, true
}

// forget drops what is known about members who left.
func (t *floodTracker) forget(g bot.GroupID, users []bot.UserID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range users {
		delete(t.members, memberKey{g, u})
	}
}

// sweep drops state idle for longer than keep.
func (t *floodTracker) sweep(now time.Time, keep time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, m := range t.members {
		if now.Sub(m.last) > keep && !now.Before(m.until) {
			delete(t.members, k)
		}
	}
	for k, w := range t.waves {
		if now.Sub(w.last) > keep {
			delete(t.waves, k)
		}
	}
}

// size reports how many members and waves are tracked (for tests).
func (t *floodTracker) size() (int, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.members), len(t.waves)
}
