package coverage

import (
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/internal/evtest"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

func TestFileRanges(t *testing.T) {
	var f file
	for _, id := range []int64{5, 6, 7, 10, 9, 1, 2, 8, 20, 3} {
		f.add(id)
	}
	want := []span{{1, 3}, {5, 10}, {20, 20}}
	if len(f.ranges) != len(want) {
		t.Fatalf("ranges %v, want %v", f.ranges, want)
	}
	for i := range want {
		if f.ranges[i] != want[i] {
			t.Fatalf("ranges %v, want %v", f.ranges, want)
		}
	}
	f.add(4)
	f.add(11)
	if len(f.ranges) != 2 || f.ranges[0] != (span{1, 11}) {
		t.Errorf("after filling: %v", f.ranges)
	}
}

func TestCoverage(t *testing.T) {
	t0 := evtest.At(2026, 11, 1, 0, 0)
	var evs []event.Event
	for i := int64(1); i <= 500; i++ {
		if i >= 200 && i < 350 { // 150 records gone
			continue
		}
		ev := evtest.Sec(t0.Add(time.Duration(i)*time.Minute), "DC01", 4624)
		ev.RecordID = i
		evs = append(evs, ev)
	}
	clr := evtest.Sec(evtest.At(2026, 11, 14, 23, 59), "DC01", 1102, "SubjectUserName", "ct-admin-weber", "SubjectDomainName", "CORP")
	clr.SubjectUser = `CORP\ct-admin-weber`
	clr.RecordID = 501
	sys := evtest.Evtx(evtest.At(2026, 11, 14, 23, 58), "DC01", "System", 104, "Channel", "Windows PowerShell")
	sys.RecordID = 77
	fw := evtest.Flow(t0, "10.0.0.1", "8.8.8.8", 53, 10)
	evs = append(evs, clr, sys, fw)
	fs := evtest.Run(New(caseconf.Default()), evs)
	evtest.Golden(t, "coverage.golden.json", fs)
	got := map[string][]event.Finding{}
	for _, f := range fs {
		t.Logf("%s %s %s: %s", f.Severity, f.RuleID, f.Host, f.Summary)
		got[f.RuleID] = append(got[f.RuleID], f)
	}
	if len(got["coverage.log_cleared"]) != 2 || got["coverage.log_cleared"][0].Severity != event.SevHigh {
		t.Errorf("cleared: %+v", got["coverage.log_cleared"])
	}
	if len(got["coverage.range"]) != 3 {
		t.Errorf("ranges: %d, want Security, System and the firewall", len(got["coverage.range"]))
	}
	g := got["coverage.record_gap"]
	if len(g) != 1 || g[0].Severity != event.SevMedium || !strings.Contains(g[0].Summary, "records 200–349") {
		t.Errorf("gap: %+v", g)
	}
	if n, _ := g[0].Details.Get("records_missing"); n != int64(150) {
		t.Errorf("missing %v", n)
	}
	var sec event.Finding
	for _, f := range got["coverage.range"] {
		if f.Title == "Log coverage: Security" {
			sec = f
		}
	}
	if n, _ := sec.Details.Get("events"); n != int64(351) || !sec.End.Equal(clr.Time) {
		t.Errorf("security range: %v %v", sec.Details, sec.End)
	}
}
