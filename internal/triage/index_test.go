package triage

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/internal/event"
)

// randomSessions makes overlapping sessions of all lengths on a few hosts,
// some in pattern, some out.
func randomSessions(r *rand.Rand, n int, t0 time.Time) []Session {
	ss := make([]Session, n)
	for i := range ss {
		start := t0.Add(time.Duration(r.IntN(30*24*60)) * time.Minute)
		d := time.Duration(r.IntN(90)) * time.Minute
		if r.IntN(50) == 0 {
			d = time.Duration(r.IntN(72)) * time.Hour // a session left open
		}
		ss[i] = Session{S: &akit.Session{ID: fmt.Sprint("s", i), HostKey: fmt.Sprint("h", r.IntN(5)), Start: start, End: start.Add(d)}}
		ss[i].V.Out = r.IntN(4) == 0
		ss[i].InPattern = !ss[i].V.Out && r.IntN(3) > 0
	}
	return ss
}

// TestSessionsAtMatchesWalk checks the indexed lookup against its
// definition: the first session, in list order, on the host that
// contains the time.
func TestSessionsAtMatchesWalk(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	ss := randomSessions(r, 400, t0)
	fs := make([]event.Finding, 20000)
	for k := range fs {
		fs[k] = event.Finding{Host: fmt.Sprint("h", r.IntN(6)), Time: t0.Add(time.Duration(r.IntN(31*24*60)) * time.Minute)}
		if r.IntN(10) == 0 {
			fs[k].SessionID = ss[r.IntN(len(ss))].S.ID
		}
	}
	got := sessionsAt(ss, fs)
	for k, f := range fs {
		var wantOut, wantIn *Session
		for i := range ss {
			s := &ss[i]
			if s.S.HostKey != f.Host || f.SessionID != "" && s.S.ID != f.SessionID || !s.S.Contains(f.Time, grace) {
				continue
			}
			if s.V.Out && wantOut == nil {
				wantOut = s
			}
			if !s.V.Out && s.InPattern && f.SessionID == "" && wantIn == nil {
				wantIn = s
			}
		}
		var out, in *Session
		if got[k].out >= 0 {
			out = &ss[got[k].out]
		}
		if got[k].in >= 0 {
			in = &ss[got[k].in]
		}
		if out != wantOut || in != wantIn {
			t.Fatalf("finding %s %s (session %q): got %v %v, want %v %v", f.Host, f.Time, f.SessionID, out, in, wantOut, wantIn)
		}
	}
}

// BenchmarkApply judges 1M findings on 5 hosts against 20k sessions and
// 1000 shapes: triage must stay near-linear on dense stores.
func BenchmarkApply(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	ss := randomSessions(r, 20000, t0)
	base := make([]event.Finding, 1_000_000)
	for i := range base {
		base[i] = event.Finding{RuleID: fmt.Sprint("r", r.IntN(50)), Shape: fmt.Sprint("cmd=", r.IntN(1000)), Host: fmt.Sprint("h", r.IntN(5)),
			Time: t0.Add(time.Duration(r.IntN(45*24*3600)) * time.Second), Severity: event.SevHigh}
	}
	fs := make([]event.Finding, len(base))
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		copy(fs, base)
		b.StartTimer()
		Apply(nil, fs, ss)
	}
}
