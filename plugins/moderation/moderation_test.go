package moderation_test

import (
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins/moderation"
)

func plugins() []bot.Plugin { return []bot.Plugin{moderation.New()} }

func TestScenarios(t *testing.T) {
	bottest.RunScenarios(t, "testdata/*.txt", plugins)
}
