package analyzers_test

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

var benchEvents = flag.Int("bench-events", 10_000_000, "events per BenchmarkAnalyzers iteration")

// synth writes a month of company life as events into ev, one call per
// event, in store order (per source, each in time order): 200 hosts,
// logons, processes with admin and discovery command lines, script
// blocks, outbound flows to a few thousand destinations, RMM sessions.
type synth struct {
	cfg   *caseconf.Config
	start time.Time
	n     int
}

var benchCmds = []string{
	`C:\Windows\system32\svchost.exe -k netsvcs -p`,
	`"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE"`,
	`C:\Windows\System32\RuntimeBroker.exe -Embedding`,
	`powershell.exe -NoProfile -Command "Get-Service | Where-Object Status -eq Stopped"`,
	`cmd.exe /c net user /domain`,
	`powershell.exe -Command "Get-ADGroupMember 'Domain Admins'"`,
	`C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`,
	`"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer`,
}

func (s *synth) event(i int, ev *event.Event) {
	*ev = event.Event{Evidence: "bench", Offset: int64(i)}
	// 30 days spread over the events.
	ev.Time = s.start.Add(time.Duration(int64(i) * int64(30*24*time.Hour) / int64(s.n)))
	host := fmt.Sprintf("PC-%03d", i%200)
	switch k := i % 20; {
	case k < 6:
		ev.Source, ev.Channel, ev.EventID, ev.Host = event.SourceEVTX, "Security", 4624, host
		ev.User = []string{"mmeier", "kschulz", "ct-mueller", "svc-backup"}[i%4]
		ev.LogonType.V, ev.SrcIP = 3, fmt.Sprintf("10.10.%d.%d", i%7, i%250)
		ev.RecordID = int64(i / 20)
	case k < 11:
		ev.Source, ev.Channel, ev.EventID, ev.Host = event.SourceEVTX, "Security", 4688, host
		ev.CommandLine = benchCmds[i%len(benchCmds)]
		ev.ParentProcess = `C:\Windows\explorer.exe`
		ev.SubjectUser = `CORP\mmeier`
		ev.RecordID = int64(i / 20)
	case k < 13:
		ev.Source, ev.Channel, ev.EventID, ev.Host = event.SourceEVTX, "Microsoft-Windows-PowerShell/Operational", 4104, host
		ev.ScriptText = benchCmds[3+i%3]
	case k < 18:
		ev.Source, ev.Format, ev.Host = event.SourceFirewall, "fortigate", "FW01"
		ev.SrcIP, ev.DstIP, ev.DstPort = fmt.Sprintf("10.10.%d.%d", i%7, i%250), fmt.Sprintf("198.51.%d.%d", i%13, i%199), event.Some[int32](443)
		ev.BytesOut, ev.Action = event.Some(int64(1000+i%50000)), "accept"
	case k < 19:
		ev.Source, ev.Channel, ev.EventID, ev.Host = event.SourceEVTX, "Microsoft-Windows-Sysmon/Operational", 3, host
		ev.SrcIP, ev.DstIP, ev.DstPort = "10.10.1.1", fmt.Sprintf("203.0.%d.%d", i%11, i%97), event.Some[int32](443)
	default:
		ev.Source, ev.Format, ev.Host = event.SourceRMM, "rmm-audit-jsonl", fmt.Sprintf("SRV-%02d", i%10)
		sid := fmt.Sprintf("s-%d", i/2000)
		ev.SessionID, ev.Operator, ev.SrcIP = sid, "ct-mueller", "10.250.0.5"
		ev.Action = []string{"session_start", "command", "command", "session_end"}[(i/20)%4]
		ev.CommandLine = "Get-HotFix | Select -First 5"
	}
}

// BenchmarkAnalyzers runs every analyzer over -bench-events synthetic
// events (10 million by default) and reports the time per event and the
// peak live heap, sampled every 100 000 events.
func BenchmarkAnalyzers(b *testing.B) {
	cfg, err := caseconf.Parse("case.yaml", []byte("timezone: Europe/Berlin\nproviders:\n  - name: ComTech\n    accounts: [\"ct-*\"]\n    operators: [\"ct-*\"]\n    networks: [\"10.250.0.0/24\"]\n"))
	if err != nil {
		b.Fatal(err)
	}
	n := *benchEvents
	s := &synth{cfg: cfg, start: time.Date(2026, 10, 17, 0, 0, 0, 0, time.UTC), n: n}
	var peak, live uint64
	var ms runtime.MemStats
	findings := 0
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		ans := analyzers.All(cfg)
		var ev event.Event
		for i := 0; i < n; i++ {
			s.event(i, &ev)
			for _, a := range ans {
				a.Observe(&ev)
			}
			if i%100_000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			if i%1_000_000 == 999_999 {
				// What the analyzers really retain: the heap after a GC.
				runtime.GC()
				runtime.ReadMemStats(&ms)
				live = max(live, ms.HeapAlloc)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		live = max(live, ms.HeapAlloc)
		if p := os.Getenv("SPOOR_BENCH_HEAP"); p != "" {
			// What each analyzer retains, for go tool pprof.
			f, err := os.Create(p)
			if err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		findings = 0
		for _, a := range ans {
			findings += len(a.Finish())
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(live)/(1<<20), "peak-live-MiB")
	b.ReportMetric(float64(findings), "findings")
}
