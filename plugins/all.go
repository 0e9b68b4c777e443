// Package plugins holds one folder per plugin. All is the one explicit
// list of plugins, in the order they see events: moderation runs before
// welcome so a spam wave is handled before anyone is greeted.
package plugins

import (
	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/console"
	"github.com/qunguan/qunguan/plugins/countdown"
	"github.com/qunguan/qunguan/plugins/export"
	"github.com/qunguan/qunguan/plugins/inviter"
	"github.com/qunguan/qunguan/plugins/moderation"
	"github.com/qunguan/qunguan/plugins/remind"
	"github.com/qunguan/qunguan/plugins/rules"
	"github.com/qunguan/qunguan/plugins/stats"
	"github.com/qunguan/qunguan/plugins/welcome"
)

// All returns fresh values of every plugin, in event order. The countdown
// exports through the export plugin, so it is handed that value.
func All() []bot.Plugin {
	exp := export.New()
	return []bot.Plugin{
		moderation.New(),
		rules.New(),
		welcome.New(),
		remind.New(),
		exp,
		countdown.New(exp),
		stats.New(),
		console.New(),
		inviter.New(),
	}
}
