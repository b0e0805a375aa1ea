package hunt

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

var hackT0 = time.Now()

func hackCPU(label string) {
	if os.Getenv("SPOOR_CPU_TRACE") == "" {
		return
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	c := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Fprintf(os.Stderr, "cpu %-10s wall %6.3f cpu %6.3f\n", label, time.Since(hackT0).Seconds(), c.Seconds())
}
