// Package synth generates a large, deterministic group history on the fly
// for the export benchmarks, so that a million records never sit in memory
// and the benchmark measures the exporter, not a prebuilt slice.
package synth

import (
	"context"
	"strconv"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Group is the synthetic group's id.
const Group bot.GroupID = "g_synthetic0"

// Start is the time of record 0; Step is the spacing of records (a million
// records span about 81 days).
var (
	Start = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	Step  = 7 * time.Second
)

// Source is a history of N records. It implements archive.Source.
type Source struct {
	N int
}

// fragments are mixed into message texts: Chinese with punctuation, quotes,
// HTML-special characters and emoji, about 45 runes per message.
var fragments = []string{
	"今天的会议改到下午三点，", "大家记得带上\"资料\"和笔记本。", "<b>重要</b>通知 & 提醒：",
	"收到，谢谢老师👍", "明天早上八点集合，别迟到哦😀", "这个方案我觉得还可以再改改，",
	"有没有人一起拼车去展会？", "链接在群公告里，自己看一下。", "报名表已经更新了，请核对",
	"周末活动取消，改到下周六。", "'单引号' 和 `反引号` 也要转义", "费用 AA，每人 35.5 元，",
	"群里禁止发广告，违者移出。", "照片我晚点发到群相册里📷", "作业提交截止到周五晚上十点，",
	"好的👌", "我同意楼上的意见。", "请把文件发我邮箱 test@example.com",
}

// names are member display names, some with emoji and symbols.
var names = func() []string {
	base := []string{"张伟", "王芳", "李娜🌸", "刘洋", "陈静", "杨磊✨", "赵敏", "黄强", "周杰", "吴霞", "小明同学", "Alice", "老王 (物业)", "🐱猫猫", "李老师"}
	out := make([]string, 0, 300)
	for i := 0; len(out) < cap(out); i++ {
		out = append(out, base[i%len(base)]+strconv.Itoa(i))
	}
	return out
}()

var userIDs = func() []bot.UserID {
	out := make([]bot.UserID, len(names))
	for i := range out {
		out[i] = bot.UserID("u_" + strconv.FormatInt(int64(1000000+i*7919), 36))
	}
	return out
}()

// kind classifies record i without building it, so HourCounts costs little.
func kind(i int) (k bot.EventKind, fromBot bool, mt bot.MsgType) {
	switch {
	case i%997 == 13:
		return bot.EventMemberJoined, false, 0
	case i%1009 == 17:
		return bot.EventMemberLeft, false, 0
	case i%100003 == 5:
		return bot.EventGroupRenamed, false, 0
	}
	fromBot = i%50 == 7
	switch {
	case i%31 == 3:
		mt = bot.MsgImage
	case i%97 == 11:
		mt = bot.MsgFile
	default:
		mt = bot.MsgText
	}
	return bot.EventMessage, fromBot, mt
}

// Record builds record i. It is a pure function of i.
func Record(i int) bot.Record {
	k, fromBot, mt := kind(i)
	h := uint32(i)*2654435761 + 12345
	u := int(h>>8) % len(names)
	r := bot.Record{
		Group:      Group,
		Seq:        uint64(i + 1),
		Time:       Start.Add(time.Duration(i) * Step),
		Kind:       k,
		Sender:     userIDs[u],
		SenderName: names[u],
		FromBot:    fromBot,
	}
	if fromBot {
		r.Sender, r.SenderName = bot.SelfID, "群管机器人"
	}
	switch k {
	case bot.EventMemberJoined:
		r.Text = names[u] + " 加入了群聊"
		return r
	case bot.EventMemberLeft:
		r.Text = names[u] + " 退出了群聊"
		return r
	case bot.EventGroupRenamed:
		r.Text = "群名改为 \"周末活动群" + strconv.Itoa(i) + "\""
		return r
	}
	r.MsgID = strconv.FormatUint(uint64(h)*1000003+uint64(i), 10)
	r.MsgType = mt
	switch mt {
	case bot.MsgImage:
		r.Text, r.FileName, r.Size = "[图片]", "IMG_"+strconv.Itoa(i)+".jpg", int64(100000+h%900000)
	case bot.MsgFile:
		r.FileName = "活动安排" + strconv.Itoa(i) + ".pdf"
		r.Text, r.Size = r.FileName, int64(20000+h%2000000)
	default:
		f := len(fragments)
		r.Text = fragments[int(h)%f] + fragments[int(h>>5)%f] + fragments[int(h>>11)%f]
	}
	return r
}

// GroupRecord describes the synthetic group.
func (s *Source) Group(context.Context) (bot.GroupRecord, error) {
	return bot.GroupRecord{ID: Group, Name: "周末活动群", FirstSeen: Start, LastSeen: s.end(), MemberCount: len(names), BotPresent: true}, nil
}

func (s *Source) end() time.Time { return Start.Add(time.Duration(s.N) * Step) }

// Members lists the synthetic members.
func (s *Source) Members(context.Context) ([]bot.MemberRecord, error) {
	out := make([]bot.MemberRecord, len(names))
	for i := range out {
		out[i] = bot.MemberRecord{Group: Group, User: userIDs[i], Nick: names[i], Present: true, FirstSeen: Start, JoinedAt: Start}
	}
	return out, nil
}

// Scan generates the records with from <= Time < to.
func (s *Source) Scan(ctx context.Context, from, to time.Time, fn func(bot.Record) error) error {
	lo, hi := s.span(from, to)
	for i := lo; i < hi; i++ {
		if i&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(Record(i)); err != nil {
			return err
		}
	}
	return nil
}

// span is the index range of records in [from, to).
func (s *Source) span(from, to time.Time) (lo, hi int) {
	lo, hi = 0, s.N
	if !from.IsZero() && from.After(Start) {
		lo = int((from.Sub(Start) + Step - 1) / Step)
	}
	if !to.IsZero() {
		if to.Before(Start) {
			return 0, 0
		}
		hi = min(hi, int((to.Sub(Start)+Step-1)/Step))
	}
	return lo, max(lo, hi)
}

// HourCounts counts the records of each UTC hour in [from, to), as the
// store does.
func (s *Source) HourCounts(_ context.Context, from, to time.Time) ([]bot.HourCount, error) {
	lo, hi := s.span(from, to)
	var out []bot.HourCount
	for i := lo; i < hi; i++ {
		hour := Start.Add(time.Duration(i) * Step).Truncate(time.Hour)
		if len(out) == 0 || !out[len(out)-1].Hour.Equal(hour) {
			out = append(out, bot.HourCount{Hour: hour})
		}
		c := &out[len(out)-1]
		k, fromBot, mt := kind(i)
		switch k {
		case bot.EventMessage:
			if fromBot {
				c.Bot++
			} else {
				c.Messages++
			}
			if mt == bot.MsgImage || mt == bot.MsgFile {
				c.Media++
			}
		case bot.EventMemberJoined:
			c.Joins++
		case bot.EventMemberLeft:
			c.Leaves++
		default:
			c.Other++
		}
	}
	return out, nil
}

// Sessions reports the bot online for the whole history but for one
// two-hour outage on day 3.
func (s *Source) Sessions(context.Context, time.Time, time.Time) ([]bot.Session, error) {
	outage := Start.Add(50 * time.Hour)
	return []bot.Session{
		{ID: 1, Start: Start.Add(-time.Hour), End: outage, LastAlive: outage, EndReason: "network"},
		{ID: 2, Start: outage.Add(2 * time.Hour), End: s.end().Add(time.Hour), LastAlive: s.end().Add(time.Hour), EndReason: "stop"},
	}, nil
}
