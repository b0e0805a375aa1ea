// Package parallel splits independent work over the cores: the stages of
// a hunt after the scan (finding IDs, the merge of the workers' findings,
// triage) each do the same thing to every finding while nothing else can
// run.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Chunks calls fn(lo, hi) for the consecutive ranges of [0, n), each at
// most size long, on up to GOMAXPROCS goroutines, and returns once every
// call has. Calls must not depend on each other's order.
func Chunks(n, size int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	size = max(size, 1)
	chunks := (n + size - 1) / size
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), chunks); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				fn(c*size, min((c+1)*size, n))
			}
		}()
	}
	wg.Wait()
}

// Both runs f on a goroutine of its own and g on the caller's, and
// returns once both have: two independent jobs side by side (a hunt's
// stages that have two of them, and loading spoor's pack beside the
// SigmaHQ rules).
func Both(f, g func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	g()
	<-done
}
