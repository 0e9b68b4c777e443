package archive

import (
	"context"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Source is the history of one group, as the exporter reads it. The store
// implements it through FromStore; tests and benchmarks use their own.
type Source interface {
	// Group describes the group.
	Group(ctx context.Context) (bot.GroupRecord, error)
	// Members lists present and former members.
	Members(ctx context.Context) ([]bot.MemberRecord, error)
	// Scan calls fn for each record with from <= Time < to in time order;
	// a zero to means no upper bound. The exporter scans exactly once.
	Scan(ctx context.Context, from, to time.Time, fn func(bot.Record) error) error
	// HourCounts returns the non-empty UTC hours in [from, to); the manifest
	// reconciles what was written against them.
	HourCounts(ctx context.Context, from, to time.Time) ([]bot.HourCount, error)
	// Sessions returns the periods the bot was online that overlap
	// [from, to); the time outside them is an offline gap.
	Sessions(ctx context.Context, from, to time.Time) ([]bot.Session, error)
}

// FromStore returns the Source of group g in r.
func FromStore(r bot.StoreReader, g bot.GroupID) Source { return storeSource{r: r, g: g} }

type storeSource struct {
	r bot.StoreReader
	g bot.GroupID
}

func (s storeSource) Group(ctx context.Context) (bot.GroupRecord, error) { return s.r.Group(ctx, s.g) }

func (s storeSource) Members(ctx context.Context) ([]bot.MemberRecord, error) {
	return s.r.Members(ctx, s.g)
}

func (s storeSource) Scan(ctx context.Context, from, to time.Time, fn func(bot.Record) error) error {
	return s.r.ScanRecords(ctx, s.g, from, to, fn)
}

func (s storeSource) HourCounts(ctx context.Context, from, to time.Time) ([]bot.HourCount, error) {
	return s.r.HourCounts(ctx, s.g, from, to)
}

func (s storeSource) Sessions(ctx context.Context, from, to time.Time) ([]bot.Session, error) {
	return s.r.Sessions(ctx, from, to)
}

var _ Source = storeSource{}
