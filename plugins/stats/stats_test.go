package stats_test

import (
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins/stats"
)

func plugins() []bot.Plugin { return []bot.Plugin{stats.New()} }

func TestScenarios(t *testing.T) {
	t.Parallel()
	bottest.RunScenarios(t, "testdata/*.txt", plugins)
}
