package report

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

const caseYAML = `
name: Test <Case>
timezone: Europe/Berlin
providers:
  - name: ComTech
    accounts: ["ct-*"]
    networks: ["10.250.0.0/24"]
`

func buildTestStore(t *testing.T) (*store.Store, *caseconf.Config) {
	t.Helper()
	cfg, err := caseconf.Parse("case.yaml", []byte(caseYAML))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := st.NewEventWriter("part-1")
	sat := time.Date(2026, 11, 14, 22, 15, 0, 0, time.UTC) // Saturday 23:15 in Berlin
	evs := []event.Event{
		{Time: sat, Source: "evtx", Format: "evtx", Host: "DC01", Channel: "Security", EventID: 4624, User: "ct-admin", SrcIP: "10.250.0.7", Evidence: "e/DC01/Security.evtx", Offset: 1},
		{Time: sat.Add(time.Minute), Source: "evtx", Format: "evtx", Host: "DC01", Channel: "Microsoft-Windows-PowerShell/Operational", EventID: 4104,
			ScriptText: "<script>alert(1)</script> Get-ADUser -Filter *", Evidence: "e/DC01/PS.evtx", Offset: 2},
		{Time: sat.Add(2 * time.Minute), Source: "rmm", Format: "screenconnect", Host: "DC01", Action: "session_start", Operator: "<img src=x onerror=alert(2)>", Evidence: "e/DC01/App.evtx", Offset: 3},
	}
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	parts, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	st.Record(store.FileEntry{Path: "e/DC01/Security.evtx", SHA256: strings.Repeat("ab", 32), Status: store.StatusIngested, Parts: parts, Records: 3, Format: "evtx"})
	fs := []event.Finding{{ID: "F1", Time: sat, End: sat.Add(2 * time.Minute), RuleID: "psrecon.burst", Title: "Recon burst", Severity: "high", Host: "DC01",
		User: "ct-admin", Summary: "<script>alert(1)</script>", Reason: "3 discovery kinds in 2 minutes", Analyzer: "psrecon",
		Tags: []string{"attack.t1087"}, IncidentID: "INC-001", Refs: []event.Ref{{Evidence: "e/DC01/PS.evtx", Offset: 2, EventID: 4104}}}}
	inc := []event.Incident{{ID: "INC-001", Start: sat, End: sat.Add(2 * time.Minute), Severity: "high", Title: "RMM session with recon",
		Hosts: []string{"DC01"}, Users: []string{"ct-admin"}, Narrative: "session → <b>commands</b>", Findings: []string{"F1"}}}
	if err := st.WriteFindings(fs, inc); err != nil {
		t.Fatal(err)
	}
	return st, cfg
}

func TestHTMLIsSelfContainedAndEscaped(t *testing.T) {
	st, cfg := buildTestStore(t)
	d, err := Build(context.Background(), st, cfg, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := HTML(&buf, d); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "<script") || strings.Contains(html, "<img") || strings.Contains(html, "<b>commands") {
		t.Fatal("log content not escaped")
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatal("escaped log content missing")
	}
	if !strings.Contains(html, `http-equiv="Content-Security-Policy" content="default-src 'none'`) {
		t.Fatal("no CSP")
	}
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"?(https?:|//)`).FindString(html); m != "" {
		t.Fatalf("external reference %q", m)
	}
	for _, id := range []string{`id="heatmap"`, `id="incidents"`, `id="evidence"`, `id="INC-001"`, `id="negatives"`} {
		if !strings.Contains(html, id) {
			t.Fatalf("missing %s", id)
		}
	}
	// The Saturday 23:15 Berlin logon lands in the Sat row, hour 23.
	if !strings.Contains(html, "Sat 23:00–23:59: 1") {
		t.Fatal("heat map cell for the Saturday night logon missing")
	}
	// The case has recon but no account or outbound evidence: negatives say so.
	joined := strings.Join(d.Negatives, "\n")
	if !strings.Contains(joined, "No new privileged accounts") || strings.Contains(joined, "reconnaissance PowerShell or discovery commands found") {
		t.Fatalf("negatives:\n%s", joined)
	}
	if !strings.Contains(joined, "Not assessed: unusual outbound connections") {
		t.Fatalf("missing-evidence negative not stated:\n%s", joined)
	}
}

func TestDeterministic(t *testing.T) {
	st, cfg := buildTestStore(t)
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	render := func() (string, string) {
		d, err := Build(context.Background(), st, cfg, now)
		if err != nil {
			t.Fatal(err)
		}
		var h, m bytes.Buffer
		HTML(&h, d)
		Markdown(&m, d)
		return h.String(), m.String()
	}
	h1, m1 := render()
	h2, m2 := render()
	if h1 != h2 || m1 != m2 {
		t.Fatal("report differs between runs")
	}
	if strings.Contains(m1, "<script>") || !strings.Contains(m1, "&lt;script&gt;") {
		t.Fatal("markdown not escaped")
	}
}
