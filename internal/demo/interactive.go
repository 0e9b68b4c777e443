package demo

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/qunguan/qunguan/bot/simbot"
)

// Interactive lets a person type script lines and see the bot answer, in
// the world and config of the first chapter.
func Interactive(dir string, in io.Reader, out io.Writer) error {
	scs, err := Chapters()
	if err != nil {
		return err
	}
	sc := scs[0]
	b, err := simbot.New(dir, scenarioOptions(sc))
	if err != nil {
		return err
	}
	defer b.Close()
	b.Actions()
	p := newPrinter(out)
	p.attach(b)
	fmt.Fprint(out, interactiveHelp)
	sc2 := bufio.NewScanner(in)
	fmt.Fprint(out, "> ")
	for sc2.Scan() {
		line := strings.TrimSpace(sc2.Text())
		switch {
		case line == "":
		case line == "quit" || line == "exit":
			return nil
		case line == "help":
			fmt.Fprint(out, interactiveHelp)
		case line == "who":
			fmt.Fprintln(out, strings.TrimSpace(sc.Sections["world.yaml"]))
		default:
			if n, ok := auditLine(line); ok {
				if err := p.audit(n); err != nil {
					fmt.Fprintf(out, "  ?? %v\n", err)
				}
				break
			}
			_, err := b.Step(line)
			p.flush(false)
			if err != nil {
				fmt.Fprintf(out, "  ?? %v (type help)\n", err)
			}
		}
		fmt.Fprint(out, "> ")
	}
	return sc2.Err()
}

const interactiveHelp = `
Type what a simulated person does (写法):
  alice@技术交流群: 大家好        alice says something in the group (群里说话)
  dm 王老师: /status              王老师 (an operator) DMs the bot (私聊机器人)
  owner: /help                    the bot owner types in File Transfer (文件传输助手)
  +erin@技术交流群                erin joins (入群)     -bob@技术交流群  bob leaves (退群)
  advance 1d                      let a day pass (时间快进)
  audit 5                         the newest 5 audit log entries (审计日志)
  who                             show the simulated world     help / quit
`
