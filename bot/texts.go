package bot

import "strings"

// Lang is a user-facing language. Chinese is first; English is available.
type Lang string

// Supported languages.
const (
	LangZH Lang = "zh"
	LangEN Lang = "en"
)

// Valid reports whether l is a supported language.
func (l Lang) Valid() bool { return l == LangZH || l == LangEN }

// Text is one user-visible message in both languages, with {placeholders}.
type Text struct {
	ZH string `yaml:"zh"`
	EN string `yaml:"en"`
}

// In returns the text in lang, falling back to Chinese, then English.
func (t Text) In(lang Lang) string {
	if lang == LangEN && t.EN != "" {
		return t.EN
	}
	if t.ZH != "" {
		return t.ZH
	}
	return t.EN
}

// Catalog holds a plugin's user-visible texts by key. Keys are namespaced by
// plugin ("welcome.greeting") so config overrides can name them.
type Catalog map[string]Text

// Render replaces each {name} in tmpl with vars[name]. Unknown placeholders
// are left as they are, so a typo in an operator's override stays visible.
func Render(tmpl string, vars map[string]string) string {
	if len(vars) == 0 || !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var b strings.Builder
	b.Grow(len(tmpl) + 32)
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		name := tmpl[i+1 : i+j]
		if v, ok := vars[name]; ok {
			b.WriteString(tmpl[:i])
			b.WriteString(v)
		} else {
			b.WriteString(tmpl[:i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
}

// runtimeTexts are the runtime's own replies (router, permissions, confirmations).
var runtimeTexts = Catalog{
	"router.usage":          {ZH: "用法：{usage}", EN: "Usage: {usage}"},
	"router.usage_detail":   {ZH: "参数有误（{detail}）。用法：{usage}", EN: "Wrong arguments ({detail}). Usage: {usage}"},
	"router.denied":         {ZH: "权限不足：{command} 需要{role}权限。", EN: "Permission denied: {command} needs {role}."},
	"router.group_only":     {ZH: "{command} 只能在群里使用，或在私聊中用 @群名 / --group 群名 指定群。", EN: "{command} works in a group, or in a DM with @GROUP or --group GROUP."},
	"router.dm_only":        {ZH: "{command} 只能私聊机器人使用。", EN: "{command} only works in a DM to the bot."},
	"router.internal":       {ZH: "内部错误，已记录。请稍后再试或联系运营者。", EN: "Internal error; it has been logged. Try again later or ask an operator."},
	"router.unknown_group":  {ZH: "找不到群“{name}”。发送 /groups 查看管理中的群。", EN: "No managed group matches \"{name}\". Send /groups to list them."},
	"router.ambiguous":      {ZH: "“{name}”匹配到多个群，请用更完整的群名或编号：\n{choices}", EN: "\"{name}\" matches several groups; use a fuller name or the number:\n{choices}"},
	"router.not_managed":    {ZH: "这个群不在管理范围内。", EN: "This group is not managed by the bot."},
	"help.header":           {ZH: "可用命令（{role}）：", EN: "Commands you can use ({role}):"},
	"help.footer":           {ZH: "命令前缀：{prefixes}　参数含空格请加引号。", EN: "Prefixes: {prefixes}  Quote arguments that contain spaces."},
	"help.unknown":          {ZH: "没有命令“{name}”。发送 /help 查看可用命令。", EN: "No command \"{name}\". Send /help for the list."},
	"role.owner":            {ZH: "机器人主人", EN: "owner"},
	"role.operator":         {ZH: "运营者", EN: "operator"},
	"role.admin":            {ZH: "群管理员", EN: "group admin"},
	"role.member":           {ZH: "群成员", EN: "member"},
	"confirm.request":       {ZH: "【二次确认】{action}\n如确认执行，请在 {minutes} 分钟内私聊回复：/confirm {code}\n（验证码一次有效；不确认则不会执行。）", EN: "[Confirmation needed] {action}\nTo go ahead, reply within {minutes} minutes: /confirm {code}\n(The code works once; nothing happens without it.)"},
	"confirm.ok":            {ZH: "已确认：{action}", EN: "Confirmed: {action}"},
	"confirm.resumed":       {ZH: "机器人在执行你确认的操作时中断了，重启后已接着完成：{action}", EN: "The bot stopped while carrying out what you confirmed; after restarting it finished it: {action}"},
	"confirm.resume_failed": {ZH: "机器人在执行你确认的操作时中断了，重启后仍未能完成：{action}（{err}）。如仍需要，请重新发起。", EN: "The bot stopped while carrying out what you confirmed and could not finish it after restarting: {action} ({err}). Start it again if it is still needed."},
	"alert.config_refused":  {ZH: "【配置未生效】配置文件的修改有误，已拒绝，旧配置继续运行：{err}", EN: "[Config refused] The edit to the config file is invalid and was refused; the old config keeps running: {err}"},
	"alert.backup_failed":   {ZH: "【备份失败】今天的数据库备份没有写成：{err}。机器人照常运行；请检查磁盘空间和数据目录的权限。", EN: "[Backup failed] Today's database backup was not written: {err}. The bot keeps running; check the disk space and the data folder's permissions."},
	"confirm.stale":         {ZH: "这个验证码对应的请求已取消或已不再适用，没有执行任何操作：{action}", EN: "The request behind that code was canceled or no longer applies; nothing was done: {action}"},
	"confirm.bad":           {ZH: "验证码无效、已使用或已过期。", EN: "That code is invalid, already used or expired."},
	"task.new":              {ZH: "【待办 {id}】{title}\n{steps}", EN: "[Task {id}] {title}\n{steps}"},
	"task.verified":         {ZH: "【待办 {id} 已核实完成】{title}", EN: "[Task {id} verified] {title}"},
	"admin.granted":         {ZH: "已将 {name} 设为本群管理员。", EN: "{name} is now a group admin here."},
	"admin.revoked":         {ZH: "已取消 {name} 的群管理员身份。", EN: "{name} is no longer a group admin here."},
	"admin.list":            {ZH: "本群管理员：{names}", EN: "Group admins: {names}"},
	"admin.none":            {ZH: "本群还没有管理员。运营者可用 /admin add 名字 设置。", EN: "No group admins yet. An operator can add one with /admin add NAME."},
	"member.not_found":      {ZH: "群里找不到“{name}”。", EN: "Nobody called \"{name}\" in this group."},
	"member.choice":         {ZH: "（昵称 {nick}，{id}{left}）", EN: " (nickname {nick}, {id}{left})"},
	"member.left_mark":      {ZH: "，已退群", EN: ", has left"},
	"member.ambiguous":      {ZH: "“{name}”对应多人，请用编号再试一次：\n{choices}", EN: "\"{name}\" matches several people; try again with the number:\n{choices}"},
	"safemode.on":           {ZH: "安全模式已开启：所有发送暂停。", EN: "Safe mode on: all sending is on hold."},
	"safemode.off":          {ZH: "安全模式已关闭，积压的 {n} 条消息将按节奏发出。", EN: "Safe mode off; {n} queued messages will go out at the normal pace."},
	"timer.missed":          {ZH: "机器人停机期间错过了一个需确认的定时操作：{action}（原定 {due}）。它不会自动补做。", EN: "While the bot was down it missed a step that needs confirmation: {action} (due {due}). It will not run late on its own."},
	"timer.gone":            {ZH: "这个定时操作已不存在（可能已取消）。", EN: "That scheduled step no longer exists (maybe canceled)."},
	"task.none":             {ZH: "没有未完成的待办。", EN: "No open tasks."},
	"task.header":           {ZH: "未完成的待办（{n}）：", EN: "Open tasks ({n}):"},
	"task.confirm_header":   {ZH: "等待确认（{n}）：", EN: "Waiting for confirmation ({n}):"},
	"task.confirm_line":     {ZH: "{action}（{where}{expires} 前用私聊收到的验证码 /confirm）", EN: "{action} ({where}confirm with the code from your DM before {expires})"},
	"task.not_found":        {ZH: "没有待办 {id}。", EN: "No task {id}."},
	"task.state":            {ZH: "待办 {id} 当前状态：{state}。", EN: "Task {id} is {state}."},
	"task.closed":           {ZH: "待办 {id} 已关闭。", EN: "Task {id} closed."},
	"task.claimed":          {ZH: "已记录待办 {id} 为“已完成”，机器人观察到结果后会自动核实关闭。", EN: "Task {id} marked done; the bot closes it once it observes the outcome."},
	"task.canceled":         {ZH: "待办 {id} 已取消。", EN: "Task {id} canceled."},
	"alert.logout":          {ZH: "【告警】机器人已掉线：{reason}。正在尝试重新登录，期间无法发消息；掉线时段会记入导出的缺口。", EN: "[Alert] The bot is logged out: {reason}. Reconnecting; nothing can be sent meanwhile, and the gap is recorded for exports."},
	"alert.reconnected":     {ZH: "【恢复】机器人已重新登录。{reason}", EN: "[Recovered] The bot is logged in again. {reason}"},
	"alert.task_overdue":    {ZH: "【待办超时】{id} 已等待 {age}：{title}\n{steps}", EN: "[Task overdue] {id} has waited {age}: {title}\n{steps}"},
	"reload.ok":             {ZH: "配置已重新加载并生效。", EN: "Configuration reloaded and in effect."},
	"reload.bad":            {ZH: "新配置有误，未生效，旧配置继续运行：\n{err}", EN: "The new configuration was refused; the old one keeps running:\n{err}"},
	"status.body":           {ZH: "状态：{state}（{since}）\n平台：{platform}　版本：{version}\n发送队列：{queue} 条（告警 {q_moderation}、回复 {q_reply}、欢迎 {q_welcome}、批量 {q_bulk}）　限流退避：{backoffs} 次　安全模式：{safe}\n管理中的群：{groups} 个　未完成待办：{tasks} 个\n最近错误：{lasterr}\n近 7 天掉线：{gaps}", EN: "State: {state} ({since})\nPlatform: {platform}  Version: {version}\nSend queue: {queue} (alerts {q_moderation}, replies {q_reply}, welcome {q_welcome}, bulk {q_bulk})  Rate-limit backoffs: {backoffs}  Safe mode: {safe}\nManaged groups: {groups}  Open tasks: {tasks}\nLast error: {lasterr}\nOffline in the last 7 days: {gaps}"},
	"status.online":         {ZH: "在线", EN: "online"},
	"status.offline":        {ZH: "离线", EN: "offline"},
	"status.none":           {ZH: "无", EN: "none"},
	"yes":                   {ZH: "开", EN: "on"},
	"no":                    {ZH: "关", EN: "off"},
}
