package countdown_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/sim"
	"github.com/qunguan/qunguan/bot/simbot"
	"github.com/qunguan/qunguan/internal/failpoint"
	"github.com/qunguan/qunguan/plugins/countdown"
	"github.com/qunguan/qunguan/plugins/export/archive"
	"github.com/qunguan/qunguan/store"
)

// The crash tests run the bot as a real child process: this test binary,
// re-executed with QUNGUAN_CRASH_DIR set, runs a simbot on a data dir the
// parent owns and drives a whole countdown to its end. The first run has
// QUNGUAN_FAILPOINT set and dies by SIGKILL at that point of the
// lifecycle; the second runs on the same data dir and must finish.
//
// Time is deterministic: the child keeps the fake clock's time in a file
// and writes it before every step, so the next run starts at the instant
// the killed one was about to move on from, and the world outside the bot
// (the sim platform: groups, names, members, a dissolved group) is saved
// after every change, as the real one would simply go on existing.
const crashDirEnv = "QUNGUAN_CRASH_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	os.Exit(m.Run())
}

// crashConfig is the child's config: a 2-hour countdown with two
// reminders keeps the fake-clock steps few.
const crashConfig = `
platform: sim
language: zh
timezone: Asia/Shanghai
operators: [运营-王老师]
groups:
  - name: 技术交流群
plugins:
  countdown:
    reminders: [1h, 10m]
`

// crashGroup is the durable id the sim gives 技术交流群, the first group of
// the default world.
const crashGroup = bot.GroupID("g_0001")

// crashPoints are the failpoints the lifecycle passes, in order. Each gets
// a run killed there.
var crashPoints = []string{
	"confirm.used",
	"countdown.confirmed",
	"countdown.start.marked",
	"countdown.start.sent",
	"countdown.remind.marked",
	"countdown.remind.sent",
	"countdown.freeze.recorded",
	"countdown.final.marked",
	"countdown.final.sent",
	"countdown.renamed",
	"countdown.frozen",
	"countdown.export.recorded",
	"export.started",
	"export.writing",
	"export.written",
	"export.recorded",
	"countdown.export.done",
	"countdown.readiness",
	"countdown.dissolve.recorded",
	"countdown.dissolve.calling",
	"countdown.dissolved",
	"countdown.dissolve.called",
	"countdown.done.sent",
}

// loggedAction is one platform action as the child logs it.
type loggedAction struct {
	Time  time.Time `json:"time"`
	Kind  string    `json:"kind"`
	To    string    `json:"to"`
	Text  string    `json:"text"`
	Users []string  `json:"users,omitempty"`
}

