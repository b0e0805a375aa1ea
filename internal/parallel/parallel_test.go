package parallel

import (
	"sync/atomic"
	"testing"
)

// TestChunksCoverEachIndexOnce: every index of [0, n) is handed out in
// exactly one call, in ranges of at most size, whatever n and size.
func TestChunksCoverEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 4096, 10001} {
		for _, size := range []int{0, 1, 3, 4096, 20000} {
			seen := make([]atomic.Int32, n)
			Chunks(n, size, func(lo, hi int) {
				if hi <= lo || hi-lo > max(size, 1) {
					t.Errorf("n %d size %d: range [%d, %d)", n, size, lo, hi)
				}
				for i := lo; i < hi; i++ {
					seen[i].Add(1)
				}
			})
			for i := range seen {
				if c := seen[i].Load(); c != 1 {
					t.Fatalf("n %d size %d: index %d handed out %d times", n, size, i, c)
				}
			}
		}
	}
}

// TestBothRunsBothBeforeReturning: each function runs once, and both have
// finished when Both returns (f waits for g to start, so they overlap).
func TestBothRunsBothBeforeReturning(t *testing.T) {
	var f, g atomic.Int32
	started := make(chan struct{})
	Both(func() {
		<-started
		f.Add(1)
	}, func() {
		close(started)
		g.Add(1)
	})
	if f.Load() != 1 || g.Load() != 1 {
		t.Fatalf("f ran %d times, g %d", f.Load(), g.Load())
	}
}
