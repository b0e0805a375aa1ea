//go:build unix

package sigma

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time: benchmarks report
// events per CPU-second too, which a machine shared with other jobs
// disturbs far less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