func crashChild(dir string) int {
	ctx := context.Background()
	world := simbot.DefaultWorld
	if b, err := os.ReadFile(filepath.Join(dir, "world.yaml")); err == nil {
		world = string(b)
	}
	start := simbot.Start
	if b, err := os.ReadFile(filepath.Join(dir, "clock")); err == nil {
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad clock file:", err)
			return 2
		}
		start = t
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "child.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))
	log.Info("crash child starting", "failpoint", failpoint.Target(), "clock", start)
	if err := os.MkdirAll(filepath.Join(dir, "bot"), 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	b, err := simbot.New(filepath.Join(dir, "bot"), simbot.Options{World: world, Config: crashConfig, Plugins: lifecycle,
		Start: start, NoLogin: true, Logger: log, Codes: randomCode})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 2
	}
	actions, err := os.OpenFile(filepath.Join(dir, "actions.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// Each action is appended as it happens, so what a killed run did is
	// on disk (the page cache survives the process).
	b.Sim.OnAction(func(a sim.Action) {
		line, _ := json.Marshal(loggedAction{Time: a.Time, Kind: a.Kind, To: a.To, Text: a.Text, Users: a.Users})
		_, _ = actions.Write(append(line, '\n'))
	})
	if err := b.Sim.PersistTo(filepath.Join(dir, "world.yaml")); err != nil {
		fmt.Fprintln(os.Stderr, "persist world:", err)
		return 2
	}
	// A real process would have handed its queued messages to the platform
	// within seconds; the sync harness does it when told.
	failpoint.BeforeKill(func() { b.RT.Pacer().Drain(ctx) })
	b.Sim.Login()
	b.Settle()

	step := func(line string) error {
		_, err := b.Step(line)
		return err
	}
	saveClock := func(t time.Time) error {
		return os.WriteFile(filepath.Join(dir, "clock"), []byte(t.Format(time.RFC3339Nano)), 0o600)
	}
	for i := 0; i < 3000; i++ {
		if err := saveClock(b.Clock.Now()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		lc, err := readLifecycle(ctx, b.Store)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lifecycle:", err)
			return 2
		}
		code, err := nextCode(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		switch {
		case code != "":
			// Written down before typing: a code typed into a run that
			// dies is used up, as the runtime marks it used first.
			if err := appendLine(filepath.Join(dir, "typed"), code); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
			err = step("dm 王老师: /confirm " + code)
		case lc == nil:
			if err = step("alice@技术交流群: 这门课今天结束吗"); err == nil {
				err = step("dm 王老师: /countdown @技术交流群 2h 课程结束")
			}
		case lc.State == countdown.StateCanceled:
			// A request whose confirmation was lost in the crash lapsed.
			err = step("dm 王老师: /countdown @技术交流群 2h 课程结束")
		case lc.State == countdown.StateDissolved && !lc.Sent["dissolved"].IsZero():
			if err := b.Close(); err != nil {
				fmt.Fprintln(os.Stderr, "stop:", err)
				return 2
			}
			return 0
		case lc.State == countdown.StateHalted:
			fmt.Fprintln(os.Stderr, "lifecycle halted:", lc.Halt)
			return 3
		default:
			now := b.Clock.Now()
			target := now.Add(time.Hour)
			if next, ok := b.Clock.NextDeadline(); ok && next.Before(target) {
				target = next
			}
			// The time about to be reached is written first: a run killed
			// while timers fire at target restarts at target, never
			// earlier than it died (time does not run backwards for a
			// restarted process).
			if err := saveClock(target); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
			b.Advance(max(target.Sub(now), 0))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "step:", err)
			return 2
		}
	}
	fmt.Fprintln(os.Stderr, "the lifecycle did not finish")
	return 4
}

func randomCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

func readLifecycle(ctx context.Context, st *store.DB) (*countdown.Lifecycle, error) {
	raw, err := st.KV("countdown").Get(ctx, "lc/"+string(crashGroup))
	if errors.Is(err, bot.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var lc countdown.Lifecycle
	return &lc, json.Unmarshal(raw, &lc)
}

var codeRE = regexp.MustCompile(`/confirm (\d{6})`)

// nextCode is the first confirmation code the bot DMed to the operator
// that the driver has not typed yet.
func nextCode(dir string) (string, error) {
	acts, err := readActions(dir)
	if err != nil {
		return "", err
	}
	typed, err := os.ReadFile(filepath.Join(dir, "typed"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	done := strings.Fields(string(typed))
	for _, a := range acts {
		if a.Kind != "send_text" || a.To != "DM:王老师" {
			continue
		}
		for _, m := range codeRE.FindAllStringSubmatch(a.Text, -1) {
			if !slices.Contains(done, m[1]) {
				return m[1], nil
			}
		}
	}
	return "", nil
}

func readActions(dir string) ([]loggedAction, error) {
	data, err := os.ReadFile(filepath.Join(dir, "actions.log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []loggedAction
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var a loggedAction
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			return nil, fmt.Errorf("actions.log: %w", err)
		}
		out = append(out, a)
	}
	return out, nil
}

func appendLine(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// runChild runs one bot process on dir and reports its exit code, or that
// it was killed by SIGKILL.
func runChild(t *testing.T, dir, point string) (code int, killed bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, failpoint.EnvVar+"="+point)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("child timed out; stderr:\n%s\nlog:\n%s", stderr.String(), tail(dir))
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, false
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			if ws.Signal() == syscall.SIGKILL {
				return -1, true
			}
			t.Fatalf("child died by %v; stderr:\n%s\nlog:\n%s", ws.Signal(), stderr.String(), tail(dir))
		}
		if ee.ExitCode() != 0 {
			t.Logf("child exit %d; stderr:\n%s", ee.ExitCode(), stderr.String())
		}
		return ee.ExitCode(), false
	default:
		t.Fatalf("child: %v", err)
	}
	return 0, false
}

func tail(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "child.log"))
	s := string(b)
	if len(s) > 6000 {
		s = s[len(s)-6000:]
	}
	return s
}

// TestCrashAtEveryStep kills the bot with SIGKILL at every step of a
// dissolve in turn, restarts it on the same data dir, and checks that each
// run ends with the group dissolved once, exactly one verified archive, no
// announcement sent twice and an audit chain that verifies.
func TestCrashAtEveryStep(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL of oneself is Unix-only")
	}
	if testing.Short() {
		t.Skip("starts two bot processes per lifecycle step")
	}
	t.Run("no_crash", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if code, killed := runChild(t, dir, ""); killed || code != 0 {
			t.Fatalf("run without a crash: exit %d; log:\n%s", code, tail(dir))
		}
		checkCrashOutcome(t, dir, "")
	})
	for _, point := range crashPoints {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if code, killed := runChild(t, dir, point); !killed {
				t.Fatalf("failpoint %s was not reached: the run ended with exit %d; log:\n%s", point, code, tail(dir))
			}
			if code, killed := runChild(t, dir, ""); killed || code != 0 {
				t.Fatalf("restart after a crash at %s: exit %d; log:\n%s", point, code, tail(dir))
			}
			checkCrashOutcome(t, dir, point)
		})
	}
}

