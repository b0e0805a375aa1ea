package rule

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

// heapPeak runs fn while sampling the heap, and returns the highest
// HeapAlloc seen (sampled every millisecond, plus after fn).
func heapPeak(fn func()) uint64 {
	runtime.GC()
	var peak uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak {
					peak = m.HeapAlloc
				}
			}
		}
	}()
	fn()
	close(done)
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return max(peak, m.HeapAlloc)
}

// TestBudgetStopsHostileRules: expressions that once took gigabytes or
// ran for ever fail with ErrBudget, within bounded memory (issue #13,
// case 8).
func TestBudgetStopsHostileRules(t *testing.T) {
	for _, src := range []string{
		`len(repeat(repeat("a", 1000), 1000000)) > 0`,
		`len(reduce(1..100000, #acc + repeat("x", 1000), "")) > 0`,
		`len(replace(repeat("a", 1000000), "a", repeat("b", 1000))) > 0`,
		`len(join(map(1..100000, repeat("y", 10000)), ",")) > 0`,
		`count(map(1..300000, upper(repeat("z", 1000))), len(#) > 0) > 0`,
		`all(1..900000, len(upper(repeat("w", 100000))) > 0)`,
	} {
		t.Run(src, func(t *testing.T) {
			p, err := CompileExpr(nil, src)
			if err != nil {
				t.Fatal(err)
			}
			var evalErr error
			peak := heapPeak(func() { _, evalErr = p.Eval(&event.Event{Host: "h"}) })
			if !errors.Is(evalErr, ErrBudget) {
				t.Fatalf("got %v, want ErrBudget", evalErr)
			}
			if peak > 512<<20 {
				t.Fatalf("heap peaked at %d MiB", peak>>20)
			}
		})
	}
}

// TestBudgetLeavesRulesAlone: ordinary expressions, string building
// included, evaluate as before.
func TestBudgetLeavesRulesAlone(t *testing.T) {
	ev := &event.Event{Host: "DC01", CommandLine: "powershell -enc AAAA", User: "alice"}
	for src, want := range map[string]bool{
		`lower(host) + "-" + user == "dc01-alice"`:                  true,
		`len(repeat("ab", 3)) == 6`:                                 true,
		`replace(command_line, "AAAA", "B") == "powershell -enc B"`: true,
		`join(["a", "b"], ",") == "a,b" && join(["c"]) == "c"`:      true,
		`reduce(1..10, #acc + string(#), "") == "12345678910"`:      true,
		`all(1..1000, # > 0) && 1 + 2 == 3`:                         true,
		`upper(host) contains "X"`:                                  false,
	} {
		p, err := CompileExpr(nil, src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got, err := p.Eval(ev)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", src, got, err, want)
		}
	}
}

// FuzzExprBudget: any expression that compiles evaluates without a panic
// and within the budget's memory.
func FuzzExprBudget(f *testing.F) {
	f.Add(`len(repeat(host, 1000)) > 0`)
	f.Add(`reduce(1..1000, #acc + host, "") != ""`)
	f.Add(`replace(user, "", "xx") == ""`)
	f.Fuzz(func(t *testing.T, src string) {
		p, err := CompileExpr(nil, src)
		if err != nil {
			return
		}
		var m runtime.MemStats
		p.Eval(&event.Event{Host: "h", User: "u", CommandLine: "c"})
		runtime.ReadMemStats(&m)
		if m.HeapAlloc > 1<<30 {
			t.Fatalf("%q: heap at %d MiB", src, m.HeapAlloc>>20)
		}
	})
}
