package store

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
)

func sampleEvent(i int) *event.Event {
	f := ordereddict.NewDict().Set("TargetUserName", "alice").Set("Zeta", "z").Set("Alpha", "a\"<>")
	return &event.Event{
		Time: time.Date(2026, 11, 14, 1, 2, 3, i*int(time.Microsecond), time.UTC), Source: event.SourceEVTX, Format: "evtx", // the store keeps µs
		Host: "DC01", Channel: "Security", EventID: 4624, RecordID: int64(i), User: "alice",
		LogonType: event.Some[int32](10), SrcIP: "10.250.0.5", Evidence: "evidence/DC01/Security.evtx", Offset: int64(i), Fields: f,
	}
}

func TestEventsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := s.NewEventWriter("part-abc")
	for i := 0; i < 3000; i++ {
		if err := w.Write(sampleEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	fw := sampleEvent(0)
	fw.Source = event.SourceFirewall
	if err := w.Write(fw); err != nil {
		t.Fatal(err)
	}
	// Nothing is visible before Commit.
	if n, _ := s.CountEvents(); n != 0 {
		t.Fatalf("visible before commit: %d", n)
	}
	parts, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"events/source=evtx/part-abc.parquet", "events/source=firewall/part-abc.parquet"}
	if !reflect.DeepEqual(parts, want) {
		t.Fatalf("parts %v, want %v", parts, want)
	}
	if n, _ := s.CountEvents(); n != 3001 {
		t.Fatalf("count %d", n)
	}
	var got []event.Event
	err = s.Scan(context.Background(), ScanOptions{Sources: []string{"evtx"}}, func(ev *event.Event) error {
		got = append(got, *ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3000 {
		t.Fatalf("scanned %d", len(got))
	}
	w0 := sampleEvent(7)
	g := got[7]
	if !g.Time.Equal(w0.Time) || g.User != "alice" || g.LogonType != event.Some[int32](10) || g.Source != "evtx" || g.Offset != 7 {
		t.Fatalf("row 7 = %+v", g)
	}
	if keys := g.Fields.Keys(); !reflect.DeepEqual(keys, []string{"TargetUserName", "Zeta", "Alpha"}) {
		t.Fatalf("field order lost: %v", keys)
	}
	if g.Field("Alpha") != "a\"<>" {
		t.Fatalf("field value %q", g.Field("Alpha"))
	}
	// Time window.
	n := 0
	from := time.Date(2026, 11, 14, 1, 2, 3, 100*int(time.Microsecond), time.UTC)
	s.Scan(context.Background(), ScanOptions{From: from, To: from.Add(50 * time.Microsecond)}, func(ev *event.Event) error { n++; return nil })
	if n != 50 { // rows 100..149; the firewall row (ns 0) is outside
		t.Fatalf("window scan got %d", n)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	w := s.NewEventWriter("part-x")
	w.Write(sampleEvent(1))
	w.Abort()
	var files []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if info != nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Fatalf("left behind: %v", files)
	}
}

func TestFindingsRoundTrip(t *testing.T) {
	s, _ := Open(t.TempDir())
	fs := []event.Finding{{ID: "f1", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), RuleID: "r", Severity: "high",
		Tags: []string{"attack.t1087"}, Details: ordereddict.NewDict().Set("n", int64(3)),
		Refs: []event.Ref{{Evidence: "a.evtx", Offset: 5}}, IncidentID: "INC-1"}}
	inc := []event.Incident{{ID: "INC-1", Findings: []string{"f1"}}}
	if err := s.WriteFindings(fs, inc); err != nil {
		t.Fatal(err)
	}
	got, err := s.Findings()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "f1" || got[0].Refs[0].Offset != 5 || got[0].Tags[0] != "attack.t1087" || !got[0].Time.Equal(fs[0].Time) {
		t.Fatalf("got %+v", got)
	}
	gi, _ := s.Incidents()
	if len(gi) != 1 || gi[0].Findings[0] != "f1" {
		t.Fatalf("incidents %+v", gi)
	}
	// A second hunt replaces, not appends.
	if err := s.WriteFindings(nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Findings(); len(got) != 0 {
		t.Fatalf("not replaced: %d", len(got))
	}
}

func TestManifestRecordPersists(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	if err := s.Record(FileEntry{Path: "b", SHA256: "x", Status: StatusSkipped}); err != nil {
		t.Fatal(err)
	}
	s.Record(FileEntry{Path: "a", SHA256: "y", Status: StatusIngested, Records: 4})
	s.Record(FileEntry{Path: "b", SHA256: "x", Status: StatusSkipped, Notes: []string{"again"}})
	if err := s.FlushManifest(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := s2.Manifest()
	if len(m.Files) != 2 || m.Files[0].Path != "a" || m.Files[1].Notes[0] != "again" || m.TotalRecords() != 4 {
		t.Fatalf("manifest %+v", m)
	}
}

// BenchmarkScanStore scans the store named by $SPOOR_BENCH_STORE (e.g. one
// left by spoor-bench) with all columns, the way the hunt does, and
// reports events per second: the ceiling the store puts on a hunt.
func BenchmarkScanStore(b *testing.B) {
	dir := os.Getenv("SPOOR_BENCH_STORE")
	if dir == "" {
		b.Skip("set SPOOR_BENCH_STORE to a store directory")
	}
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, cols := range [][]string{nil, {"time", "event_id", "user"}} {
		name := "all-columns"
		if cols != nil {
			name = "no-fields"
		}
		b.Run(name, func(b *testing.B) {
			var n int64
			for i := 0; i < b.N; i++ {
				if err := s.Scan(context.Background(), ScanOptions{Columns: cols}, func(*event.Event) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestCaseKeptAndChecked: the store keeps its case file under its hash,
// readable by other users; a copy changed behind its back is refused, and
// findings written afterwards carry the case's hash.
func TestCaseKeptAndChecked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := s.Case(); ok || err != nil {
		t.Fatalf("new store has a case: ok=%v err=%v", ok, err)
	}
	data := []byte("name: one\n")
	if old, err := s.SaveCase("a/case.yaml", data); err != nil || old != nil {
		t.Fatalf("first SaveCase: old=%v err=%v", old, err)
	}
	if err := s.WriteFindings(nil, nil); err != nil {
		t.Fatal(err)
	}
	if sha, ok, err := s.FindingsCase(); err != nil || !ok || sha != CaseSHA256(data) {
		t.Fatalf("findings judged under %q ok=%v err=%v", sha, ok, err)
	}
	old, err := s.SaveCase("b/case.yaml", []byte("name: two\n"))
	if err != nil || old == nil || old.SHA256 != CaseSHA256(data) || old.Source != "a/case.yaml" {
		t.Fatalf("second SaveCase: old=%+v err=%v", old, err)
	}
	re, err := OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, entry, ok, err := re.Case()
	if err != nil || !ok || string(got) != "name: two\n" || entry.Source != "b/case.yaml" {
		t.Fatalf("reopened: %q %+v ok=%v err=%v", got, entry, ok, err)
	}
	for _, name := range []string{"case.yaml", "manifest.json", findingsFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, err %v; want 0644", name, fi.Mode().Perm(), err)
		}
	}
	os.WriteFile(filepath.Join(dir, "case.yaml"), []byte("name: tampered\n"), 0o644)
	if _, _, _, err := re.Case(); err == nil || !strings.Contains(err.Error(), "changed outside spoor") {
		t.Fatalf("a changed case file is not refused: %v", err)
	}
}
