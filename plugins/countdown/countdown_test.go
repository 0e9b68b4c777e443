package countdown_test

import (
	"encoding/json"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins/countdown"
	"github.com/qunguan/qunguan/plugins/export"
)

// lifecycle is the plugin list the tests run: the export plugin and the
// countdown that exports through it.
func lifecycle() []bot.Plugin {
	exp := export.New()
	return []bot.Plugin{exp, countdown.New(exp)}
}

func TestScenarios(t *testing.T) {
	bottest.RunScenarios(t, "testdata/*.txt", lifecycle)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
