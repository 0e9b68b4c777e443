// Package wechat is qunguan's web WeChat platform: bot.Platform on
// github.com/eatmoreapple/openwechat (v1.4.10), the only package that
// imports it.
//
// It can send text, pictures and files, invite friends into a group,
// create a group, rename one (verified, since WeChat may ignore it) and
// accept friend requests. It cannot remove members or dissolve a group,
// which web WeChat does not allow, so it implements neither bot.Kicker nor
// bot.Dissolver and the runtime asks operators to do those on the phone.
//
// What the package adds to openwechat, file by file:
//
//   - supervisor.go: logging in and staying logged in. openwechat never
//     reconnects, retries a failing sync without pause and cannot reuse an
//     exited Bot, so every attempt uses a new Bot: hot login from the saved
//     session, then push login (one tap on the phone), then a QR code
//     (qr.go; terminal and PNG). The sync loop's error handler backs off.
//     The runtime hears EventLogout and EventLogin, also for long network
//     outages that the session survives.
//   - owner.go: one goroutine makes every call into openwechat after login,
//     with Caller-level calls only, never the Bot's racy contact caches.
//     The message handler copies each message and hands it over.
//   - convert.go and sysmsg.go: every message becomes bot.Events in one
//     place; system messages are read in Chinese and English.
//   - members.go: member snapshots, refreshed on join messages and on a
//     staggered timer, give joined and left events (leaving sends no
//     message).
//   - identity.go and login.go: each session's UserNames are mapped onto
//     durable ids kept in the store (KV namespace "wechat"). What cannot be
//     told apart is not guessed: an operator task asks.
//   - actions.go: sends and capabilities, read back where WeChat's answer
//     cannot be trusted; errors.go maps errors onto bot.ErrRateLimited,
//     bot.ErrNetwork and bot.ErrOffline for the pacer.
//   - transport.go: keeps openwechat's cookie jar race-free and restores
//     the cookies its hot-login storage loses.
//
// Tests drive the real openwechat client against the fake server in
// package fakewx, with the real runtime and store on top. docs/wechat.md
// is the user's guide.
package wechat
