// Package cli implements the qunguan command line: run, demo,
// check-config, audit verify, export, stats, db check|compact|backup|backups|restore
// and version. cmd/qunguan only calls Main.
package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/qunguan/qunguan"
	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/internal/app"
	"github.com/qunguan/qunguan/internal/demo"
	"github.com/qunguan/qunguan/plugins"
	"github.com/qunguan/qunguan/store"
)

// Build describes the binary (stamped with -ldflags -X by the Makefile).
type Build struct {
	Version, Commit string
	// Platforms are the platform factories compiled in.
	Platforms map[string]app.PlatformFactory
}

// Env is the process environment the CLI runs in.
type Env struct {
	Args           []string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

const usage = `qunguan — WeChat group management bot (群管)

Usage:
  qunguan run [--config FILE] [--log-level info]  run the bot (platform from config)
  qunguan demo [--interactive]                    the bot on the simulated platform
  qunguan check-config [--config FILE]            validate a config file
  qunguan check-config --example                  print the commented example config
  qunguan audit verify [--config FILE]            verify the audit log's hash chain
  qunguan export --group NAME [--out DIR]         export a group's history (bot stopped)
        [--formats jsonl,csv,...] [--redact] [--recipient age1...]
  qunguan stats --group NAME [--days 30] [--csv] [--members] [--config FILE]
                                                  a group's statistics and health (bot stopped)
  qunguan db check [--config FILE]                check the database file
  qunguan db compact [--config FILE]              give unused space back (bot stopped)
  qunguan db backup [--config FILE]               write a backup now (bot stopped)
  qunguan db backups [--config FILE]              list backups, newest first
  qunguan db restore BACKUP [--config FILE]       put a backup in place (bot stopped)
  qunguan version                                 print the version

"qunguan COMMAND --help" (or "qunguan help COMMAND") tells more about one command.
`

// help is one command's --help text: its synopsis and what it does.
type help struct{ synopsis, about string }

// helps are the --help texts by command ("db backups" for subcommands).
var helps = map[string]help{
	"run": {"qunguan run [--config FILE] [--log-level info]",
		"Runs the bot on the platform the config names (wechat, or sim to try it out)\nuntil it is stopped with Ctrl-C or SIGTERM."},
	"demo": {"qunguan demo [--interactive]",
		"Runs the bot on the simulated platform in a temporary folder: a scripted tour,\nor with --interactive a chat you type into as any member or operator."},
	"check-config": {"qunguan check-config [--config FILE] | --example",
		"Checks a config file and says what is wrong with file and line, or prints the\ncommented example config."},
	"audit verify": {"qunguan audit verify [--config FILE] [--data-dir DIR]",
		"Verifies the audit log's hash chain and names the first entry that breaks it.\nThe bot must be stopped."},
	"export": {"qunguan export --group NAME [--out DIR] [--formats jsonl,csv,...] [--redact] [--recipient age1...] [--config FILE]",
		"Exports a group's history into an archive, like /导出 (/export) in chat.\nThe bot must be stopped; while it runs, use /导出 in the group instead."},
	"stats": {"qunguan stats --group NAME [--days 30] [--csv] [--members] [--config FILE]",
		"Prints a group's statistics and health, like /统计 (/stats) in chat.\nThe bot must be stopped; while it runs, ask it by DM: /统计 @群名 30天."},
	"db check": {"qunguan db check [--config FILE] [--data-dir DIR]",
		"Checks the database file fully and names the newest good backup if it is damaged.\nThe bot must be stopped."},
	"db compact": {"qunguan db compact [--config FILE] [--data-dir DIR]",
		"Rewrites the database file without its unused space, after a backup (pre-compact).\nThe bot must be stopped."},
	"db backup": {"qunguan db backup [--config FILE] [--data-dir DIR]",
		"Writes a backup (manual) now and prints its path. The bot must be stopped."},
	"db backups": {"qunguan db backups [--config FILE] [--data-dir DIR]",
		"Lists the backups, newest first, with their time, kind, size and whether\nthey pass the damage check."},
	"db restore": {"qunguan db restore BACKUP [--config FILE] [--data-dir DIR]",
		"Puts a backup in place of the database file, after checking it. The file it\nreplaces is kept beside it (qunguan.db.replaced-... or .damaged-...).\nThe bot must be stopped."},
	"version": {"qunguan version", "Prints the version and the commit the binary was built from."},
}

// Subcommand groups: their usage, printed for --help and for a missing or
// unknown subcommand.
const (
	dbUsage = `Usage: qunguan db COMMAND [--config FILE] [--data-dir DIR]

Commands:
  check             check the database file (bot stopped)
  compact           give unused space back (bot stopped)
  backup            write a backup now (bot stopped)
  backups           list backups, newest first
  restore BACKUP    put a backup in place (bot stopped)

"qunguan db COMMAND --help" tells more about one.
`
	auditUsage = `Usage: qunguan audit verify [--config FILE] [--data-dir DIR]

Commands:
  verify            verify the audit log's hash chain (bot stopped)
`
)

// usageError is a command called the wrong way. Main prints it with the
// command's usage and exits 2.
type usageError struct{ msg, usage string }

func (e *usageError) Error() string { return e.msg }

// errFlags means the flag package has printed the problem and the usage.
var errFlags = errors.New("bad flags")

// commands are the top-level commands.
var commands = map[string]func(Build, Env, []string) error{
	"run":          runCmd,
	"demo":         func(_ Build, e Env, args []string) error { return demoCmd(e, args) },
	"check-config": func(_ Build, e Env, args []string) error { return checkConfigCmd(e, args) },
	"audit":        func(_ Build, e Env, args []string) error { return auditCmd(e, args) },
	"export":       exportCmd,
	"stats":        func(_ Build, e Env, args []string) error { return statsCmd(e, args) },
	"db":           func(_ Build, e Env, args []string) error { return dbCmd(e, args) },
	"version":      versionCmd,
	"--version":    versionCmd,
	"-v":           versionCmd,
}

// Main runs the CLI and returns the process exit code: 0 on success and
// for --help, 1 when the command failed, 2 when it was called wrongly.
func Main(b Build, e Env) int {
	if len(e.Args) < 2 {
		fmt.Fprint(e.Stderr, usage)
		return 2
	}
	cmd, args := e.Args[1], e.Args[2:]
	if cmd == "help" && len(args) > 0 {
		// "qunguan help db backups" is "qunguan db backups --help".
		cmd, args = args[0], append(slices.Clone(args[1:]), "--help")
	}
	switch cmd {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(e.Stdout, usage)
		return 0
	}
	run, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(e.Stderr, "qunguan: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	err := run(b, e, args)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFlags):
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(e.Stderr, "qunguan: %s\n\n%s", ue.msg, ue.usage)
		return 2
	default:
		fmt.Fprintf(e.Stderr, "qunguan: %v\n", err)
		return 1
	}
}

// newFlags returns the flag set of a command named as in helps.
func newFlags(e Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("qunguan "+name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usageOf(fs, name)) }
	return fs
}

