package remind_test

import (
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins/remind"
)

func TestScenarios(t *testing.T) {
	bottest.RunScenarios(t, "testdata/*.txt", func() []bot.Plugin { return []bot.Plugin{remind.New()} })
}
