package cli

import (
	"strings"
	"testing"
)

func TestDemoRefusesArguments(t *testing.T) {
	for _, args := range [][]string{{"demo", "extra-arg"}, {"demo", "--interactive", "extra-arg"}} {
		code, out, errs := run(t, args...)
		if code != 2 || out != "" || !strings.Contains(errs, `unexpected argument "extra-arg"`) || !strings.Contains(errs, "-interactive") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
}
