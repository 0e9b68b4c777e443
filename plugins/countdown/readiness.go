package countdown

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export"
)

// Score is the readiness score out of 100 taken before a group is
// dissolved, as the seed article's 解散评估清单 suggests: data integrity
// (the archive verified, fresh and reconciled), members told, nothing
// pending, and how much of the group's life the record covers. Each line
// says why it scored what it did.
type Score struct {
	Total int    `json:"total"`
	Lines []Line `json:"lines"`
}

// Line is one criterion of a Score.
type Line struct {
	Text   bot.Text `json:"text"`
	Points int      `json:"points"`
	Max    int      `json:"max"`
}

// Text renders the lines, one per line, in lang.
func (s *Score) Text(lang bot.Lang) string {
	var out []string
	for _, l := range s.Lines {
		out = append(out, l.Text.In(lang))
	}
	return strings.Join(out, "\n")
}

// The weights of the criteria; they add up to 100.
const (
	wVerified   = 30
	wFresh      = 10
	wReconciled = 10
	wTold       = 20
	wPending    = 15
	wCoverage   = 15
)

// readiness scores lc's archive and group. A verification failure is not
// a low score but an error: the export is a hard gate.
func (p *Plugin) readiness(ctx context.Context, lc *Lifecycle) (*Score, error) {
	o := lc.Export
	g := lc.Group
	cfg := p.cfg(g)
	now := p.env.Now()
	s := &Score{}
	// add scores one line; durations are formatted in each language.
	add := func(key string, vars map[string]string, durs map[string]time.Duration, points, max int) {
		vars["points"], vars["max"] = strconv.Itoa(points), strconv.Itoa(max)
		zh, en := maps.Clone(vars), maps.Clone(vars)
		for k, d := range durs {
			zh[k], en[k] = bot.FormatDuration(d, bot.LangZH), bot.FormatDuration(d, bot.LangEN)
		}
		s.Lines = append(s.Lines, Line{Text: bot.Text{ZH: p.env.T(bot.LangZH, key, zh), EN: p.env.T(bot.LangEN, key, en)}, Points: points, Max: max})
		s.Total += points
	}

	// Data integrity: the archive is re-read now and must be the one the
	// audit log recorded at export.
	if err := export.Check(o); err != nil {
		return nil, err
	}
	add("countdown.ready.export_ok", map[string]string{}, nil, wVerified, wVerified)
	late := 0
	if err := p.env.Store.ScanRecords(ctx, g, o.Created, time.Time{}, func(r bot.Record) error {
		if r.Kind == bot.EventMessage && !r.FromBot && r.Time.After(o.Created) {
			late++
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if late == 0 {
		add("countdown.ready.fresh", map[string]string{}, nil, wFresh, wFresh)
	} else {
		add("countdown.ready.stale", map[string]string{"n": strconv.Itoa(late)}, nil, 0, wFresh)
	}
	if o.Reconciled {
		add("countdown.ready.reconciled", map[string]string{}, nil, wReconciled, wReconciled)
	} else {
		add("countdown.ready.unmatched", map[string]string{}, nil, 0, wReconciled)
	}

	// Members told: the earliest announcement of this deadline (the start
	// notice, or a postponement), and how far ahead it came.
	switch {
	case lc.Silent:
		add("countdown.ready.silent", map[string]string{}, nil, wTold, wTold)
	default:
		var first time.Time
		for k, t := range lc.Sent {
			if (k == "start" || strings.HasPrefix(k, "postpone:")) && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
		reminders := 0
		for _, r := range lc.Reminders {
			if !r.Sent.IsZero() && !r.Collapsed {
				reminders++
			}
		}
		ahead := lc.Deadline.Sub(first)
		switch {
		case first.IsZero():
			add("countdown.ready.not_told", map[string]string{}, nil, 0, wTold)
		case ahead >= cfg.NoticeAhead.D():
			add("countdown.ready.told", map[string]string{"n": strconv.Itoa(reminders)}, map[string]time.Duration{"ahead": ahead}, wTold, wTold)
		default:
			add("countdown.ready.told_late", map[string]string{}, map[string]time.Duration{"ahead": ahead, "need": cfg.NoticeAhead.D()}, wTold/2, wTold)
		}
	}

	// Pending moderation items: open operator tasks of the group (other
	// than this lifecycle's own), then moderation actions of the last day.
	tasks, err := p.env.Store.Tasks(ctx)
	if err != nil {
		return nil, err
	}
	var open []string
	for _, t := range tasks {
		if t.Group == g && t.Ref != lc.ID && (t.State == bot.TaskOpen || t.State == bot.TaskDone) {
			open = append(open, t.ID+" "+t.Title)
		}
	}
	mods, err := p.env.Store.AuditEntries(ctx, bot.AuditFilter{Group: g, Action: "moderation.", Since: now.Add(-24 * time.Hour)})
	if err != nil {
		return nil, err
	}
	switch {
	case len(open) > 0:
		add("countdown.ready.pending", map[string]string{"n": strconv.Itoa(len(open)), "list": strings.Join(open, "；")}, nil, 0, wPending)
	case len(mods) > 0:
		add("countdown.ready.recent", map[string]string{"n": strconv.Itoa(len(mods))}, nil, wPending/2, wPending)
	default:
		add("countdown.ready.no_pending", map[string]string{}, nil, wPending, wPending)
	}

	// Coverage: the share of the group's recorded life the bot was offline.
	window := o.WindowEnd.Sub(o.WindowStart)
	if len(o.Gaps) == 0 || o.OfflineSeconds == 0 || window <= 0 {
		add("countdown.ready.no_gaps", map[string]string{}, nil, wCoverage, wCoverage)
	} else {
		off := time.Duration(o.OfflineSeconds) * time.Second
		pct := float64(off) / float64(window) * 100
		points, mark := 0, "✘"
		switch {
		case pct <= 5:
			points, mark = wCoverage*2/3, "△"
		case pct <= 20:
			points, mark = wCoverage/3, "△"
		}
		add("countdown.ready.gaps", map[string]string{"mark": mark, "n": strconv.Itoa(len(o.Gaps)), "pct": fmt.Sprintf("%.1f", pct)}, map[string]time.Duration{"total": off}, points, wCoverage)
	}
	return s, nil
}