func checkCrashOutcome(t *testing.T, dir, point string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(dir, "bot", "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// The right final state, observed: the lifecycle says dissolved and
	// the platform's world has the group gone.
	lc, err := readLifecycle(ctx, db)
	if err != nil || lc == nil {
		t.Fatalf("lifecycle: %v %v", lc, err)
	}
	if lc.State != countdown.StateDissolved || lc.Observed == "" {
		t.Errorf("final state %s (observed %q), want dissolved as observed", lc.State, lc.Observed)
	}
	worldYAML, err := os.ReadFile(filepath.Join(dir, "world.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := sim.LoadWorld(bot.NewFakeClock(simbot.Start), worldYAML)
	if err != nil {
		t.Fatal(err)
	}
	if gs, _ := w.Groups(ctx); len(gs) != 1 || gs[0].Name != "读书会" {
		t.Errorf("groups left on the platform: %v, want only 读书会", gs)
	}

	// The audit chain verifies, and the one-off steps are in it once.
	rep, err := db.VerifyAudit(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("audit chain: %+v %v", rep, err)
	}
	es, err := db.AuditEntries(ctx, bot.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var exportSHA string
	for _, e := range es {
		count[e.Action]++
		if e.Action == "countdown.export" {
			exportSHA = e.Data["manifest_sha256"]
		}
	}
	for _, a := range []string{"countdown.start", "countdown.freeze", "countdown.export", "countdown.dissolved", "export.done"} {
		if count[a] != 1 {
			t.Errorf("audit has %d %s entries, want 1", count[a], a)
		}
	}
	// A code used by a run that died before acting on it is not lost: the
	// restart finishes it (a no-op where the action had been taken), and
	// nobody is asked to confirm a second time.
	if count["confirm.resumed"] > 1 || point == "confirm.used" && count["confirm.resumed"] != 1 || count["confirm.request"] != 1 {
		t.Errorf("audit has %d confirm.resumed and %d confirm.request entries, want one resumed at most (exactly one after a crash at confirm.used) and one request", count["confirm.resumed"], count["confirm.request"])
	}

	// Exactly one archive, complete and verified, the one the audit log
	// recorded; nothing partial left anywhere.
	var folders, zips []string
	root := filepath.Join(dir, "bot", "data", "exports")
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case strings.Contains(d.Name(), ".partial"):
			t.Errorf("leftover of a failed export: %s", p)
		case d.IsDir() && fileExists(filepath.Join(p, archive.ManifestFile)):
			folders = append(folders, p)
			return filepath.SkipDir
		case strings.HasSuffix(d.Name(), ".zip"):
			zips = append(zips, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(folders) != 1 || len(zips) != 1 {
		t.Fatalf("archives: folders %v, zips %v; want exactly one of each", folders, zips)
	}
	r, err := archive.Verify(folders[0])
	if err != nil {
		t.Fatalf("archive does not verify: %v", err)
	}
	if _, err := archive.VerifyZip(zips[0]); err != nil {
		t.Fatalf("zip does not verify: %v", err)
	}
	if r.ManifestSHA256 != exportSHA || lc.Export == nil || lc.Export.ManifestSHA256 != exportSHA {
		t.Errorf("archive manifest %s, audit %s, lifecycle %+v", r.ManifestSHA256, exportSHA, lc.Export)
	}

	// No announcement twice. One may be missing only where the run died
	// between writing its "sent" mark and queueing it: at-most-once is the
	// promise, since the mark is written before the message goes.
	acts, err := readActions(dir)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		name, kind, to, contains string
		lostAt                   string
	}
	wants := []want{
		{"start notice", "send_text", "技术交流群", "📢 本群将于", "countdown.start.marked"},
		{"operator start notice", "send_text", "DM:王老师", "【倒计时】「技术交流群」将于", "countdown.start.marked"},
		{"1h reminder", "send_text", "技术交流群", "还有 1小时", "countdown.remind.marked"},
		{"10m reminder", "send_text", "技术交流群", "还有 10分钟", ""},
		{"final notice", "send_text", "技术交流群", "🔒 本群已到解散时间", "countdown.final.marked"},
		{"operator freeze notice", "send_text", "DM:王老师", "已到期并冻结", "countdown.final.marked"},
		{"readiness report", "send_text", "DM:王老师", "【解散准备度】", ""},
		{"archive by DM", "send_file", "DM:王老师", ".zip", ""},
		{"dissolved notice", "send_text", "DM:王老师", "【已解散】「技术交流群」已解散", ""},
		{"rename", "rename", "技术交流群", "【已解散】技术交流群", ""},
		{"dissolve", "dissolve", "【已解散】技术交流群", "", ""},
	}
	for _, w := range wants {
		n := 0
		for _, a := range acts {
			// The freeze prefix may or may not be on the group's name yet
			// when a message goes out.
			if a.Kind == w.kind && strings.TrimPrefix(a.To, "【已解散】") == strings.TrimPrefix(w.to, "【已解散】") && strings.Contains(a.Text, w.contains) {
				n++
			}
		}
		switch {
		case n > 1:
			t.Errorf("%s sent %d times", w.name, n)
		case n == 0 && (point == "" || w.lostAt != point):
			t.Errorf("%s missing", w.name)
		}
	}
	if t.Failed() {
		var b strings.Builder
		for _, a := range acts {
			fmt.Fprintf(&b, "%s %s %s: %.60q\n", a.Time.Format("01-02 15:04"), a.Kind, a.To, a.Text)
		}
		t.Logf("actions:\n%s", b.String())
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
