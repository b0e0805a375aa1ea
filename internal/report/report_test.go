package report

import (
	"bytes"
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/analyzers/coverage"
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
	// Commands stand verbatim in fenced code blocks, which Markdown shows
	// as text; everywhere else log content is escaped.
	prose := regexp.MustCompile("(?s)```.*?```").ReplaceAllString(m1, "")
	if strings.Contains(prose, "<script>") || strings.Contains(prose, "<img") || !strings.Contains(prose, "&lt;img src=x onerror=alert(2)&gt;") {
		t.Fatal("markdown not escaped")
	}
	if strings.Count(m1, "```")%2 != 0 {
		t.Fatal("a code fence is left open")
	}
}

// TestStorySummaryAndAnnex: the incident is told from the store's events
// (session start, then the script as a command), page 1 names it, and the
// NIS2 annex and the appendix carry it.
func TestStorySummaryAndAnnex(t *testing.T) {
	st, cfg := buildTestStore(t)
	d, err := Build(context.Background(), st, cfg, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Incidents) != 1 {
		t.Fatalf("%d incidents", len(d.Incidents))
	}
	var kinds []string
	cmd := ""
	for _, s := range d.Incidents[0].Steps {
		kinds = append(kinds, s.Kind)
		if s.Kind == "command" {
			cmd = s.Command
		}
	}
	if got := strings.Join(kinds, ","); got != "finding,command,start" {
		t.Errorf("story steps %s, want the verdict and the script at 23:15–23:16, then the session start at 23:17", got)
	}
	if !strings.Contains(cmd, "Get-ADUser -Filter *") {
		t.Errorf("command text %q", cmd)
	}
	if !strings.HasPrefix(d.Summary.Headline, "1 incident(s) (1 high)") || len(d.Summary.Incidents) != 1 || !strings.Contains(d.Summary.Incidents[0], "Sat 14 Nov 2026 23:15") {
		t.Errorf("summary: %q %q", d.Summary.Headline, d.Summary.Incidents)
	}
	if got := strings.Join(d.NIS2.Notification.AffectedSystems, ","); got != "DC01" {
		t.Errorf("NIS2 affected systems %q", got)
	}
	var buf bytes.Buffer
	if err := AppendixJSON(&buf, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"evidence": "e/DC01/PS.evtx"`) && !strings.Contains(buf.String(), `"Evidence": "e/DC01/PS.evtx"`) {
		t.Errorf("appendix lacks the finding's reference:\n%.800s", buf.String())
	}
}

func TestPeopleDropsMachineAccounts(t *testing.T) {
	got := strings.Join(People([]string{"DC01$", "SYSTEM", `NT AUTHORITY\SYSTEM`, "ct-weber", `CORP\ct-x`, "-", "NETWORK SERVICE"}), ",")
	if got != `ct-weber,CORP\ct-x` {
		t.Fatalf("People: %s", got)
	}
}

func TestIdentityMergesSpellings(t *testing.T) {
	a, b, c := identity(`CORP\ct-Weber`, "ComTech"), identity("ct-weber", "ComTech"), identity("ct-weber@comtech-it.de", "ComTech")
	if a != b || b != c || a != "ct-weber (ComTech)" {
		t.Fatalf("%q %q %q", a, b, c)
	}
	if identity("ct-weber", "Other") == a {
		t.Fatal("the same name at another provider is another identity")
	}
}

// TestTechniquesShown: the ATT&CK techniques of a finding appear in the
// incident's header and the findings table, in HTML and Markdown.
func TestTechniquesShown(t *testing.T) {
	st, cfg := buildTestStore(t)
	d, err := Build(context.Background(), st, cfg, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var h, m bytes.Buffer
	if err := HTML(&h, d); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&m, d); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(h.String(), "T1087"); n < 2 {
		t.Errorf("HTML names T1087 %d times, want the incident header and the incident's finding list", n)
	}
	if !strings.Contains(h.String(), "ATT&amp;CK T1087") {
		t.Error("incident header lacks its techniques")
	}
	if !strings.Contains(m.String(), "; ATT&CK T1087") {
		t.Errorf("Markdown lacks the techniques:\n%s", m.String())
	}
}

// The coverage table comes from the coverage analyzer's findings: one
// row per host and log, a log seen from two sources counted once, and
// the analyzer's stand-in for a firewall without a host shown as none.
func TestCoverageFromAnalyzerFindings(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 2, h, 0, 0, 0, time.UTC) }
	rng := func(host, log string, n int, from, to int) event.Finding {
		return event.Finding{Analyzer: coverage.Name, RuleID: coverage.RangeRule, Title: coverage.RangeTitle + log, Host: host,
			Time: at(from), End: at(to), Details: akit.Details("events", uint64(n), "days", 0.5)}
	}
	fs := []event.Finding{
		rng("DC01", "Security", 10, 1, 5),
		rng("DC01", "Application", 3, 2, 4),
		rng("DC01", "Application", 2, 1, 3), // the rmm rows of the same log
		rng(coverage.FirewallHost, "pfirewall", 7, 0, 9),
		{Analyzer: coverage.Name, RuleID: "coverage.record_gap", Title: "Record-id gaps: Security", Host: "DC01"},
	}
	got := coverageOf(fs)
	want := []Coverage{
		{Host: "", Channel: "pfirewall", Events: 7, First: at(0), Last: at(9)},
		{Host: "DC01", Channel: "Application", Events: 5, First: at(1), Last: at(4)},
		{Host: "DC01", Channel: "Security", Events: 10, First: at(1), Last: at(5)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("coverage\n got %+v\nwant %+v", got, want)
	}
}