// usageOf renders a command's --help: synopsis, what it does, its flags.
func usageOf(fs *flag.FlagSet, name string) string {
	h := helps[name]
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n\n%s\n", h.synopsis, h.about)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nFlags:\n")
		out := fs.Output()
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
	return b.String()
}

// parseFlags parses a command's flags, which may come anywhere among its
// arguments, and checks that it got nargs arguments besides them. --help
// prints the command's usage to stdout and returns flag.ErrHelp (exit 0);
// a bad flag prints the problem and the usage to stderr (exit 2).
func parseFlags(e Env, fs *flag.FlagSet, name string, args []string, nargs int) ([]string, error) {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	rest, err := parseInterspersed(fs, args)
	fs.SetOutput(e.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = e.Stdout.Write(buf.Bytes())
		return nil, flag.ErrHelp
	case err != nil:
		_, _ = e.Stderr.Write(buf.Bytes())
		return nil, errFlags
	case len(rest) > nargs:
		return nil, &usageError{fmt.Sprintf("unexpected argument %q", rest[nargs]), usageOf(fs, name)}
	case len(rest) < nargs:
		return nil, &usageError{"missing argument", usageOf(fs, name)}
	}
	return rest, nil
}

// subcommand picks the subcommand of a group (db, audit) from args: --help
// prints the group's usage (flag.ErrHelp), a missing or unknown one is a
// usage error.
func subcommand(e Env, group, groupUsage string, args []string, known ...string) (string, error) {
	if len(args) == 0 {
		return "", &usageError{"qunguan " + group + " needs a command", groupUsage}
	}
	switch sub := args[0]; {
	case sub == "-h" || sub == "--help" || sub == "-help" || sub == "help":
		fmt.Fprint(e.Stdout, groupUsage)
		return "", flag.ErrHelp
	case slices.Contains(known, sub):
		return sub, nil
	default:
		return "", &usageError{fmt.Sprintf("unknown %s command %q", group, sub), groupUsage}
	}
}

