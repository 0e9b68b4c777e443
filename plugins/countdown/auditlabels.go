package countdown

import "github.com/qunguan/qunguan/bot"

// auditLabels name audit actions in Chinese for /audit. The entries' own
// details stay as recorded (English, like the logs): the label says what
// happened, the detail is the record.
var auditLabels = map[string]string{
	"config.reload":             "配置已重新加载",
	"config.refused":            "配置修改被拒绝",
	"confirm.request":           "发出二次确认",
	"confirm.used":              "验证码已确认",
	"confirm.refused":           "验证码被拒绝",
	"confirm.stale":             "验证码对应的请求已失效",
	"confirm.resumed":           "重启后完成已确认的操作",
	"confirm.resume_failed":     "重启后未能完成已确认的操作",
	"countdown.request":         "申请解散倒计时",
	"countdown.start":           "倒计时开始",
	"countdown.lapse":           "申请未确认已作废",
	"countdown.cancel":          "倒计时取消",
	"countdown.extend":          "倒计时延长",
	"countdown.remind":          "发出解散提醒",
	"countdown.freeze":          "到期冻结",
	"countdown.rename":          "群名加前缀",
	"countdown.export":          "解散前导出",
	"countdown.readiness":       "解散准备度评分",
	"countdown.postpone":        "准备度不足，推迟解散",
	"countdown.hold":            "暂停，等运营者确认",
	"countdown.resume":          "运营者确认继续",
	"countdown.retry":           "运营者确认重试",
	"countdown.halt":            "流程中止",
	"countdown.dissolve":        "执行解散",
	"countdown.dissolved":       "已观察到群解散",
	"countdown.gone_early":      "群提前消失",
	"countdown.restore":         "申请恢复群",
	"countdown.restored":        "群已恢复",
	"countdown.restore_members": "拉回原成员",
	"countdown.restore_failed":  "恢复失败",
	"export.done":               "导出完成并校验",
	"export.failed":             "导出失败",
	"export.sent":               "档案已发送",
	"export.prune":              "过期档案已删除",
	"group.freeze":              "群已冻结",
	"group.unfreeze":            "群已解冻",
	"inviter.invite":            "发出入群邀请",
	"inviter.joined":            "受邀者已进群",
	"inviter.task":              "请管理员拉人",
	"inviter.expired":           "邀请已过期",
	"inviter.failed":            "邀请失败",
	"inviter.friend_accepted":   "通过好友申请",
	"moderation.hit":            "违规内容",
	"moderation.warn":           "警告",
	"moderation.unwarn":         "撤销警告",
	"moderation.flood":          "刷屏",
	"moderation.repeat":         "重复发送",
	"moderation.wave":           "多群群发",
	"moderation.kick":           "移出群聊",
	"moderation.kick_failed":    "移出失败",
	"moderation.removed":        "已被移出",
	"moderation.lists":          "词库已更新",
	"permission.admin_grant":    "设为群管理员",
	"permission.admin_revoke":   "取消群管理员",
	"retention.purge":           "按保留期清除消息内容",
	"rules.set":                 "设置群规",
	"rules.clear":               "清除群规",
	"runtime.safemode":          "安全模式",
	"task.create":               "创建待办",
	"task.done":                 "待办完成",
	"task.verified":             "待办已核实",
	"task.canceled":             "待办取消",
	"task.expired":              "待办过期",
}

// auditLabel is how /audit names an action in lang.
func auditLabel(action string, lang bot.Lang) string {
	if lang == bot.LangZH {
		if l, ok := auditLabels[action]; ok {
			return l
		}
	}
	return action
}
