package countdown

import "github.com/qunguan/qunguan/bot"

// Texts implements bot.Texter: every user-visible text of the plugin,
// Chinese first, overridable under texts: in config.
func (p *Plugin) Texts() bot.Catalog {
	return texts
}

var texts = bot.Catalog{
	// Replies to commands.
	"countdown.asked": {ZH: "已提交，等待运营者用私聊收到的验证码确认；确认后才会开始。",
		EN: "Submitted; an operator must confirm it with the code sent by DM before anything starts."},
	"countdown.busy":        {ZH: "本群已有进行中的解散流程（{state}）。发送 /countdown status 查看，或先取消。", EN: "This group already has a dissolve in progress ({state}). Send /countdown status, or cancel it first."},
	"countdown.too_long":    {ZH: "倒计时最长 {max}。", EN: "A countdown can be at most {max}."},
	"countdown.too_short":   {ZH: "倒计时至少 1 分钟；要立即解散请用 /解散。", EN: "A countdown must be at least 1 minute; use /dissolve to dissolve now."},
	"countdown.none":        {ZH: "本群没有进行中的解散倒计时。", EN: "This group has no dissolve countdown."},
	"countdown.gone":        {ZH: "这个群已经不存在了。", EN: "That group no longer exists."},
	"countdown.too_late":    {ZH: "已在解散中（{state}），无法取消。", EN: "Already dissolving ({state}); it can no longer be canceled."},
	"countdown.not_now":     {ZH: "当前状态（{state}）不能这样做。", EN: "Not possible in the current state ({state})."},
	"countdown.canceled_by": {ZH: "已取消「{group}」的解散倒计时。", EN: "The dissolve countdown of \"{group}\" is canceled."},
	"countdown.extended_by": {ZH: "已延后 {by}，新的解散时间 {when}。", EN: "Extended by {by}; the new dissolve time is {when}."},
	"countdown.retry_asked": {ZH: "已请运营者用验证码确认重试。", EN: "Operators were asked to confirm the retry with a code."},

	// What operators confirm (the "action" of a confirmation request).
	"countdown.action.start": {ZH: "启动群「{group}」的解散倒计时：{length}后（约 {when}）解散，{mode}，原因：{reason}；发起：{by}",
		EN: "Start the dissolve countdown of \"{group}\": dissolve in {length} (about {when}), {mode}, reason: {reason}; asked by {by}"},
	"countdown.action.rule": {ZH: "按配置规则（{rule}）解散群「{group}」：{when} 解散，{mode}，原因：{reason}",
		EN: "Dissolve \"{group}\" by the config rule ({rule}) at {when}, {mode}, reason: {reason}"},
	"countdown.action.now": {ZH: "立即解散群「{group}」（先冻结、导出并校验，再解散），{mode}，原因：{reason}；发起：{by}",
		EN: "Dissolve \"{group}\" now (freeze, export and verify first, then dissolve), {mode}, reason: {reason}; asked by {by}"},
	"countdown.action.resume": {ZH: "继续解散群「{group}」：机器人停机时这一步（{state}）已到时间，不会自动补做",
		EN: "Go on dissolving \"{group}\": this step ({state}) came due while the bot was down and is not taken late on its own"},
	"countdown.action.retry": {ZH: "重试解散群「{group}」（重新导出并校验）：上次停在 {halt}",
		EN: "Retry dissolving \"{group}\" (export and verify again); it halted at: {halt}"},
	"countdown.timer.deadline": {ZH: "群「{group}」的解散倒计时到期（冻结、导出并校验、解散）", EN: "the dissolve deadline of \"{group}\" (freeze, export and verify, dissolve)"},
	"countdown.timer.retry":    {ZH: "再次尝试解散群「{group}」", EN: "another attempt to dissolve \"{group}\""},
	"countdown.mode.announced": {ZH: "群内公告", EN: "announced in the group"},
	"countdown.mode.silent":    {ZH: "静默（只通知运营者）", EN: "silent (operators only)"},
	"countdown.no_reason":      {ZH: "未说明", EN: "none given"},

	// Announcements in the group.
	"countdown.start": {ZH: "📢 本群将于 {when}（{left}后）解散。原因：{reason}\n解散前机器人会导出本群聊天记录并校验，交由运营者保管。如有疑问请联系群管理员。",
		EN: "📢 This group will be dissolved at {when} (in {left}). Reason: {reason}\nBefore that the bot exports and verifies the chat history for the operators to keep. Questions? Ask a group admin."},
	"countdown.remind":   {ZH: "⏳ 提醒：本群将于 {when} 解散，还有 {left}。", EN: "⏳ Reminder: this group will be dissolved at {when}, in {left}."},
	"countdown.extended": {ZH: "⏳ 解散时间延后 {by}，新的解散时间：{when}。", EN: "⏳ The dissolve is {by} later: the new time is {when}."},
	"countdown.canceled": {ZH: "✅ 解散倒计时已取消，本群照常运行。", EN: "✅ The dissolve countdown is canceled; the group carries on."},
	"countdown.final": {ZH: "🔒 本群已到解散时间，现已冻结：机器人停止管理，聊天记录正在导出归档。解散后 {restore} 内可由运营者恢复。",
		EN: "🔒 The dissolve time has come and this group is frozen: the bot no longer moderates it, and the history is being exported. For {restore} after the dissolve an operator can restore it."},
	"countdown.postponed": {ZH: "⏸ 解散推迟到 {when}：解散准备度 {score}/100，低于 {threshold}。", EN: "⏸ The dissolve is postponed to {when}: readiness {score}/100 is under {threshold}."},
	"countdown.unfrozen":  {ZH: "✅ 本群已解除冻结，照常运行。", EN: "✅ The group is no longer frozen and carries on."},

	// Operator notices (DM).
	"countdown.op.started": {ZH: "【倒计时】「{group}」将于 {when}（{left}后）解散，{mode}。{reminders}",
		EN: "[Countdown] \"{group}\" will be dissolved at {when} (in {left}), {mode}. {reminders}"},
	"countdown.op.reminders": {ZH: "提醒时间：{list}。", EN: "Reminders: {list}."},
	"countdown.op.remind":    {ZH: "【倒计时】「{group}」还有 {left} 解散（{when}）。", EN: "[Countdown] \"{group}\" will be dissolved in {left} ({when})."},
	"countdown.op.frozen":    {ZH: "【倒计时】「{group}」已到期并冻结，正在导出。", EN: "[Countdown] \"{group}\" reached its deadline and is frozen; exporting."},
	"countdown.op.readiness": {ZH: "【解散准备度】「{group}」{score}/100（门槛 {threshold}）：\n{lines}", EN: "[Readiness] \"{group}\" {score}/100 (threshold {threshold}):\n{lines}"},
	"countdown.op.postponed": {ZH: "因此推迟到 {when} 再试（第 {n} 次推迟，最多 {max} 次）。可 /countdown cancel 取消或 /countdown extend 延后。",
		EN: "So it is postponed to {when} (postponement {n} of at most {max}). /countdown cancel or /countdown extend are available."},
	"countdown.op.dissolving": {ZH: "分数达标，开始解散。", EN: "The score passes; dissolving."},
	"countdown.op.dissolved": {ZH: "【已解散】「{group}」已解散（{how}，{when}）。档案：{archive}（manifest sha256 {sha}）。{until} 前可私聊 /restore {name} 恢复。",
		EN: "[Dissolved] \"{group}\" is dissolved ({how}, {when}). Archive: {archive} (manifest sha256 {sha}). Until {until} DM /restore {name} to restore it."},
	"countdown.op.halted": {ZH: "【解散已暂停】「{group}」：{reason}\n不会进行任何破坏性操作。处理后可私聊 /countdown retry @{name} 重试，或 /countdown cancel @{name} 取消。",
		EN: "[Dissolve halted] \"{group}\": {reason}\nNothing destructive will happen. When fixed, DM /countdown retry @{name} to retry, or /countdown cancel @{name} to cancel."},
	"countdown.op.expired": {ZH: "「{group}」的解散请求未在有效期内确认，已作废。", EN: "The dissolve request for \"{group}\" was not confirmed in time and lapsed."},
	"countdown.op.auto_canceled": {ZH: "「{group}」有成员发言，按“不活跃”规则发起的解散已自动取消。",
		EN: "Someone spoke in \"{group}\", so the dissolve started by the inactivity rule is canceled."},
	"countdown.op.gone_early": {ZH: "「{group}」在计划解散前已被解散（观察到：{observed}）。已导出机器人记录到的内容。",
		EN: "\"{group}\" was dissolved before its deadline (observed: {observed}). What the bot recorded was exported."},
	"countdown.op.verify": {ZH: "平台已返回解散成功，但 {after} 后仍看到群「{group}」存在，改为人工处理。", EN: "The platform reported the dissolve done, but after {after} \"{group}\" still exists; a person must do it."},

	// How the group ended.
	"countdown.how.dissolver": {ZH: "机器人通过平台解散，已观察到群消失", EN: "dissolved by the bot through the platform; observed gone"},
	"countdown.how.kicker":    {ZH: "机器人移出了全部成员，已观察到群内只剩机器人（平台无法让机器人退群，请在手机上删除并退出）", EN: "the bot removed every member and observed the group empty but for itself (the platform cannot leave; delete and leave on the phone)"},
	"countdown.how.task":      {ZH: "运营者在手机上完成，机器人已观察到结果", EN: "done on the phone by an operator; the bot observed the outcome"},
	"countdown.how.early":     {ZH: "有人提前解散", EN: "dissolved early by someone"},

	// The operator task for platforms that cannot dissolve.
	"countdown.task.title": {ZH: "在手机上解散群「{group}」", EN: "Dissolve \"{group}\" on the phone"},
	"countdown.task.steps": {ZH: "聊天记录已导出并校验（{archive}），按计划应解散此群，但这个平台不能由机器人解散。请群主在手机微信上操作：\n1. 打开群聊「{group}」，点右上角「…」\n2. 点「群管理」，拉到底点「解散该群聊」，按提示完成验证\n3. 如果你不是群主：请群主解散；或者把机器人账号移出群聊\n机器人看到群解散（或自己被移出）后会自动完成这个待办，此前不会报告已解散。",
		EN: "The history is exported and verified ({archive}) and this group is due to be dissolved, but the bot cannot dissolve it on this platform. The group owner, on the phone:\n1. Open the chat \"{group}\" and tap \"…\" at the top right\n2. Tap \"Group Management\", scroll down, tap \"Disband Group\" and pass the verification\n3. Not the owner? Ask the owner to disband it, or remove the bot account from the group\nThe bot closes this task when it sees the group gone (or itself removed), and reports nothing before that."},
	"countdown.op.task_failed": {ZH: "待办 {id} {state}：群「{group}」未解散。", EN: "Task {id} {state}: \"{group}\" was not dissolved."},

	// Status.
	"countdown.status": {ZH: "「{group}」解散流程：{state}\n解散时间：{when}（{left}）\n方式：{mode}　原因：{reason}\n发起：{by}　确认：{confirmed}\n提醒：{reminders}{extra}",
		EN: "\"{group}\" dissolve: {state}\nDeadline: {when} ({left})\nMode: {mode}  Reason: {reason}\nAsked by: {by}  Confirmed by: {confirmed}\nReminders: {reminders}{extra}"},
	"countdown.status.export":  {ZH: "\n档案：{name}（{records} 条，manifest sha256 {sha}）", EN: "\nArchive: {name} ({records} records, manifest sha256 {sha})"},
	"countdown.status.score":   {ZH: "\n准备度：{score}/100", EN: "\nReadiness: {score}/100"},
	"countdown.status.task":    {ZH: "\n待办：{task}", EN: "\nTask: {task}"},
	"countdown.status.halt":    {ZH: "\n暂停原因：{halt}", EN: "\nHalted: {halt}"},
	"countdown.status.hold":    {ZH: "\n等待运营者重新确认（停机期间到期）", EN: "\nWaiting for an operator to confirm again (came due while the bot was down)"},
	"countdown.status.pending": {ZH: "待确认", EN: "not yet"},
	"countdown.status.past":    {ZH: "已过", EN: "passed"},
	"countdown.status.line":    {ZH: "倒计时：{state}，{when}", EN: "Countdown: {state}, {when}"},

	"countdown.state.confirming":        {ZH: "等待运营者确认", EN: "waiting for an operator's code"},
	"countdown.state.counting":          {ZH: "倒计时中", EN: "counting down"},
	"countdown.state.frozen":            {ZH: "已冻结", EN: "frozen"},
	"countdown.state.exporting":         {ZH: "导出中", EN: "exporting"},
	"countdown.state.dissolving":        {ZH: "解散中", EN: "dissolving"},
	"countdown.state.awaiting_operator": {ZH: "等待运营者在手机上解散", EN: "waiting for an operator to dissolve on the phone"},
	"countdown.state.dissolved":         {ZH: "已解散", EN: "dissolved"},
	"countdown.state.halted":            {ZH: "已暂停", EN: "halted"},
	"countdown.state.canceled":          {ZH: "已取消", EN: "canceled"},
	"countdown.state.restored":          {ZH: "已恢复", EN: "restored"},

	// Readiness lines.
	"countdown.ready.export_ok":   {ZH: "✔ 档案已重新校验，与导出时记录的 manifest 一致（{points}/{max}）", EN: "✔ Archive verified again, matching the manifest recorded at export ({points}/{max})"},
	"countdown.ready.fresh":       {ZH: "✔ 档案是最新的：导出后没有新的成员消息（{points}/{max}）", EN: "✔ Archive is fresh: no messages from people since the export ({points}/{max})"},
	"countdown.ready.stale":       {ZH: "✘ 导出后又有 {n} 条成员消息不在档案中（{points}/{max}）", EN: "✘ {n} messages from people came after the export and are not in it ({points}/{max})"},
	"countdown.ready.reconciled":  {ZH: "✔ 每日条数与数据库核对一致（{points}/{max}）", EN: "✔ Per-day counts match the database ({points}/{max})"},
	"countdown.ready.unmatched":   {ZH: "✘ 每日条数与数据库核对不一致（{points}/{max}）", EN: "✘ Per-day counts differ from the database ({points}/{max})"},
	"countdown.ready.told":        {ZH: "✔ 成员已提前 {ahead} 收到通知，另有 {n} 次提醒（{points}/{max}）", EN: "✔ Members were told {ahead} ahead, with {n} reminders ({points}/{max})"},
	"countdown.ready.told_late":   {ZH: "△ 成员只提前 {ahead} 收到通知（不足 {need}）（{points}/{max}）", EN: "△ Members were told only {ahead} ahead (less than {need}) ({points}/{max})"},
	"countdown.ready.not_told":    {ZH: "✘ 成员没有收到解散通知（{points}/{max}）", EN: "✘ Members were not told of the dissolve ({points}/{max})"},
	"countdown.ready.silent":      {ZH: "✔ 静默模式：按设置不在群内通知成员（{points}/{max}）", EN: "✔ Silent mode: members are not told, as configured ({points}/{max})"},
	"countdown.ready.no_pending":  {ZH: "✔ 没有待处理的管理事项（{points}/{max}）", EN: "✔ No pending moderation items ({points}/{max})"},
	"countdown.ready.pending":     {ZH: "✘ 还有 {n} 个未完成的待办：{list}（{points}/{max}）", EN: "✘ {n} open tasks: {list} ({points}/{max})"},
	"countdown.ready.recent":      {ZH: "△ 近 24 小时有 {n} 条管理操作记录，建议复核（{points}/{max}）", EN: "△ {n} moderation actions in the last 24 hours; worth a review ({points}/{max})"},
	"countdown.ready.no_gaps":     {ZH: "✔ 记录完整：机器人全程在线（{points}/{max}）", EN: "✔ Complete record: the bot was online throughout ({points}/{max})"},
	"countdown.ready.gaps":        {ZH: "{mark} 机器人离线 {n} 段共 {total}，占记录时段的 {pct}%，这些消息不在档案中（{points}/{max}）", EN: "{mark} The bot was offline {n} times for {total}, {pct}% of the record; those messages are not in the archive ({points}/{max})"},
	"countdown.ready.verify_fail": {ZH: "档案校验失败：{err}", EN: "The archive failed verification: {err}"},

	// Halt reasons.
	"countdown.halt.export":   {ZH: "导出失败：{err}", EN: "the export failed: {err}"},
	"countdown.halt.verify":   {ZH: "档案校验失败（可能被改动或损坏）：{err}", EN: "the archive failed verification (changed or damaged): {err}"},
	"countdown.halt.postpone": {ZH: "已推迟 {n} 次，准备度仍低于门槛", EN: "postponed {n} times and readiness is still under the threshold"},
	"countdown.halt.task":     {ZH: "人工解散的待办 {id} {state}", EN: "the task to dissolve by hand, {id}, {state}"},
	"alert.export_failed":     {ZH: "【告警】「{group}」导出失败，解散流程已暂停：{err}", EN: "[Alert] The export of \"{group}\" failed and its dissolve is halted: {err}"},

	// Restore.
	"countdown.restore.none":         {ZH: "没有可恢复的已解散群“{name}”。", EN: "No dissolved group \"{name}\" to restore."},
	"countdown.restore.expired":      {ZH: "「{group}」已于 {when} 解散，恢复期 {window} 已过。", EN: "\"{group}\" was dissolved at {when}; the {window} restore window has passed."},
	"countdown.restore.done_already": {ZH: "「{group}」已经恢复过了（新群 {id}）。", EN: "\"{group}\" was already restored (new group {id})."},
	"countdown.restore.cannot": {ZH: "这个平台不能由机器人建群或拉人。请在手机上新建群「{group}」，再拉回这些成员：{names}",
		EN: "The bot cannot create groups or add people on this platform. On the phone, create \"{group}\" and add back: {names}"},
	"countdown.restore.few": {ZH: "原成员中只有 {n} 位是机器人的好友，建群至少需要 2 位。请在手机上建群后拉回：{names}",
		EN: "Only {n} former members are the bot's friends, and a group needs at least 2. Create it on the phone and add back: {names}"},
	"countdown.restore.result": {ZH: "已恢复「{group}」（新群 {id}）：邀请 {invited} 人，已进群 {joined} 人。{missing}{strangers}",
		EN: "Restored \"{group}\" (new group {id}): invited {invited}, joined {joined}. {missing}{strangers}"},
	"countdown.restore.missing":    {ZH: "尚未进群：{names}（待办 {task} 会在他们进群后自动完成）。", EN: "Not in yet: {names} (task {task} closes when they are in). "},
	"countdown.restore.task_title": {ZH: "等原成员回到恢复的群「{group}」", EN: "Former members to rejoin the restored \"{group}\""},
	"countdown.restore.task_steps": {ZH: "机器人已邀请 {names} 回到新建的群「{group}」，但还没看到他们进群。人多的群会发邀请卡片，需要他们在微信里接受；也可以在手机上直接把他们拉进群。机器人看到他们都进群后会自动完成此待办。",
		EN: "The bot invited {names} back into the new \"{group}\" but has not seen them join. Larger groups get invitation cards they must accept in WeChat; you can also add them on the phone. The bot closes this task when it sees them all in."},
	"countdown.restore.strangers": {ZH: "不是好友、需要手动拉回：{names}。", EN: "Not friends, add by hand: {names}."},
	"countdown.restore.failed":    {ZH: "恢复失败：{err}", EN: "Restore failed: {err}"},
	"countdown.restore.welcome":   {ZH: "本群已由运营者恢复。聊天记录档案由运营者保管。", EN: "This group was restored by an operator. The chat archive is kept by the operators."},

	// Audit.
	"countdown.audit.none":   {ZH: "没有审计记录。", EN: "No audit entries."},
	"countdown.audit.header": {ZH: "审计日志（最近 {n} 条{scope}，哈希链{chain}）：", EN: "Audit log (last {n}{scope}; hash chain {chain}):"},
	"countdown.audit.scope":  {ZH: "，群「{group}」", EN: ", group \"{group}\""},
	"countdown.audit.ok":     {ZH: "校验通过", EN: "verified"},
	"countdown.audit.broken": {ZH: "在第 {seq} 条断开：{reason}", EN: "broken at entry {seq}: {reason}"},
}
