package inviter_test

import (
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins/inviter"
)

func plugins() []bot.Plugin { return []bot.Plugin{inviter.New()} }

func TestScenarios(t *testing.T) {
	bottest.RunScenarios(t, "testdata/*.txt", plugins)
}