// versionCmd prints the version once: the one stamped by the Makefile, or
// the module's and the commit's from the build info under go build and go
// run.
func versionCmd(b Build, e Env, args []string) error {
	fs := newFlags(e, "version")
	if _, err := parseFlags(e, fs, "version", args, 0); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(e.Stdout, "qunguan "+versionString(b, info))
	return nil
}

// pseudoVersionRE matches a Go pseudo-version's date and commit
// (v0.0.0-20261122015336-ff658d3c1a2b), which the commit says better.
var pseudoVersionRE = regexp.MustCompile(`-(0\.)?\d{14}-[0-9a-f]{12}`)

// versionString is the version and commit, each once: "v1.2.0 ff658d3",
// "ff658d3-dirty" (git describe of an untagged tree, whose commit is the
// same), "dev 0123abc" (go build without -ldflags), or "dev".
func versionString(b Build, info *debug.BuildInfo) string {
	version, commit := b.Version, b.Commit
	if version == "dev" {
		version = ""
	}
	if info != nil {
		var rev string
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if mv := info.Main.Version; version == "" && mv != "" && mv != "(devel)" && (rev == "" || !pseudoVersionRE.MatchString(mv)) {
			version = mv
			if rev != "" {
				version = strings.TrimSuffix(version, "+dirty") // the commit says it
			}
		}
		if commit == "" && rev != "" {
			commit = rev[:min(len(rev), 7)]
			if modified {
				commit += "-dirty"
			}
		}
	}
	if version == "" {
		version = "dev"
	}
	if commit == "" || strings.Contains(version, strings.TrimSuffix(commit, "-dirty")) {
		return version
	}
	return version + " " + commit
}

func logger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func runCmd(b Build, e Env, args []string) error {
	fs := newFlags(e, "run")
	cfgPath := fs.String("config", "config.yaml", "config file")
	level := fs.String("log-level", "info", "debug, info, warn or error (message bodies are logged only at debug)")
	if _, err := parseFlags(e, fs, "run", args, 0); err != nil {
		return err
	}
	log, err := logger(e.Stderr, *level)
	if err != nil {
		return err
	}
	if _, err := os.Stat(*cfgPath); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no config file %s; start from the example: qunguan check-config --example > %s", *cfgPath, *cfgPath)
	}
	// What the config allows but is likely a mistake (no operators) is
	// said before the start; app.Run loads the config again and refuses
	// it when it is wrong.
	if cfg, err := bot.LoadConfig(*cfgPath, plugins.All()); err == nil {
		for _, w := range cfg.Warnings {
			log.Warn("config warning", "warning", w)
		}
	}
	platforms := map[string]app.PlatformFactory{}
	for k, v := range b.Platforms {
		platforms[k] = v
	}
	platforms["sim"] = demo.SimPlatform(e.Stdin, e.Stdout)
	info, _ := debug.ReadBuildInfo()
	err = app.Run(context.Background(), app.Options{ConfigPath: *cfgPath, Logger: log, Version: versionString(b, info), Platforms: platforms})
	if errors.Is(err, app.ErrNoPlatform) {
		return fmt.Errorf("%w; this build cannot log in to WeChat. Use platform: sim to try the bot, or `qunguan demo`", err)
	}
	return err
}

func demoCmd(e Env, args []string) error {
	fs := newFlags(e, "demo")
	interactive := fs.Bool("interactive", false, "type as any simulated member or operator and watch the bot answer")
	if _, err := parseFlags(e, fs, "demo", args, 0); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "qunguan-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *interactive {
		return demo.Interactive(dir, e.Stdin, e.Stdout)
	}
	return demo.Scripted(dir, e.Stdout)
}

func checkConfigCmd(e Env, args []string) error {
	fs := newFlags(e, "check-config")
	cfgPath := fs.String("config", "config.yaml", "config file")
	example := fs.Bool("example", false, "print the commented example config")
	if _, err := parseFlags(e, fs, "check-config", args, 0); err != nil {
		return err
	}
	if *example {
		_, err := e.Stdout.Write(qunguan.ExampleConfig)
		return err
	}
	cfg, err := bot.LoadConfig(*cfgPath, plugins.All())
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(e.Stderr, "qunguan: warning: %s\n", w)
	}
	fmt.Fprintf(e.Stdout, "%s: ok (platform %s, %d group entries, %d operators, data dir %s)\n",
		cfg.Path, cfg.Platform, len(cfg.Groups), len(cfg.Operators), app.DataDir(cfg))
	return nil
}

