package akit

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

// naiveAttach is attachOrphans as first written: every orphan looks at
// every session of its host, in start order.
func naiveAttach(ss *Sessions, out []*Session, orphans []rmmRec) {
	for _, r := range orphans {
		for _, s := range out {
			if s.HostKey == r.hostKey && s.Contains(r.t, 2*time.Minute) {
				ss.add(s, r.action, r.t, "", r.src, r.cmd, r.ref)
				break
			}
		}
	}
}

func randomSessions(r *rand.Rand, base time.Time) ([]*Session, []rmmRec) {
	var out []*Session
	hosts := []string{"a", "b", "c"}
	for i := 0; i < 40; i++ {
		start := base.Add(time.Duration(r.Intn(600)) * time.Minute)
		s := &Session{ID: fmt.Sprint(i), HostKey: hosts[r.Intn(3)], Start: start, End: start.Add(time.Duration(r.Intn(30)) * time.Minute),
			HasStart: r.Intn(2) == 0, HasEnd: r.Intn(2) == 0}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b *Session) int { return a.Start.Compare(b.Start) })
	var orphans []rmmRec
	for _, h := range hosts {
		t := base
		for j := 0; j < 150; j++ {
			t = t.Add(time.Duration(r.Intn(300)) * time.Second)
			orphans = append(orphans, rmmRec{t: t, hostKey: h, action: event.ActionCommand, cmd: "x"})
		}
	}
	return out, orphans
}

func TestAttachOrphansMatchesNaive(t *testing.T) {
	base := time.Date(2026, 11, 14, 8, 0, 0, 0, time.UTC)
	attached := 0
	for seed := int64(0); seed < 200; seed++ {
		a, orphans := randomSessions(rand.New(rand.NewSource(seed)), base)
		b, _ := randomSessions(rand.New(rand.NewSource(seed)), base)
		ssA, ssB := &Sessions{KeepCommands: true, in: Interner{}}, &Sessions{KeepCommands: true, in: Interner{}}
		attachOrphans(ssA, a, orphans)
		naiveAttach(ssB, b, orphans)
		for i := range a {
			x, y := a[i], b[i]
			if x.Start != y.Start || x.End != y.End || x.Events != y.Events || len(x.Commands) != len(y.Commands) {
				t.Fatalf("seed %d session %d: fast %v–%v %d events, naive %v–%v %d events", seed, i, x.Start, x.End, x.Events, y.Start, y.End, y.Events)
			}
			attached += x.Events
		}
	}
	if attached == 0 {
		t.Fatal("no orphan was attached: the test compares nothing")
	}
}

func TestSessionWindowMatchesWalk(t *testing.T) {
	base := time.Date(2026, 11, 14, 8, 0, 0, 0, time.UTC)
	found := 0
	for seed := int64(0); seed < 200; seed++ {
		r := rand.New(rand.NewSource(seed))
		sessions, _ := randomSessions(r, base)
		var idx []int
		for i, s := range sessions {
			if s.HostKey == "a" {
				idx = append(idx, i)
			}
		}
		w := NewSessionWindow(sessions, idx, 2*time.Minute)
		at := base
		for j := 0; j < 300; j++ {
			at = at.Add(time.Duration(r.Intn(240)) * time.Second)
			if r.Intn(50) == 0 {
				at = at.Add(-time.Hour) // out of order now and then
			}
			want := -1
			for _, i := range idx {
				if sessions[i].Contains(at, 2*time.Minute) {
					want = i
					break
				}
			}
			if got := w.Find(at); got != want {
				t.Fatalf("seed %d, %v: window %d, walk %d", seed, at, got, want)
			}
			if want >= 0 {
				found++
			}
		}
	}
	if found == 0 {
		t.Fatal("no time fell in a session: the test compares nothing")
	}
}

func TestChunksKeepOrder(t *testing.T) {
	var c Chunks[int]
	for i := 0; i < 3*chunkSize+5; i++ {
		c.Append(i)
	}
	all := c.All()
	if c.Len() != len(all) || len(all) != 3*chunkSize+5 {
		t.Fatalf("len %d / %d", c.Len(), len(all))
	}
	for i, v := range all {
		if v != i {
			t.Fatalf("all[%d] = %d", i, v)
		}
	}
}
