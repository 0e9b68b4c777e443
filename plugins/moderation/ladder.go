package moderation

import (
	"time"
)

// offence is one recorded offence of a member in a group.
type offence struct {
	At       time.Time `json:"at"`
	Points   int       `json:"points"`
	Category string    `json:"category"`
	// Rule is the word-list entry that matched, or the check that fired.
	Rule string `json:"rule,omitempty"`
	// Match is the flagged part of the original text.
	Match string `json:"match,omitempty"`
	// By and Reason are set for manual warnings.
	By     string `json:"by,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// memberState is what the ladder keeps about one member of one group.
type memberState struct {
	// Offences are the offences still counting, oldest first.
	Offences []offence `json:"offences,omitempty"`
	// Notice is the level last announced (public warning, admins' DM), at NoticeAt.
	Notice   Level     `json:"notice,omitempty"`
	NoticeAt time.Time `json:"notice_at,omitempty"`
	// Task is the open operator task to remove the member, if any.
	Task string `json:"task,omitempty"`
}

// prune drops offences older than decay: they no longer count.
func (s *memberState) prune(now time.Time, decay time.Duration) {
	keep := s.Offences[:0]
	for _, o := range s.Offences {
		if now.Sub(o.At) < decay {
			keep = append(keep, o)
		}
	}
	s.Offences = keep
}

// total is the sum of the points still counting.
func (s *memberState) total() int {
	n := 0
	for _, o := range s.Offences {
		n += o.Points
	}
	return n
}

// verdict is what the ladder decided about one incident.
type verdict struct {
	// Level is the incident's level: the highest of its categories'
	// actions and the ladder's level for the new total.
	Level Level
	// Announce is false when the same level was announced about this
	// member within the notice cooldown: the incident is recorded but not
	// repeated in public or to the admins.
	Announce bool
	// Remove is set when the member should be removed now (no removal is
	// pending already).
	Remove bool
	Points int
	Total  int
}

// record adds an incident's offences to s and decides what to do, at now
// under cfg. base is the highest action of the incident's categories.
func record(cfg *Config, s *memberState, offs []offence, base Level, now time.Time) verdict {
	s.prune(now, cfg.Ladder.Decay.D())
	v := verdict{Level: base}
	for _, o := range offs {
		v.Points += o.Points
		s.Offences = append(s.Offences, o)
	}
	v.Total = s.total()
	if l := cfg.ladderLevel(v.Total); l > v.Level {
		v.Level = l
	}
	if v.Level > s.Notice || now.Sub(s.NoticeAt) >= cfg.NoticeCooldown.D() {
		v.Announce = true
		s.Notice, s.NoticeAt = v.Level, now
	}
	v.Remove = v.Level >= LevelRemove && s.Task == ""
	return v
}

// undo removes the most recent offence still counting and returns it.
func undo(cfg *Config, s *memberState, now time.Time) (offence, bool) {
	s.prune(now, cfg.Ladder.Decay.D())
	if len(s.Offences) == 0 {
		return offence{}, false
	}
	o := s.Offences[len(s.Offences)-1]
	s.Offences = s.Offences[:len(s.Offences)-1]
	// The next offence is announced again from its own level.
	s.Notice = cfg.ladderLevel(s.total())
	return o, true
}
