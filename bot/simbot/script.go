package simbot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/sim"
)

// A scenario file has sections, each opened by a line "-- name --":
//
//	-- world.yaml --   the sim world (optional; DefaultWorld otherwise)
//	-- config.yaml --  the config (optional; DefaultConfig otherwise)
//	-- options --      "weblike" (no kick/dissolve), "nologin"
//	-- script --       the script, with expectations
//
// Script lines:
//
//	alice@技术交流群: 大家好          alice says this in the group
//	dm alice: /help                   alice DMs the bot
//	owner: /status                    the owner types in File Transfer
//	+bob,carol@技术交流群 [by alice]  they join (invited by alice)
//	-bob@技术交流群                   bob leaves
//	image alice@技术交流群 a.png      alice sends a picture (also: file)
//	rename 技术交流群 -> 新名字 [by alice]
//	removebot 技术交流群 [by alice]   a human removes the bot
//	dissolve 技术交流群               a human dissolves the group
//	friend-request erin: 加群         a stranger asks to be a friend
//	nick alice -> 王老师              alice changes her nickname
//	card 技术交流群 alice 小A          alice sets her group card
//	advance 3d                        time passes (timers fire)
//	next                              time passes up to the next step a
//	                                  plugin scheduled (see NextStep)
//	fail send_text rate_limited|network|offline|unsupported
//	login | logout REASON
//	stop | start | restart | crash    stop the bot (graceful), start it,
//	                                  both; crash stops without shutdown
//	audit [N]                         print the last N audit actions and
//	                                  whether the chain verifies
//	repeat N {                        run the lines up to a line "}" N times
//	  alice@技术交流群: 早             (weeks of chat without pages of script);
//	  advance 1d                      their actions are expected after "}"
//	}
//	# comment
//
// In any line, {code} stands for the last confirmation code the bot sent
// ("dm 王老师: /confirm {code}"), so scripts need not know the codes.
//
// After each line come the expected actions, one per line, starting with
// "> "; multi-line texts continue on lines starting with ">   ". Running
// with -update rewrites them from what the bot actually did.
type Scenario struct {
	Path     string
	Sections map[string]string
	order    []string
}

var sectionRE = regexp.MustCompile(`(?m)^-- ([^ ].*?) --$`)

// ParseScenario splits a scenario file into sections.
func ParseScenario(path string, data []byte) (*Scenario, error) {
	s := &Scenario{Path: path, Sections: map[string]string{}}
	text := string(data)
	locs := sectionRE.FindAllStringSubmatchIndex(text, -1)
	if len(locs) == 0 {
		return nil, fmt.Errorf("%s: no sections", path)
	}
	for i, loc := range locs {
		name := text[loc[2]:loc[3]]
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		body := text[loc[1]:end]
		body = strings.TrimPrefix(body, "\n")
		s.Sections[name] = body
		s.order = append(s.order, name)
	}
	if _, ok := s.Sections["script"]; !ok {
		return nil, fmt.Errorf("%s: no -- script -- section", path)
	}
	return s, nil
}

// Format renders the scenario back with a new script section.
func (s *Scenario) Format(script string) []byte {
	var b strings.Builder
	for _, name := range s.order {
		fmt.Fprintf(&b, "-- %s --\n", name)
		body := s.Sections[name]
		if name == "script" {
			body = script
		}
		b.WriteString(body)
		if !strings.HasSuffix(body, "\n") {
			b.WriteString("\n")
		}
	}
	return []byte(b.String())
}

// FormatActions renders actions as expectation lines.
func FormatActions(as []sim.Action) string {
	var b strings.Builder
	for _, a := range as {
		head := a.Kind + " " + a.To
		if len(a.Users) > 0 {
			head += " [" + strings.Join(a.Users, ", ") + "]"
		}
		if a.Err != nil {
			head += " (error: " + a.Err.Error() + ")"
		}
		lines := strings.Split(a.Text, "\n")
		switch {
		case a.Text == "":
			b.WriteString("> " + head + "\n")
		case len(lines) == 1:
			b.WriteString("> " + head + ": " + a.Text + "\n")
		default:
			b.WriteString("> " + head + ":\n")
			for _, l := range lines {
				b.WriteString(">   " + l + "\n")
			}
		}
	}
	return b.String()
}

