package ruleset

import (
	"runtime"
	"testing"
	"time"
)

func TestZZHeap(t *testing.T) {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	rs, _ := LoadWith(nil, Options{Builtin: true, Sigma: true})
	d := time.Since(t0)
	runtime.ReadMemStats(&m1)
	ta := m1.TotalAlloc - m0.TotalAlloc
	runtime.GC()
	runtime.ReadMemStats(&m1)
	t.Logf("%d rules in %v; allocated %d MiB, live %d MiB, mallocs %d", len(rs), d, ta>>20, (m1.HeapAlloc-m0.HeapAlloc)>>20, m1.Mallocs-m0.Mallocs)
	runtime.KeepAlive(rs)
}
