package hunt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/analyzers"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// samples returns ../shared/samples/evtx/deepbluecli next to the repo
// root, or skips.
func samples(t testing.TB) string {
	t.Helper()
	return testutil.Shared(t, "samples", "evtx", "deepbluecli")
}

// ingestSamples builds a store from sample EVTX files with the real
// ingest path.
func ingestSamples(t testing.TB, cfg *caseconf.Config, files ...string) *store.Store {
	t.Helper()
	dir := samples(t)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(dir, f))
	}
	sum, err := ingest.Run(context.Background(), ingest.Options{Store: st, Paths: paths, Config: cfg, Parsers: []input.Parser{evtx.New()}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events == 0 {
		t.Fatalf("ingest produced no events: %s", sum)
	}
	return st
}

func builtin(t testing.TB, cfg *caseconf.Config) []*rule.Rule {
	t.Helper()
	rs, errs := rule.Builtin(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return rs
}

func byRule(fs []event.Finding) map[string][]event.Finding {
	m := map[string][]event.Finding{}
	for _, f := range fs {
		m[f.RuleID] = append(m[f.RuleID], f)
	}
	return m
}

func TestHuntNewUserAndAdminGroup(t *testing.T) {
	cfg := caseconf.Default()
	st := ingestSamples(t, cfg, "new-user-security.evtx")
	res, err := Run(context.Background(), st, cfg, builtin(t, cfg), Options{NoAnalyzers: true})
	if err != nil {
		t.Fatal(err)
	}
	m := byRule(res.Findings)
	created := m["user-account-created"]
	if len(created) != 1 || !strings.Contains(created[0].Summary, "IEUser") || created[0].Host != "IE8WIN7" {
		t.Errorf("user-account-created: %+v", created)
	}
	added := m["privileged-group-member-added"]
	// The sample adds the new account to None (4728), Users and
	// Administrators (4732): only the last is privileged.
	if len(added) != 1 || !strings.Contains(added[0].Summary, `Builtin\Administrators`) {
		t.Fatalf("privileged-group-member-added: %+v", added)
	}
	if r := added[0].Refs; len(r) != 1 || r[0].RecordID != 116 || !strings.HasSuffix(r[0].Evidence, "new-user-security.evtx") {
		t.Errorf("refs do not point at record 116: %+v", r)
	}
	if added[0].Analyzer != "rule" || added[0].ID == "" || added[0].Severity != "high" {
		t.Errorf("finding fields: %+v", added[0])
	}
	stored, err := st.Findings()
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(res.Findings) {
		t.Errorf("stored %d findings, hunt returned %d", len(stored), len(res.Findings))
	}
}

func TestHuntThresholdRulesFire(t *testing.T) {
	cfg := caseconf.Default()
	cases := []struct {
		file, rule string
		hitsMin    int
	}{
		{"password-spray.evtx", "explicit-credential-spray", 200},
		{"smb-password-guessing-security.evtx", "failed-logon-burst", 3000},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			st := ingestSamples(t, cfg, c.file)
			res, err := Run(context.Background(), st, cfg, builtin(t, cfg), Options{NoAnalyzers: true})
			if err != nil {
				t.Fatal(err)
			}
			fs := byRule(res.Findings)[c.rule]
			if len(fs) != 1 {
				t.Fatalf("%s: %d findings, want 1 burst; all: %v", c.rule, len(fs), summaries(res.Findings))
			}
			hits, _ := fs[0].Details.Get("hits")
			if n, _ := hits.(int); n < c.hitsMin {
				t.Errorf("hits %v, want at least %d", hits, c.hitsMin)
			}
			t.Log(fs[0].Summary)
		})
	}
}

func summaries(fs []event.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+": "+f.Summary)
	}
	return out
}

// A re-hunt gives the same findings with the same IDs, and replaces the
// stored ones instead of adding to them.
func TestHuntIsDeterministicAndReplaces(t *testing.T) {
	cfg := caseconf.Default()
	st := ingestSamples(t, cfg, "new-user-security.evtx", "password-spray.evtx")
	rs := builtin(t, cfg)
	a, err := Run(context.Background(), st, cfg, rs, Options{NoAnalyzers: true, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), st, cfg, rs, Options{NoAnalyzers: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Findings) == 0 || len(a.Findings) != len(b.Findings) {
		t.Fatalf("runs differ: %d vs %d findings", len(a.Findings), len(b.Findings))
	}
	for i := range a.Findings {
		if a.Findings[i].ID != b.Findings[i].ID || a.Findings[i].Summary != b.Findings[i].Summary {
			t.Errorf("finding %d differs: %s/%s vs %s/%s", i, a.Findings[i].ID, a.Findings[i].Summary, b.Findings[i].ID, b.Findings[i].Summary)
		}
	}
	stored, err := st.Findings()
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(b.Findings) {
		t.Errorf("store holds %d findings after two hunts, want %d", len(stored), len(b.Findings))
	}
}

// synthetic writes events straight into a store.
func synthetic(t testing.TB, evs []event.Event) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := st.NewEventWriter("part-test")
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return st
}