var (
	sayRE    = regexp.MustCompile(`^([^@:：\s]+)@([^:：]+)[:：] ?(.*)$`)
	joinRE   = regexp.MustCompile(`^([+-])([^@]+)@(\S+)(?: by (\S+))?$`)
	mediaRE  = regexp.MustCompile(`^(image|file) ([^@]+)@(\S+) (\S+)$`)
	dmRE     = regexp.MustCompile(`^dm ([^:：]+)[:：] ?(.*)$`)
	ownerRE  = regexp.MustCompile(`^owner[:：] ?(.*)$`)
	renameRE = regexp.MustCompile(`^rename (\S+) -> (\S+)(?: by (\S+))?$`)
)

// ErrCannotParse is Step's error for a line in none of the forms above.
var ErrCannotParse = errors.New("cannot parse script line")

var repeatRE = regexp.MustCompile(`^repeat (\d+) \{$`)

// repeatBlock collects the lines of a "repeat N {" block until its "}".
type repeatBlock struct {
	n     int
	lines []string
}

// Step runs one script line and returns the bot's actions as expectation lines.
// Inside a "repeat N {" block lines are collected; the closing "}" runs them
// N times and returns all their actions.
func (b *Bot) Step(line string) (string, error) {
	line = strings.TrimSpace(line)
	if b.repeat != nil {
		if line != "}" {
			if repeatRE.MatchString(line) {
				return "", fmt.Errorf("repeat blocks do not nest")
			}
			if line != "" && !strings.HasPrefix(line, "#") {
				b.repeat.lines = append(b.repeat.lines, line)
			}
			return "", nil
		}
		blk := b.repeat
		b.repeat = nil
		var out strings.Builder
		for i := 0; i < blk.n; i++ {
			for _, l := range blk.lines {
				o, err := b.step(l)
				if err != nil {
					return out.String(), fmt.Errorf("repeat %d/%d: %s: %w", i+1, blk.n, l, err)
				}
				out.WriteString(o)
			}
		}
		return out.String(), nil
	}
	if m := repeatRE.FindStringSubmatch(line); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 {
			return "", fmt.Errorf("repeat needs a positive count")
		}
		b.repeat = &repeatBlock{n: n}
		return "", nil
	}
	if line == "}" {
		return "", fmt.Errorf("\"}\" without \"repeat N {\"")
	}
	return b.step(line)
}

func (b *Bot) step(line string) (string, error) {
	p := b.Sim
	if strings.Contains(line, "{code}") {
		if b.lastCode == "" {
			return "", fmt.Errorf("{code}: the bot has sent no confirmation code yet")
		}
		line = strings.ReplaceAll(line, "{code}", b.lastCode)
	}
	fields := strings.Fields(line)
	switch {
	case fields[0] == "advance" && len(fields) == 2:
		d, err := bot.ParseDuration(fields[1])
		if err != nil {
			return "", err
		}
		b.Advance(d)
	case fields[0] == "next" && len(fields) == 1:
		due, ok := b.NextStep()
		if !ok {
			return "", fmt.Errorf("next: no step is scheduled")
		}
		b.Advance(due.Sub(b.Clock.Now()))
	case fields[0] == "login":
		p.Login()
	case fields[0] == "logout":
		p.Logout(strings.TrimSpace(strings.TrimPrefix(line, "logout")))
	case fields[0] == "stop":
		if err := b.StopBot(); err != nil {
			return "", err
		}
	case fields[0] == "start":
		if err := b.StartBot(); err != nil {
			return "", err
		}
		p.Login()
	case fields[0] == "restart":
		if err := b.Restart(); err != nil {
			return "", err
		}
	case fields[0] == "crash":
		b.Crash()
	case fields[0] == "fail" && len(fields) == 3:
		errs := map[string]error{"rate_limited": bot.ErrRateLimited, "network": bot.ErrNetwork, "offline": bot.ErrOffline, "unsupported": bot.ErrUnsupported}
		e, ok := errs[fields[2]]
		if !ok {
			return "", fmt.Errorf("unknown failure %q", fields[2])
		}
		p.FailNext(fields[1], e)
	case fields[0] == "audit":
		n := 5
		if len(fields) > 1 {
			fmt.Sscan(fields[1], &n)
		}
		return b.auditSummary(n)
	case fields[0] == "nick" && len(fields) == 4 && fields[2] == "->":
		if err := b.need("", fields[1]); err != nil {
			return "", err
		}
		p.SetNick(fields[1], fields[3])
	case fields[0] == "card" && len(fields) == 4:
		if err := b.needMember(fields[1], fields[2]); err != nil {
			return "", err
		}
		p.SetCard(fields[1], fields[2], fields[3])
	case fields[0] == "removebot" && len(fields) >= 2:
		by := "someone"
		if len(fields) == 4 && fields[2] == "by" {
			by = fields[3]
		}
		if err := b.need(fields[1], ""); err != nil {
			return "", err
		}
		p.RemoveBot(fields[1], by)
	case fields[0] == "dissolve" && len(fields) == 2:
		if err := b.need(fields[1], ""); err != nil {
			return "", err
		}
		p.DissolveByHuman(fields[1])
	case fields[0] == "friend-request":
		rest := strings.TrimSpace(strings.TrimPrefix(line, "friend-request"))
		nick, text, _ := strings.Cut(rest, ":")
		p.FriendRequest(strings.TrimSpace(nick), strings.TrimSpace(text))
	case renameRE.MatchString(line):
		m := renameRE.FindStringSubmatch(line)
		if err := b.need(m[1], ""); err != nil {
			return "", err
		}
		p.RenameBy(m[1], m[3], m[2])
	case mediaRE.MatchString(line):
		m := mediaRE.FindStringSubmatch(line)
		typ := bot.MsgImage
		if m[1] == "file" {
			typ = bot.MsgFile
		}
		if err := b.needMember(m[3], m[2]); err != nil {
			return "", err
		}
		p.SendMedia(m[3], m[2], typ, m[4], "")
	case dmRE.MatchString(line):
		m := dmRE.FindStringSubmatch(line)
		if err := b.need("", m[1]); err != nil {
			return "", err
		}
		p.DM(m[1], m[2])
	case ownerRE.MatchString(line):
		p.FileHelper(ownerRE.FindStringSubmatch(line)[1])
	case joinRE.MatchString(line):
		m := joinRE.FindStringSubmatch(line)
		nicks := strings.Split(m[2], ",")
		if err := b.need(m[3], ""); err != nil {
			return "", err
		}
		if m[1] == "-" {
			for _, n := range nicks {
				if err := b.needMember(m[3], n); err != nil {
					return "", err
				}
			}
		}
		if m[1] == "+" {
			p.Join(m[3], m[4], nicks...)
		} else {
			p.Leave(m[3], nicks...)
		}
	case sayRE.MatchString(line):
		m := sayRE.FindStringSubmatch(line)
		if err := b.needMember(m[2], m[1]); err != nil {
			return "", err
		}
		p.Say(m[2], m[1], m[3])
	default:
		return "", ErrCannotParse
	}
	b.Settle()
	return FormatActions(b.Actions()), nil
}

