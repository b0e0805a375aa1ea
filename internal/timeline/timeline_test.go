package timeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/parquet-go/parquet-go"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

var berlin, _ = time.LoadLocation("Europe/Berlin")

func testStore(t *testing.T) *store.Store {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := st.NewEventWriter("part-1")
	base := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC) // DST starts in Berlin at 01:00 UTC
	evs := []event.Event{
		{Time: base.Add(2 * time.Hour), Source: "evtx", Format: "evtx", Host: "DC01", Channel: "Security", EventID: 4624, User: "alice", Evidence: "e/Security.evtx", Offset: 2,
			Fields: ordereddict.NewDict().Set("TargetUserName", "=HYPERLINK(\"http://evil\",\"x\")")},
		{Time: base, Source: "evtx", Format: "evtx", Host: "DC01", Channel: "Security", EventID: 4625, User: "@bob", Evidence: "e/Security.evtx", Offset: 1},
		{Time: base.Add(time.Hour), Source: "firewall", Format: "fortigate", Host: "FW01", SrcIP: "10.0.0.5", DstIP: "8.8.8.8", DstPort: event.Some[int32](53), Evidence: "e/fw.log", Offset: 9,
			Message: "-cmd|' /C calc'!A0"},
	}
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	err = st.WriteFindings([]event.Finding{{ID: "F1", Time: base.Add(2 * time.Hour), Severity: "high", Title: "Provider logon", Host: "DC01", User: "alice",
		Summary: "+SUM(1)", Refs: []event.Ref{{Evidence: "e/Security.evtx", Offset: 2}},
		Tags: []string{"attack.t1078.002", "attack.initial_access", "attack.t1021"}, IncidentID: "INC-001"}, {ID: "F2", Time: base, Severity: "low", Title: "low one"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCSVOrderAndFormulaSafety(t *testing.T) {
	st := testStore(t)
	var buf bytes.Buffer
	n, err := Export(context.Background(), st, Options{Loc: berlin}, NewCSV(&buf, berlin))
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("entries %d", n)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0][:3], ",") != "message,datetime,timestamp_desc" && strings.Join(rows[0][:3], ",") != "datetime,timestamp_desc,message" {
		t.Fatalf("header %v", rows[0][:3])
	}
	// Order: 4625 @00:30, finding F2 @00:30, fortigate @01:30, 4624 @02:30, F1 @02:30.
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[4]+":"+r[10]+r[30])
	}
	if want := "event:4625,finding:,event:,event:4624,finding:"; strings.Join(got, ",") != want {
		t.Fatalf("order %s, want %s", strings.Join(got, ","), want)
	}
	// DST: 00:30 UTC is 01:30 CET (+01:00); 02:30 UTC is 04:30 CEST (+02:00).
	if !strings.HasPrefix(rows[1][3], "2026-03-29T01:30:00.000+01:00") || !strings.HasPrefix(rows[4][3], "2026-03-29T04:30:00.000+02:00") {
		t.Fatalf("local times %q %q", rows[1][3], rows[4][3])
	}
	for _, r := range rows[1:] {
		for i, c := range r {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Fatalf("formula cell in column %s: %q", Columns[i], c)
			}
		}
	}
	if rows[1][12] != "'@bob" {
		t.Fatalf("user cell %q", rows[1][12])
	}
}

func TestFiltersAndJSONL(t *testing.T) {
	st := testStore(t)
	var buf bytes.Buffer
	_, err := Export(context.Background(), st, Options{Host: "dc01", MinSeverity: "high"}, NewJSONL(&buf, time.UTC, true))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 { // two DC01 events + F1 (F2 is low and has no host)
		t.Fatalf("lines %d: %s", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[2]), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"message", "datetime", "timestamp_desc", "timestamp"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("timesketch key %s missing: %v", k, m)
		}
	}
	if m["severity"] != "high" {
		t.Fatalf("last line %v", m)
	}
	// Timesketch: data_type per kind of record, the finding's id, its
	// ATT&CK techniques as a column and as tags.
	if m["data_type"] != "spoor:finding" || m["finding_id"] != "F1" || m["techniques"] != "T1021 T1078.002" {
		t.Fatalf("finding line: data_type %v finding_id %v techniques %v", m["data_type"], m["finding_id"], m["techniques"])
	}
	tags, _ := json.Marshal(m["tag"])
	if string(tags) != `["spoor","severity:high","T1021","T1078.002","initial-access","incident:INC-001"]` {
		t.Fatalf("tags %s", tags)
	}
	var ev map[string]any
	json.Unmarshal([]byte(lines[0]), &ev)
	if ev["data_type"] != "spoor:evtx:evtx" || ev["tag"] != nil {
		t.Fatalf("event line: data_type %v tag %v", ev["data_type"], ev["tag"])
	}
}