type countingAnalyzer struct {
	n    int
	last time.Time
}

func (c *countingAnalyzer) Name() string { return "counting" }
func (c *countingAnalyzer) Observe(ev *event.Event) {
	c.n++
	c.last = ev.Time
}
func (c *countingAnalyzer) Finish() []event.Finding {
	return []event.Finding{{Time: c.last, Title: "seen", Severity: "info", Summary: "events seen"}}
}

func TestHuntWindowAnalyzersAndPanics(t *testing.T) {
	t0 := time.Date(2024, 3, 9, 1, 0, 0, 0, time.UTC)
	var evs []event.Event
	for i := 0; i < 3000; i++ {
		evs = append(evs, event.Event{Time: t0.Add(time.Duration(i) * time.Minute), Source: "evtx", Host: "H", EventID: 4720,
			Channel: "Security", User: "u", Evidence: "x.evtx", Offset: int64(i + 1), Fields: ordereddict.NewDict().Set("TargetUserName", "u")})
	}
	st := synthetic(t, evs)
	cfg, err := caseconf.Parse("case.yaml", []byte("window: {from: \"2024-03-09T02:00:00Z\", to: \"2024-03-09T03:00:00Z\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rs := builtin(t, cfg)
	rs = append(rs, &rule.Rule{ID: "boom", Title: "boom", Severity: "low", Columns: []string{"time"},
		Match: func(*event.Event) bool { panic("matcher bug") }})
	an := &countingAnalyzer{}
	res, err := Run(context.Background(), st, cfg, rs, Options{Analyzers: []analyzers.Analyzer{an}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 60 || an.n != 60 {
		t.Errorf("window 02:00-03:00 scanned %d events, analyzer saw %d; want 60", res.Events, an.n)
	}
	m := byRule(res.Findings)
	if len(m["user-account-created"]) != 60 {
		t.Errorf("user-account-created: %d findings, want 60", len(m["user-account-created"]))
	}
	var seen *event.Finding
	for i := range res.Findings {
		if res.Findings[i].Analyzer == "counting" {
			seen = &res.Findings[i]
		}
	}
	if seen == nil || seen.ID == "" {
		t.Errorf("analyzer finding missing or without ID")
	}
	if len(res.Warnings) == 0 || !strings.Contains(strings.Join(res.Warnings, "\n"), "boom") {
		t.Errorf("panicking rule not reported: %v", res.Warnings)
	}
	for i := 1; i < len(res.Findings); i++ {
		if res.Findings[i].Time.Before(res.Findings[i-1].Time) {
			t.Fatalf("findings not in time order at %d", i)
		}
	}
}

type panicky struct{}

func (panicky) Name() string            { return "panicky" }
func (panicky) Observe(ev *event.Event) { panic("observe bug") }
func (panicky) Finish() []event.Finding { return nil }

func TestPanickingAnalyzerIsDropped(t *testing.T) {
	t0 := time.Date(2024, 3, 9, 1, 0, 0, 0, time.UTC)
	st := synthetic(t, []event.Event{{Time: t0, Source: "evtx", EventID: 4720, Channel: "Security", Evidence: "x", Offset: 1}})
	good := &countingAnalyzer{}
	res, err := Run(context.Background(), st, nil, nil, Options{Analyzers: []analyzers.Analyzer{panicky{}, good}})
	if err != nil {
		t.Fatal(err)
	}
	if good.n != 1 || len(res.Findings) != 1 || !strings.Contains(strings.Join(res.Warnings, ""), "panicky") {
		t.Errorf("good analyzer saw %d events; findings %d; warnings %v", good.n, len(res.Findings), res.Warnings)
	}
}

// TestMain removes the stores shared by tests and benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{mix.dir, comtech.dir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

func TestStatefulMatchesDropUnneededFields(t *testing.T) {
	rs := builtin(t, caseconf.Default())
	p := newPlan(rs)
	ev := &event.Event{EventID: 4625, Channel: "Security", User: "a", Fields: ordereddict.NewDict().Set("TargetUserName", "a")}
	ms := make([][]match, len(rs))
	evalEvent(p, p.byID[4625], ev, 7, nil, ms, nil, nil)
	n := 0
	for i, m := range ms {
		for _, x := range m {
			n++
			if x.ev == ev || x.seq != 7 {
				t.Errorf("%s: match not a copy at seq 7", rs[i].ID)
			}
			if x.ev.Fields != nil && !p.keepFields[i] {
				t.Errorf("%s: copy keeps raw fields it does not read", rs[i].ID)
			}
		}
	}
	if n != 2 { // failed-logon-burst and failed-logon-spray
		t.Errorf("%d stateful matches, want 2", n)
	}
}

// TestNoFindingsRulesAreSilent: a rule that only feeds correlations
// (Sigma generate: false) reports nothing on its own.
func TestNoFindingsRulesAreSilent(t *testing.T) {
	t0 := time.Date(2024, 3, 9, 1, 0, 0, 0, time.UTC)
	st := synthetic(t, []event.Event{{Time: t0, Source: "evtx", Host: "H", EventID: 4625, Channel: "Security", Evidence: "x.evtx", Offset: 1}})
	all := func(*event.Event) bool { return true }
	rs := []*rule.Rule{
		{ID: "loud", Title: "loud", Severity: "low", Columns: []string{"time"}, Match: all},
		{ID: "quiet", Title: "quiet", Severity: "low", Columns: []string{"time"}, Match: all, NoFindings: true},
	}
	res, err := Run(context.Background(), st, caseconf.Default(), rs, Options{NoAnalyzers: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].RuleID != "loud" {
		t.Fatalf("findings: %+v", res.Findings)
	}
}

// storedEvents reads every event of a store, whole.
func storedEvents(t testing.TB, st *store.Store) []event.Event {
	t.Helper()
	var evs []event.Event
	if err := st.Scan(context.Background(), store.ScanOptions{}, func(ev *event.Event) error {
		evs = append(evs, *ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

// pickyAnalyzer wants one event id and counts what it is shown.
type pickyAnalyzer struct {
	id       int32
	seen, of int
}

func (p *pickyAnalyzer) Name() string { return fmt.Sprintf("picky-%d", p.id) }
func (p *pickyAnalyzer) Observe(ev *event.Event) {
	p.seen++
	if ev.EventID == p.id {
		p.of++
	}
}
func (p *pickyAnalyzer) Finish() []event.Finding { return nil }
func (p *pickyAnalyzer) Wants(source string, id int32, channel string) []string {
	if id == p.id {
		return []string{"time"}
	}
	return nil
}

// TestManyAnalyzersStaySelective runs more analyzers than one mask word
// holds: each must still be shown exactly the events it asks for (the
// mask grows; no silent switch to showing everyone everything).
func TestManyAnalyzersStaySelective(t *testing.T) {
	t0 := time.Date(2024, 3, 9, 1, 0, 0, 0, time.UTC)
	var evs []event.Event
	for i := 0; i < 3000; i++ {
		evs = append(evs, event.Event{Time: t0.Add(time.Duration(i) * time.Second), Source: "evtx", Host: "H", EventID: 4720 + int32(i%7),
			Channel: "Security", Evidence: "x.evtx", Offset: int64(i + 1)})
	}
	st := synthetic(t, evs)
	for _, n := range []int{63, 64, 70, 130} {
		var ans []analyzers.Analyzer
		var ps []*pickyAnalyzer
		for k := 0; k < n; k++ {
			p := &pickyAnalyzer{id: 4720 + int32(k%7)}
			ps = append(ps, p)
			ans = append(ans, p)
		}
		if _, err := Run(context.Background(), st, nil, nil, Options{Analyzers: ans, DryRun: true}); err != nil {
			t.Fatal(err)
		}
		for k, p := range ps {
			if p.seen != p.of || p.of != 3000/7+btoi(int(p.id-4720) < 3000%7) {
				t.Fatalf("%d analyzers: analyzer %d (event id %d) was shown %d events, %d of them its own; want only its %d",
					n, k, p.id, p.seen, p.of, 3000/7+btoi(int(p.id-4720) < 3000%7))
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
