//go:build !unix

package benchkit

import "time"

// CPUTime returns 0: the process's CPU time is read with getrusage, which
// only Unix systems have.
func CPUTime() time.Duration { return 0 }