// need checks that a script line names a group and a person that exist in
// the simulated world (either may be ""), so a typo in the interactive
// demo gets an answer instead of a crash.
func (b *Bot) need(group, nick string) error {
	if group != "" && b.Sim.Group(group) == nil {
		return fmt.Errorf("no group %q in the simulated world", group)
	}
	if nick != "" && nick != b.selfNick() && b.Sim.User(nick) == nil {
		return fmt.Errorf("no person %q in the simulated world", nick)
	}
	return nil
}

// needMember is need for a person who acts in a group. With
// Options.CheckMembers they must also be in it, as on WeChat, where only
// members can post. The bot account may always act; where the bot cannot
// see the member list (it was removed) nothing more is checked.
func (b *Bot) needMember(group, nick string) error {
	if err := b.need(group, nick); err != nil {
		return err
	}
	if !b.opts.CheckMembers || nick == b.selfNick() {
		return nil
	}
	ms, err := b.Sim.Members(context.Background(), b.Sim.Group(group).ID)
	if err != nil {
		return nil
	}
	id := b.Sim.User(nick).ID
	for _, m := range ms {
		if m.ID == id {
			return nil
		}
	}
	return fmt.Errorf("%s is not a member of %q (add them first: +%s@%s)", nick, group, nick, group)
}

func (b *Bot) selfNick() string {
	self, _ := b.Sim.Self(context.Background())
	return self.Nick
}

func (b *Bot) auditSummary(n int) (string, error) {
	if !b.running {
		return "", errNotRunning
	}
	ctx := context.Background()
	rep, err := b.Store.VerifyAudit(ctx)
	if err != nil {
		return "", err
	}
	es, err := b.Store.AuditEntries(ctx, bot.AuditFilter{Limit: n})
	if err != nil {
		return "", err
	}
	var out strings.Builder
	fmt.Fprintf(&out, "> audit: %d entries, chain ok=%v\n", rep.Entries, rep.OK())
	for _, e := range es {
		fmt.Fprintf(&out, ">   %s %s %s\n", e.Action, e.GroupName, strings.ReplaceAll(e.Detail, "\n", " "))
	}
	return out.String(), nil
}
