package stats

import "github.com/qunguan/qunguan/bot"

// texts are the plugin's user-visible texts, Chinese first. Operators can
// override any of them under texts: in config.
var texts = bot.Catalog{
	"stats.stage.healthy":       {ZH: "健康", EN: "healthy"},
	"stats.stage.early_decline": {ZH: "初期衰退", EN: "early decline"},
	"stats.stage.mid_decline":   {ZH: "中期瓦解", EN: "mid decline"},
	"stats.stage.terminal":      {ZH: "终期消亡", EN: "terminal"},
	"stats.tier.core":           {ZH: "核心", EN: "core"},
	"stats.tier.ordinary":       {ZH: "普通", EN: "ordinary"},
	"stats.tier.silent":         {ZH: "沉默", EN: "silent"},

	"stats.why.msgs_young":     {ZH: "近 {days} 天日均 {avg} 条成员消息（观察不足 7 天，暂不判断）", EN: "{avg} member messages a day over {days} days (under a week of history; not judged yet)"},
	"stats.why.msgs_low":       {ZH: "近 7 天日均 {avg} 条成员消息，低于 {min} 条", EN: "{avg} member messages a day over the last 7 days, below {min}"},
	"stats.why.msgs_ok":        {ZH: "近 7 天日均 {avg} 条成员消息（阈值 {min} 条）", EN: "{avg} member messages a day over the last 7 days (threshold {min})"},
	"stats.why.trend_young":    {ZH: "观察不足 {weeks} 周，日活趋势暂不判断", EN: "Less than {weeks} weeks of history; the daily-active trend is not judged yet"},
	"stats.why.trend_falling":  {ZH: "日活连续 {weeks} 周下降（每周日均活跃人数 {series}）", EN: "Daily active members fell {weeks} weeks in a row (weekly averages {series})"},
	"stats.why.trend_dipping":  {ZH: "日活已连续 {weeks} 周下降，连续 {limit} 周即为初期衰退（{series}）", EN: "Daily active members fell {weeks} weeks in a row; {limit} weeks is early decline ({series})"},
	"stats.why.trend_ok":       {ZH: "日活没有持续下降（每周日均活跃人数 {series}）", EN: "Daily active members are not falling (weekly averages {series})"},
	"stats.why.leaves_high":    {ZH: "近 {days} 天退群 {n} 人，占 {pct}%，超过 {limit}%", EN: "{n} members left in {days} days, {pct}%, above {limit}%"},
	"stats.why.leaves_ok":      {ZH: "近 {days} 天退群 {n} 人，占 {pct}%（阈值 {limit}%）", EN: "{n} members left in {days} days, {pct}% (threshold {limit}%)"},
	"stats.why.silent_dead":    {ZH: "已 {days} 天没有成员发言（{limit} 天即视为消亡；期间机器人在线 {coverage}%）", EN: "No member has spoken for {days} days ({limit} days means dead; the bot was online {coverage}% of that time)"},
	"stats.why.silent_offline": {ZH: "已 {days} 天没有记录到成员发言，但机器人期间只在线 {coverage}%，不据此判定消亡", EN: "No member message recorded for {days} days, but the bot was online only {coverage}% of that time, so this does not count as dead"},
	"stats.why.silent_never":   {ZH: "开始记录 {days} 天以来还没有成员发言", EN: "No member has spoken in the {days} days since recording began"},
	"stats.why.silent_ok":      {ZH: "最近一条成员消息在 {days} 天前", EN: "The last member message was {days} days ago"},

	"stats.summary": {
		ZH: "【{group} · 近 {n} 天】\n消息 {msgs} 条（日均 {avg}），日均活跃 {active} 人，入群 {joins}，退群 {leaves}，图片/文件 {media}，违规 {mod}\n成员 {members} 人：核心 {core}、普通 {ordinary}、沉默 {silent}\n健康度 {score} 分 · {stage}\n{why}",
		EN: "[{group} · last {n} days]\n{msgs} messages ({avg} a day), {active} active members a day, {joins} joined, {leaves} left, {media} images/files, {mod} moderation hits\n{members} members: {core} core, {ordinary} ordinary, {silent} silent\nHealth {score}/100 · {stage}\n{why}",
	},
	"stats.too_long":       {ZH: "最多统计最近 {max} 天。", EN: "Statistics cover at most the last {max} days."},
	"stats.too_short":      {ZH: "至少统计 1 天。", EN: "Statistics need at least one day."},
	"stats.members_header": {ZH: "【{group} 成员分层（近 {window} 天）】核心 {core}、普通 {ordinary}、沉默 {silent}", EN: "[{group} member tiers (last {window} days)] {core} core, {ordinary} ordinary, {silent} silent"},
	"stats.member_line":    {ZH: "{tier}｜{name}（{id}）｜{days} 天发言，{wmsgs} 条｜累计 {msgs} 条｜最后发言 {last}", EN: "{tier} | {name} ({id}) | spoke on {days} days, {wmsgs} messages | {msgs} in all | last spoke {last}"},
	"stats.member_more":    {ZH: "……另有 {n} 人未列出（用 qunguan stats --members 查看全部）", EN: "... {n} more not shown (qunguan stats --members lists everyone)"},
	"stats.never":          {ZH: "从未", EN: "never"},

	"stats.chart.title":      {ZH: "{group} · 近 {n} 天", EN: "{group} · last {n} days"},
	"stats.chart.messages":   {ZH: "消息", EN: "messages"},
	"stats.chart.active":     {ZH: "活跃成员", EN: "active members"},
	"stats.chart.joins":      {ZH: "入群", EN: "joined"},
	"stats.chart.leaves":     {ZH: "退群", EN: "left"},
	"stats.chart.y_left":     {ZH: "消息（条）", EN: "messages"},
	"stats.chart.y_right":    {ZH: "人数", EN: "people"},
	"stats.chart.today":      {ZH: "今天（未结束）", EN: "today (so far)"},
	"stats.chart.unobserved": {ZH: "无记录", EN: "not recorded"},

	"stats.status":      {ZH: "健康度 {score} 分（{stage}）", EN: "health {score}/100 ({stage})"},
	"stats.status_none": {ZH: "健康度：暂无数据", EN: "health: no data yet"},
	"stats.detail":      {ZH: "健康度 {score} 分 · {stage}；成员分层：核心 {core}、普通 {ordinary}、沉默 {silent}\n{why}", EN: "Health {score}/100 · {stage}; tiers: {core} core, {ordinary} ordinary, {silent} silent\n{why}"},

	"stats.alert_change": {ZH: "【健康度变化】{group}（{id}）：{from} → {to}，{score} 分\n{why}", EN: "[Health change] {group} ({id}): {from} → {to}, {score}/100\n{why}"},

	"stats.report.header":         {ZH: "【群健康周报】{date}　共 {n} 个群：健康 {healthy}、初期衰退 {early}、中期瓦解 {mid}、终期消亡 {terminal}", EN: "[Weekly group health] {date}  {n} groups: {healthy} healthy, {early} early decline, {mid} mid decline, {terminal} terminal"},
	"stats.report.absent":         {ZH: "另有 {n} 个群机器人已不在群内，未统计。", EN: "{n} more groups no longer have the bot in them and are left out."},
	"stats.report.crossed_header": {ZH: "本周越过阈值：", EN: "Crossed a threshold this week:"},
	"stats.report.crossed":        {ZH: "· {group}（{id}）：{from} → {to}", EN: "· {group} ({id}): {from} → {to}"},
	"stats.report.crossed_none":   {ZH: "本周没有群越过阈值。", EN: "No group crossed a threshold this week."},
	"stats.report.crossed_first":  {ZH: "这是第一份周报，下周起会标出越过阈值的群。", EN: "This is the first report; from next week groups that crossed a threshold are called out."},
	"stats.report.rank_header":    {ZH: "按健康度从低到高：", EN: "By health, lowest first:"},
	"stats.report.rank":           {ZH: "{i}. {group}（{id}）{score} 分 · {stage} · {members} 人 · 日均 {avg} 条", EN: "{i}. {group} ({id}) {score}/100 · {stage} · {members} members · {avg} messages a day"},
	"stats.report.why":            {ZH: "   {why}", EN: "   {why}"},
	"stats.report.more":           {ZH: "……其余 {n} 个群（{low}–{high} 分）未逐一列出；私聊 /groups 查看全部。", EN: "... {n} more groups ({low}-{high}) not listed; DM /groups for all of them."},
	"stats.report.suggest_header": {ZH: "建议：", EN: "Suggestions:"},
	"stats.report.suggest_none":   {ZH: "建议：暂无，各群状态良好。", EN: "Suggestions: none; the groups are doing well."},
	"stats.suggest.split":         {ZH: "· {group}：{members} 人，超过 100–{limit} 人的最佳规模，考虑拆分子群", EN: "· {group}: {members} members, above the best size of 100-{limit}; consider splitting it"},
	"stats.suggest.wake":          {ZH: "· {group}：沉默成员约占 {pct}%（{silent}/{members}），考虑发起话题、点名或福利唤醒", EN: "· {group}: about {pct}% of members are silent ({silent}/{members}); consider a topic, a shout-out or a perk to wake them"},
	"stats.suggest.countdown":     {ZH: "· {group}：已 {days} 天无人发言，考虑启动解散倒计时（/countdown）并先导出记录", EN: "· {group}: nobody has spoken for {days} days; consider a dissolve countdown (/countdown), exporting first"},
	"stats.suggest.early":         {ZH: "· {group}：日活连续几周下降，考虑定期话题、请核心成员带动、邀请新成员", EN: "· {group}: daily activity has fallen for weeks; consider regular topics, asking core members to lead, inviting new members"},
	"stats.suggest.quiet":         {ZH: "· {group}：发言偏少（日均 {avg} 条），考虑固定话题、请核心成员带动、邀请新成员", EN: "· {group}: quiet ({avg} messages a day); consider regular topics, asking core members to lead, inviting new members"},
	"stats.suggest.mid":           {ZH: "· {group}：退群偏多，检查广告和群规执行，和核心成员沟通", EN: "· {group}: many members are leaving; check for spam and rule enforcement, talk to core members"},
}
