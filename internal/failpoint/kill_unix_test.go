//go:build unix

package failpoint

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// TestKillIsSIGKILL re-runs this test binary with the variable set and
// checks the child died by SIGKILL at the point, not before or after.
func TestKillIsSIGKILL(t *testing.T) {
	if os.Getenv("FAILPOINT_CHILD") == "1" {
		os.Stdout.WriteString("before\n")
		Inject("test.not_this_one")
		Inject("test.kill")
		os.Stdout.WriteString("after\n")
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillIsSIGKILL$")
	cmd.Env = append(os.Environ(), "FAILPOINT_CHILD=1", EnvVar+"=test.kill")
	out, err := cmd.Output()
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Fatalf("child did not die: err=%v out=%q", err, out)
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child exit %v, want killed by SIGKILL", ee)
	}
	if string(out) != "before\n" {
		t.Errorf("child output %q, want only what came before the point", out)
	}
}
