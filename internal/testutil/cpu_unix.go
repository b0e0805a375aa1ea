//go:build unix

package testutil

import "syscall"

// CPUSeconds is the process's user+system CPU time: on a shared machine
// MB per CPU-second says more about the code than wall-clock MB/s.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
