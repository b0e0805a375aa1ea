package hunt

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/sigma"
	"github.com/spoor-dfir/spoor/internal/simulate"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// sameAsFullScan hunts st twice, once reading only what the rules and
// analyzers declare (the default) and once decoding every row whole for
// everyone (FullScan), and requires the same findings and incidents, byte
// for byte: the selective scan may only save work, never change results.
// It also requires the selective hunt to have skipped some rows' work,
// so the test cannot pass by the selection doing nothing.
func sameAsFullScan(t *testing.T, st *store.Store, cfg *caseconf.Config, rules []*rule.Rule) {
	t.Helper()
	ctx := context.Background()
	sel, err := Run(ctx, st, cfg, rules, Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	full, err := Run(ctx, st, cfg, rules, Options{DryRun: true, FullScan: true})
	if err != nil {
		t.Fatal(err)
	}
	if sel.Events != full.Events || sel.Events == 0 {
		t.Fatalf("events: selective %d, full %d", sel.Events, full.Events)
	}
	a, _ := json.Marshal([]any{sel.Findings, sel.Incidents, sel.Warnings})
	b, _ := json.Marshal([]any{full.Findings, full.Incidents, full.Warnings})
	if string(a) != string(b) {
		for i := 0; i < min(len(sel.Findings), len(full.Findings)); i++ {
			x, _ := json.Marshal(sel.Findings[i])
			y, _ := json.Marshal(full.Findings[i])
			if string(x) != string(y) {
				t.Fatalf("finding %d differs:\nselective %s\nfull      %s", i, x, y)
			}
		}
		t.Fatalf("selective hunt: %d findings, %d incidents; full scan: %d findings, %d incidents",
			len(sel.Findings), len(sel.Incidents), len(full.Findings), len(full.Incidents))
	}
	if len(full.Findings) == 0 {
		t.Fatal("no findings at all: nothing was compared")
	}
}

func TestSelectiveHuntMatchesFullScanComtech(t *testing.T) {
	st, cfg := comtechStore(t)
	sameAsFullScan(t, st, cfg, builtin(t, cfg))
}

func TestSelectiveHuntMatchesFullScanScenarios(t *testing.T) {
	for _, sc := range simulate.Scenarios {
		for _, seed := range []uint64{3, 11} {
			t.Run(fmt.Sprintf("%s-%d", sc, seed), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				if _, err := simulate.Run(simulate.Options{Out: dir, Scenario: sc, Seed: seed, Hosts: 8, Days: 10}); err != nil {
					t.Fatal(err)
				}
				cfg, err := caseconf.Load(filepath.Join(dir, "case.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				st, err := store.Open(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ingest.Run(context.Background(), ingest.Options{Store: st, Paths: []string{filepath.Join(dir, "evidence")}, Config: cfg}); err != nil {
					t.Fatal(err)
				}
				sameAsFullScan(t, st, cfg, builtin(t, cfg))
			})
		}
	}
}

// The samples are real third-party logs, hunted with the built-in pack
// and every SigmaHQ Windows rule shipped beside the project.
func TestSelectiveHuntMatchesFullScanSamples(t *testing.T) {
	dir := testutil.Shared(t, "samples")
	cfg := caseconf.Default()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// json/otrf (1.6 GB of collector JSON, 680 k events) is left to its own
	// bench (spoor-bench otrf): with every Sigma rule it would take minutes.
	var paths []string
	for _, sub := range []string{"evtx", "firewall", "rmm"} {
		paths = append(paths, filepath.Join(dir, sub))
	}
	if _, err := ingest.Run(context.Background(), ingest.Options{Store: st, Paths: paths, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	rules := builtin(t, cfg)
	sigmaDir := testutil.Shared(t, "sigma", "rules", "windows")
	srs, _ := rule.LoadPaths(cfg, []string{sigmaDir}, sigma.Compiler(sigma.CompileOptions{Placeholders: sigma.CasePlaceholders(cfg)}))
	if len(srs) < 1000 {
		t.Fatalf("only %d Sigma rules loaded", len(srs))
	}
	sameAsFullScan(t, st, cfg, append(rules, srs...))
}

// TestMemoGivesSameFindings evaluates the built-in pack over the comtech
// events with and without the per-worker memo of single-event answers,
// and requires the same findings in the same order; and requires the
// memo to have answered some events itself.
func TestMemoGivesSameFindings(t *testing.T) {
	st, cfg := comtechStore(t)
	evs := storedEvents(t, st)
	p := newPlan(builtin(t, cfg))
	if p.nMemo == 0 {
		t.Fatal("no built-in rule is memoized: the test compares nothing")
	}
	run := func(m *memo) []event.Finding {
		var fs []event.Finding
		ms := make([][]match, len(p.rules))
		for i := range evs {
			fs = evalOne(p, m, nil, &evs[i], int64(i), fs, ms)
		}
		return fs
	}
	plain := run(nil)
	mem := newMemo()
	memoed := run(mem)
	hits := mem.seen.Hits()
	a, _ := json.Marshal(plain)
	b, _ := json.Marshal(memoed)
	if string(a) != string(b) {
		t.Fatalf("findings differ with the memo: %d without, %d with", len(plain), len(memoed))
	}
	if hits == 0 || len(plain) == 0 {
		t.Fatalf("memo hits %d, findings %d: nothing was compared", hits, len(plain))
	}
}

// A condition may read the event through $env: nothing can then be said
// of the columns it reads, so the hunt must decode everything for it and
// never remember its answers by a partial key.
func TestEnvConditionReadsEverything(t *testing.T) {
	cfg := caseconf.Default()
	rs, errs := rule.ParseFile(cfg, "env.yml", []byte(`rules:
  - id: env-process
    title: evil process through $env
    severity: high
    filter: {event_id: [4688]}
    condition: '$env["process"] == "C:\\evil.exe"'
`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if rs[0].Columns != nil || rs[0].MatchColumns != nil {
		t.Fatalf("a $env rule declares columns %v / %v", rs[0].Columns, rs[0].MatchColumns)
	}
	base := time.Date(2026, 11, 14, 22, 0, 0, 0, time.UTC)
	var evs []event.Event
	for i, p := range []string{`C:\good.exe`, `C:\evil.exe`, `C:\good.exe`} {
		evs = append(evs, event.Event{Time: base.Add(time.Duration(i) * time.Minute), Source: event.SourceEVTX, Channel: "Security",
			EventID: 4688, Host: "H", Process: p, Evidence: "e.evtx", Offset: int64(i + 1), RecordID: int64(i + 1)})
	}
	st := synthetic(t, evs)
	for _, full := range []bool{false, true} {
		res, err := Run(context.Background(), st, cfg, rs, Options{DryRun: true, NoAnalyzers: true, FullScan: full})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) != 1 || res.Findings[0].Refs[0].Offset != 2 {
			t.Fatalf("full scan %v: %d findings, want the one on the evil process", full, len(res.Findings))
		}
	}
}

// Memo keys must tell tuples apart whatever bytes the values hold.
func TestMemoKeysDoNotCollide(t *testing.T) {
	p := &plan{key: keyOf([]string{"command_line", "process"})}
	a := &event.Event{CommandLine: "a\x00b"}
	b := &event.Event{CommandLine: "a", Process: "\x00b"}
	c := &event.Event{CommandLine: "a", Process: "b"}
	keys := map[string]bool{}
	for _, ev := range []*event.Event{a, b, c} {
		var k []byte
		for _, g := range p.key {
			k = g(ev, k)
		}
		if keys[string(k)] {
			t.Fatalf("two tuples share the key %q", k)
		}
		keys[string(k)] = true
	}
}

// TestGuardsAreRememberedNotAnswers: a rule evaluated every time (it
// reads raw fields) has its guards remembered per key tuple; events with
// the same key that its condition tells apart (defender-disabled on two
// Sysmon 13 events, one on a Defender policy value) must still get their
// own answers, and a command line that fails the guards once fails them
// from memory after.
func TestGuardsAreRememberedNotAnswers(t *testing.T) {
	cfg := caseconf.Default()
	var r *rule.Rule
	for _, x := range builtin(t, cfg) {
		if x.ID == "defender-disabled" {
			r = x
		}
	}
	if r == nil {
		t.Fatal("no defender-disabled rule")
	}
	p := newPlan([]*rule.Rule{r})
	if p.memoIdx[0] >= 0 || p.guardIdx[0] < 0 {
		t.Fatalf("memo index %d, guard index %d: want the guards remembered, not the answers", p.memoIdx[0], p.guardIdx[0])
	}
	sysmon := "Microsoft-Windows-Sysmon/Operational"
	policy := func(target, details string) event.Event {
		return event.Event{Source: event.SourceEVTX, Channel: sysmon, EventID: 13, Host: "H",
			RawFields: fmt.Sprintf(`{"TargetObject":%q,"Details":%q}`, target, details)}
	}
	evs := []event.Event{
		policy(`HKLM\SOFTWARE\Policies\Microsoft\Windows Defender\DisableAntiSpyware`, "DWORD (0x00000001)"),
		policy(`HKLM\SOFTWARE\Policies\Microsoft\Windows Defender\DisableAntiSpyware`, "DWORD (0x00000000)"),
		policy(`HKLM\SOFTWARE\Policies\Microsoft\Windows Defender\DisableAntiSpyware`, "DWORD (0x00000001)"),
		{Source: event.SourceEVTX, Channel: sysmon, EventID: 1, Host: "H", CommandLine: "Set-MpPreference -DisableRealtimeMonitoring $true"},
		{Source: event.SourceEVTX, Channel: sysmon, EventID: 1, Host: "H", CommandLine: "notepad.exe"},
		{Source: event.SourceEVTX, Channel: sysmon, EventID: 1, Host: "H", CommandLine: "Set-MpPreference -DisableRealtimeMonitoring $true"},
		{Source: event.SourceEVTX, Channel: sysmon, EventID: 1, Host: "H", CommandLine: "notepad.exe"},
	}
	want := []bool{true, false, true, true, false, true, false}
	m := newMemo()
	ms := make([][]match, 1)
	for i := range evs {
		fs := evalOne(p, m, nil, &evs[i], int64(i), nil, ms)
		if got := len(fs) == 1; got != want[i] || got != rule.Evaluate(r, &evs[i]) {
			t.Errorf("event %d: matched %v, want %v", i, got, want[i])
		}
	}
	if m.seen.Hits() < 3 {
		t.Fatalf("%d memo hits: the guards were not remembered", m.seen.Hits())
	}
}