// TestTechniquesInEveryFormat: the ATT&CK techniques of a finding reach the
// CSV and Parquet timelines too, in the techniques column.
func TestTechniquesInEveryFormat(t *testing.T) {
	st := testStore(t)
	var buf bytes.Buffer
	if _, err := Export(context.Background(), st, Options{FindingsOnly: true, MinSeverity: "high"}, NewCSV(&buf, time.UTC)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1][colTechniques] != "T1021 T1078.002" || rows[1][colFindingID] != "F1" || Columns[colTechniques] != "techniques" || Columns[colFindingID] != "finding_id" {
		t.Fatalf("csv rows %v", rows)
	}
	buf.Reset()
	if _, err := Export(context.Background(), st, Options{FindingsOnly: true, MinSeverity: "high"}, NewParquet(&buf, time.UTC)); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Techniques string `parquet:"techniques"`
	}
	rs, err := parquet.Read[row](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Techniques != "T1021 T1078.002" {
		t.Fatalf("parquet rows %v", rs)
	}
}

func TestParquetSink(t *testing.T) {
	st := testStore(t)
	var buf bytes.Buffer
	n, err := Export(context.Background(), st, Options{}, NewParquet(&buf, berlin))
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if int(f.NumRows()) != n {
		t.Fatalf("rows %d want %d", f.NumRows(), n)
	}
}

// TestWindowedExportMatchesInMemory forces many small windows and checks
// the result equals one big sorted batch.
func TestWindowedExportMatchesInMemory(t *testing.T) {
	st := testStore(t)
	var one bytes.Buffer
	if _, err := Export(context.Background(), st, Options{}, NewCSV(&one, berlin)); err != nil {
		t.Fatal(err)
	}
	old := batchEvents
	batchEvents = 1
	defer func() { batchEvents = old }()
	var many bytes.Buffer
	if _, err := Export(context.Background(), st, Options{}, NewCSV(&many, berlin)); err != nil {
		t.Fatal(err)
	}
	if one.String() != many.String() {
		t.Fatalf("windowed export differs:\n%s\n---\n%s", one.String(), many.String())
	}
	if strings.Count(many.String(), "\n") != 6 {
		t.Fatalf("want header + 5 entries:\n%s", many.String())
	}
}

// TestDemotedFindings: a finding triage demoted keeps its original
// severity and reason in the timeline, and --demoted brings it back
// under --min-severity.
func TestDemotedFindings(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	err = st.WriteFindings([]event.Finding{
		{ID: "F1", Time: base, Severity: "info", SeverityOriginal: "high", Triage: "demoted: inside in-pattern provider RMM session s1", Title: "Script from temp"},
		{ID: "F2", Time: base.Add(time.Minute), Severity: "high", Title: "Kept"},
		{ID: "F3", Time: base.Add(2 * time.Minute), Severity: "info", SeverityOriginal: "low", Triage: "demoted: routine", Title: "Low one"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	export := func(o Options) []map[string]any {
		var buf bytes.Buffer
		o.FindingsOnly = true
		if _, err := Export(context.Background(), st, o, NewJSONL(&buf, time.UTC, false)); err != nil {
			t.Fatal(err)
		}
		var out []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		return out
	}
	if got := export(Options{MinSeverity: "high"}); len(got) != 1 || got[0]["title"] != "Kept" {
		t.Errorf("--min-severity high: %v", got)
	}
	got := export(Options{MinSeverity: "high", Demoted: true})
	if len(got) != 2 || got[0]["title"] != "Script from temp" {
		t.Fatalf("--min-severity high --demoted: %v", got)
	}
	d := got[0]
	if d["severity"] != "info" || d["severity_original"] != "high" || !strings.Contains(d["triage"].(string), "session s1") ||
		!strings.HasPrefix(d["message"].(string), "[INFO ← HIGH] Script from temp") || !strings.Contains(d["message"].(string), "triage demoted") {
		t.Errorf("demoted finding in the timeline: %v", d)
	}
}
