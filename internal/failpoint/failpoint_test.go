package failpoint

import "testing"

func TestSetRunsHookOnlyWhileSet(t *testing.T) {
	n := 0
	unset := Set("test.point", func() { n++ })
	Inject("test.point")
	Inject("test.other")
	unset()
	Inject("test.point")
	if n != 1 {
		t.Errorf("hook ran %d times, want 1", n)
	}
	if Hits("test.point") != 1 {
		t.Errorf("hits = %d, want 1", Hits("test.point"))
	}
}
