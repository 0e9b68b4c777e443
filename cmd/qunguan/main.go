// Command qunguan runs the 群管 WeChat group-management bot. It only wires
// the build information and the compiled-in platforms into internal/cli.
package main

import (
	"os"

	"github.com/qunguan/qunguan/bot/wechat"
	"github.com/qunguan/qunguan/internal/app"
	"github.com/qunguan/qunguan/internal/cli"
)

// version and commit are stamped by the Makefile with -ldflags -X.
var (
	version = "dev"
	commit  = ""
)

func main() {
	os.Exit(cli.Main(
		cli.Build{Version: version, Commit: commit, Platforms: map[string]app.PlatformFactory{"wechat": wechat.Factory}},
		cli.Env{Args: os.Args, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr},
	))
}