// dataDirFrom parses the flags of an offline command named as in helps,
// which takes nargs arguments, and loads just enough of the config to find
// the data dir and the zone to show times in: the config's, or the
// machine's with --data-dir.
func dataDirFrom(e Env, name string, args []string, nargs int) (string, *time.Location, []string, error) {
	fs := newFlags(e, name)
	cfgPath := fs.String("config", "config.yaml", "config file")
	dir := fs.String("data-dir", "", "data dir (overrides the config)")
	rest, err := parseFlags(e, fs, name, args, nargs)
	if err != nil {
		return "", nil, nil, err
	}
	if *dir != "" {
		return *dir, time.Local, rest, nil
	}
	cfg, err := loadOffline(e, *cfgPath)
	if err != nil {
		return "", nil, nil, err
	}
	return app.DataDir(cfg), cfg.Location, rest, nil
}

// loadOffline loads the config for an offline command: one that sends
// nothing, so a ${VAR} for a secret that is not set in this shell is left
// empty with a warning on stderr instead of refusing the file.
func loadOffline(e Env, path string) (*bot.Config, error) {
	cfg, err := bot.LoadConfigOffline(path, plugins.All())
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.UnsetEnv {
		fmt.Fprintf(e.Stderr, "qunguan: warning: %s (this command does not need it)\n", w)
	}
	return cfg, nil
}

// parseInterspersed parses flags anywhere among the arguments ("db restore
// BACKUP --config FILE"), which the flag package alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func auditCmd(e Env, args []string) error {
	if _, err := subcommand(e, "audit", auditUsage, args, "verify"); err != nil {
		return err
	}
	dir, _, _, err := dataDirFrom(e, "audit verify", args[1:], 0)
	if err != nil {
		return err
	}
	db, err := store.Open(dir, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := db.VerifyAudit(context.Background())
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("audit chain BROKEN at entry %d of %d%s: %s", rep.BrokenAt, rep.Entries, describeEntry(db, rep.BrokenAt), rep.Reason)
	}
	fmt.Fprintf(e.Stdout, "audit chain ok: %d entries, head %s\n", rep.Entries, rep.Head)
	return nil
}

// describeEntry names an audit entry by its time and action, when it can
// still be read, so the broken one can be found.
func describeEntry(db *store.DB, seq uint64) string {
	es, err := db.AuditEntries(context.Background(), bot.AuditFilter{})
	if err != nil {
		return ""
	}
	for _, e := range es {
		if e.Seq == seq {
			return fmt.Sprintf(" (%s %s %s)", e.Time.UTC().Format(time.RFC3339), e.Action, e.GroupName)
		}
	}
	return ""
}

func dbCmd(e Env, args []string) error {
	sub, err := subcommand(e, "db", dbUsage, args, "check", "compact", "backup", "backups", "restore")
	if err != nil {
		return err
	}
	nargs := 0
	if sub == "restore" {
		nargs = 1
	}
	dir, loc, rest, err := dataDirFrom(e, "db "+sub, args[1:], nargs)
	if err != nil {
		return err
	}
	switch sub {
	case "check":
		if err := store.Check(dir); err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "%s: database ok\n", dir)
	case "compact":
		before, after, err := store.Compact(dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "compacted: %s -> %s\n", humanSize(before), humanSize(after))
	case "backup":
		db, err := store.Open(dir, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return err
		}
		path, err := db.Backup(context.Background(), "manual")
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(e.Stdout, path)
	case "backups":
		bs, err := store.ListBackups(dir)
		if err != nil {
			return err
		}
		if len(bs) == 0 {
			fmt.Fprintln(e.Stdout, "no backups")
			return nil
		}
		return writeBackups(e.Stdout, bs, loc)
	case "restore":
		aside, err := store.Restore(dir, rest[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "restored %s into %s\n", rest[0], dir)
		if aside != "" {
			fmt.Fprintf(e.Stdout, "the file it replaced is kept as %s\n", aside)
		}
	}
	return nil
}

// writeBackups prints backups as a table in the order given (ListBackups
// lists them newest first), with times in loc.
func writeBackups(w io.Writer, bs []store.Backup, loc *time.Location) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\ttaken\tkind\tsize\tstatus")
	for _, b := range bs {
		status := "ok"
		if b.Err != nil {
			status = "damaged: " + strings.TrimPrefix(b.Err.Error(), store.ErrDamaged.Error()+": ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Path, b.Time.In(loc).Format("2006-01-02 15:04:05 MST"), b.Reason, humanSize(b.Size), status)
	}
	return tw.Flush()
}

// humanSize renders a byte count in decimal units (1 MB = 1,000,000 bytes).
func humanSize(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		v /= 1000
		if v < 999.95 || unit == "TB" {
			return fmt.Sprintf("%.1f %s", v, unit)
		}
	}
	return ""
}
