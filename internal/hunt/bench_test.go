package hunt

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/store"
)

// mixFiles is a realistic event mix: the DeepBlueCLI attack samples
// (Security, System, PowerShell, Sysmon) plus ordinary Security, System
// and Sysmon logs from the evtx crate's samples.
func mixFiles(b *testing.B) []string {
	dir := samples(b)
	files, _ := filepath.Glob(filepath.Join(dir, "*.evtx"))
	for _, f := range []string{"security.evtx", "system.evtx", "sysmon.evtx"} {
		p := filepath.Join(dir, "..", "evtx-rs", f)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	return files
}

var mix struct {
	once sync.Once
	dir  string
	evs  []event.Event
}

// mixStore ingests the mix once per process into a temporary store.
func mixStore(b *testing.B) (*store.Store, []event.Event) {
	files := mixFiles(b)
	mix.once.Do(func() {
		dir, err := os.MkdirTemp("", "spoor-hunt-bench")
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ingest.Run(context.Background(), ingest.Options{Store: st, Paths: files, Parsers: []input.Parser{evtx.New()}}); err != nil {
			b.Fatal(err)
		}
		err = st.Scan(context.Background(), store.ScanOptions{}, func(ev *event.Event) error {
			mix.evs = append(mix.evs, *ev)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		mix.dir = dir
	})
	st, err := store.Open(mix.dir)
	if err != nil {
		b.Fatal(err)
	}
	return st, mix.evs
}

// BenchmarkBuiltinRules: the built-in pack's filter and condition on one
// core over the mix, in events/s: every condition run each time
// (no-memo), and as a hunt worker runs them, remembering answers per
// distinct value tuple with a fresh memo for each pass over the mix.
func BenchmarkBuiltinRules(b *testing.B) {
	_, evs := mixStore(b)
	benchRules(b, newPlan(builtin(b, caseconf.Default())), evs)
}

func benchRules(b *testing.B, p *plan, evs []event.Event) {
	for _, useMemo := range []bool{false, true} {
		name := "no-memo"
		if useMemo {
			name = "memo"
		}
		b.Run(name, func(b *testing.B) {
			ms := make([][]match, len(p.rules))
			cpu0 := cpuTime()
			matched := 0
			for i := 0; i < b.N; i++ {
				var m *memo
				if useMemo {
					m = newMemo()
				}
				for j := range evs {
					matched += len(evalOne(p, m, nil, &evs[j], 0, nil, ms))
				}
				for k := range ms {
					ms[k] = ms[k][:0]
				}
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(len(evs))*float64(b.N)/cpu.Seconds(), "events/cpu-s")
			b.ReportMetric(float64(len(evs)), "events/op")
		})
	}
}

// BenchmarkHuntFromStore: a whole hunt (scan, rules, stateful rules,
// sort) without writing, in events/s; compare with BenchmarkIngestMix.
func BenchmarkHuntFromStore(b *testing.B) {
	st, evs := mixStore(b)
	cfg := caseconf.Default()
	rs := builtin(b, cfg)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), st, cfg, rs, Options{NoAnalyzers: true, DryRun: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(evs))*float64(b.N)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// BenchmarkIngestMix: ingesting the same evidence, for the ratio.
func BenchmarkIngestMix(b *testing.B) {
	files := mixFiles(b)
	benchIngest(b, ingest.Options{Paths: files, Parsers: []input.Parser{evtx.New()}})
}

// benchIngest ingests opts into a fresh store per iteration and reports
// events/s and events per CPU-second.
func benchIngest(b *testing.B, opts ingest.Options) {
	var n int64
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		st, err := store.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		opts.Store = st
		sum, err := ingest.Run(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		n += sum.Events
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

var _ = rule.Evaluate

// cpuTime is the process's user+system CPU time. The machine is shared,
// so wall-clock rates vary with other load; events per CPU-second is the
// steadier figure.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBuiltinRulesComtech: the built-in pack over the demo case
// (office life, provider maintenance, the attack sessions; EVTX, firewall
// and RMM events) on one core.
func BenchmarkBuiltinRulesComtech(b *testing.B) {
	st, cfg := comtechStore(b)
	evs := storedEvents(b, st)
	benchRules(b, newPlan(builtin(b, cfg)), evs)
}

// BenchmarkHuntComtech: a whole hunt of the demo store, rules only and
// with the analyzers.
func BenchmarkHuntComtech(b *testing.B) {
	st, cfg := comtechStore(b)
	n, _ := st.CountEvents()
	rs := builtin(b, cfg)
	for _, an := range []bool{false, true} {
		name := "rules"
		if an {
			name = "rules+analyzers"
		}
		b.Run(name, func(b *testing.B) {
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := Run(context.Background(), st, cfg, rs, Options{NoAnalyzers: !an, DryRun: true}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(n)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
		})
	}
}

// BenchmarkIngestComtech: ingesting the demo case, for the ratio.
func BenchmarkIngestComtech(b *testing.B) {
	src := comtechDir(b)
	cfg, err := caseconf.Load(filepath.Join(src, "case.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	benchIngest(b, ingest.Options{Paths: []string{filepath.Join(src, "evidence")}, Config: cfg})
}
