package console_test

import (
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins/console"
	"github.com/qunguan/qunguan/plugins/stats"
)

func plugins() []bot.Plugin { return []bot.Plugin{console.New(), stats.New()} }

func TestScenarios(t *testing.T) {
	bottest.RunScenarios(t, "testdata/*.txt", plugins)
}
