package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/parquet-go/parquet-go"

	"github.com/spoor-dfir/spoor/internal/event"
)

// TestManyFindingsRoundTrip writes enough findings for the halves to be
// encoded apart and spliced (writeFindingsFile) and reads every one back,
// in order, field by field.
func TestManyFindingsRoundTrip(t *testing.T) {
	s, _ := Open(t.TempDir())
	t0 := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
	fs := make([]event.Finding, parallelFindingsMin+123)
	for i := range fs {
		f := event.Finding{ID: fmt.Sprintf("f-%06d", i), Time: t0.Add(time.Duration(i) * time.Second), RuleID: fmt.Sprintf("r%d", i%7),
			Title: fmt.Sprintf("title %d", i%5), Severity: []string{"low", "medium", "high"}[i%3], Host: fmt.Sprintf("H%d", i%11),
			User: fmt.Sprintf("u%d", i%13), Summary: fmt.Sprintf("summary %d \"q\"", i), Reason: "why", Analyzer: "rule",
			Shape: fmt.Sprintf("image=%d", i%17)}
		f.End = f.Time.Add(time.Duration(i%3) * time.Minute)
		if i%2 == 0 {
			f.Tags = []string{"attack.t1110", fmt.Sprintf("attack.t%d", i%4)}
			f.Refs = []event.Ref{{Evidence: "Security.evtx", Offset: int64(i), RecordID: int64(i + 1), EventID: 4625}}
		}
		if i%5 == 0 {
			f.Details = ordereddict.NewDict().Set("n", int64(i)).Set("who", "x")
			f.IncidentID, f.SessionID = "INC-1", "s1"
			f.SeverityOriginal, f.Triage = "high", "demoted"
		}
		fs[i] = f
	}
	if err := s.WriteFindings(fs, nil); err != nil {
		t.Fatal(err)
	}
	pf, err := os.Open(filepath.Join(s.Dir, findingsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	st, _ := pf.Stat()
	file, err := parquet.OpenFile(pf, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(file.RowGroups()); n != 2 {
		t.Errorf("%d row groups, want the two halves", n)
	}
	got, err := s.Findings()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(fs) {
		t.Fatalf("read %d findings, wrote %d", len(got), len(fs))
	}
	show := func(f *event.Finding) string {
		d, _ := event.MarshalFields(f.Details)
		r, _ := event.AppendRefsJSON(nil, f.Refs)
		return fmt.Sprintf("%s %s %s %s %s %s %v %s %s %s %s %s %s %s %s %s %s %s %s", f.ID, f.Time.UTC().Format(time.RFC3339Nano),
			f.End.UTC().Format(time.RFC3339Nano), f.RuleID, f.Title, f.Severity, f.Tags, f.Host, f.User, f.Summary, f.Reason,
			f.Analyzer, f.IncidentID, f.SessionID, d, r, f.SeverityOriginal, f.Triage, f.Shape)
	}
	for i := range fs {
		if a, b := show(&got[i]), show(&fs[i]); a != b {
			t.Fatalf("finding %d:\n got %s\nwant %s", i, a, b)
		}
	}
}
