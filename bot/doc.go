// Package bot is qunguan's domain and runtime: durable identities, events,
// the Platform and its capability interfaces, plugins and their Env, the
// command router with its permission model, the outbound pacer, the
// scheduler, operator tasks, confirmations and configuration.
//
// Package bot imports neither openwechat nor bbolt. Platforms (bot/wechat,
// bot/sim) turn their protocol into Events; the store (package store)
// implements the Store interfaces declared here.
package bot
