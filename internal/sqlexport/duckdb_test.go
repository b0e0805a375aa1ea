package sqlexport

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/hunt"
	"github.com/spoor-dfir/spoor/internal/ingest"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/rule/ruleset"
	"github.com/spoor-dfir/spoor/internal/simulate"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// match is one (rule id, event) pair. The store has no single per-event
// key; (source, evidence, offset) is one, and findings point at events by
// (evidence, offset), so the pairs compare on those.
type match struct {
	rule, evidence string
	offset         int64
}

// huntMatches hunts the store with the rules (no analyzers, nothing
// written) and returns the pairs of the exported single-event rules.
func huntMatches(t *testing.T, st *store.Store, cfg *caseconf.Config, rules []*rule.Rule, exported map[string]bool) map[match]bool {
	t.Helper()
	res, err := hunt.Run(context.Background(), st, cfg, rules, hunt.Options{NoAnalyzers: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		t.Logf("hunt warning: %s", w)
	}
	out := map[match]bool{}
	for _, f := range res.Findings {
		if !exported[f.RuleID] {
			continue
		}
		if len(f.Refs) != 1 {
			t.Fatalf("finding of single-event rule %s has %d refs", f.RuleID, len(f.Refs))
		}
		out[match{f.RuleID, f.Refs[0].Evidence, f.Refs[0].Offset}] = true
	}
	return out
}

// sqlMatches runs the exported combined query on DuckDB.
func sqlMatches(t *testing.T, ex *Export, storeDir string) map[match]bool {
	t.Helper()
	rows := testutil.DuckDB(t, ex.Combined(DuckDB.Events(storeDir)))
	out := map[match]bool{}
	for _, r := range rows {
		var off int64
		if _, err := fmt.Sscan(fmt.Sprint(r["offset"]), &off); err != nil {
			t.Fatalf("offset %v: %v", r["offset"], err)
		}
		out[match{fmt.Sprint(r["rule_id"]), fmt.Sprint(r["evidence"]), off}] = true
	}
	return out
}

// differ reports the pairs only one side has, a few per rule.
func differ(t *testing.T, name string, hunted, sql map[match]bool) {
	t.Helper()
	var only []string
	perRule := map[string]int{}
	for m := range hunted {
		if !sql[m] {
			perRule["hunt "+m.rule]++
			if perRule["hunt "+m.rule] <= 3 {
				only = append(only, fmt.Sprintf("hunt only: %s %s#%d", m.rule, m.evidence, m.offset))
			}
		}
	}
	for m := range sql {
		if !hunted[m] {
			perRule["sql "+m.rule]++
			if perRule["sql "+m.rule] <= 3 {
				only = append(only, fmt.Sprintf("sql only:  %s %s#%d", m.rule, m.evidence, m.offset))
			}
		}
	}
	if len(only) > 0 {
		sort.Strings(only)
		t.Errorf("%s: hunt %d pairs, DuckDB %d; they differ (%d rules):\n%s", name, len(hunted), len(sql), len(perRule), strings.Join(only, "\n"))
	}
}

// diffStore exports the rules for the store's case, hunts the store and
// runs the export on DuckDB, and requires the same pairs.
func diffStore(t *testing.T, name, storeDir string, cfg *caseconf.Config, sigmaDirs []string) {
	st, err := store.OpenExisting(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	rules, errs := ruleset.LoadWith(cfg, ruleset.Options{Builtin: true, Paths: sigmaDirs})
	if len(errs) > 0 {
		t.Logf("%s: %d rules did not load (the hunt runs without them too); first: %v", name, len(errs), errs[0])
	}
	ex := Compile(DuckDB, cfg, rules, os.ReadFile)
	exported := map[string]bool{}
	for _, r := range ex.Rules {
		exported[r.ID] = true
	}
	hunted := huntMatches(t, st, cfg, rules, exported)
	got := sqlMatches(t, ex, storeDir)
	t.Logf("%s: %s; %d pairs", name, ex.Summary(), len(hunted))
	differ(t, name, hunted, got)
	if len(hunted) == 0 {
		t.Errorf("%s: no rule matched anything: the comparison shows nothing", name)
	}
}

// TestDuckDBAgreesWithHuntOnSamples: the built-in rules and the Sigma
// Windows rule set, exported for DuckDB and run over the store of the
// shared real samples, give exactly the (rule, event) pairs spoor hunt
// gives.
func TestDuckDBAgreesWithHuntOnSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests the shared samples and runs DuckDB")
	}
	samples := testutil.Shared(t, "samples")
	testutil.DuckDB(t, "SELECT 1") // skip early without DuckDB
	// The EVTX, firewall and RMM samples: the collector JSON recordings
	// (samples/json, 1.6 GB) would make this a corpus benchmark.
	var paths []string
	for _, sub := range []string{"evtx", "firewall", "rmm"} {
		if p, ok := testutil.SharedPath(t, "samples", sub); ok {
			paths = append(paths, p)
		}
	}
	_ = samples
	var sigmaDirs []string
	if p, ok := testutil.SharedPath(t, "sigma", "rules", "windows"); ok {
		sigmaDirs = append(sigmaDirs, p)
	}
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), ingest.Options{Store: st, Paths: paths}); err != nil {
		t.Fatal(err)
	}
	diffStore(t, "samples", dir, caseconf.Default(), sigmaDirs)
}

// TestDuckDBAgreesWithHuntOnScenarios does the same over a store of each
// generated scenario, hunted and exported with the scenarios' case file
// (its providers, hours, holidays and window): the case-dependent built-in
// rules must match there, so their SQL is compared on real matches. The
// scenarios share one case file, so one DuckDB query reads all four
// stores (evidence paths prefixed with the scenario).
func TestDuckDBAgreesWithHuntOnScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the scenarios and runs DuckDB")
	}
	testutil.DuckDB(t, "SELECT 1")
	var sigmaDirs []string
	if p, ok := testutil.SharedPath(t, "sigma", "rules", "windows"); ok {
		sigmaDirs = append(sigmaDirs, p)
	}
	root := t.TempDir()
	var cfg *caseconf.Config
	var caseText string
	var globs []string
	hunted := map[match]bool{}
	var ex *Export
	var rules []*rule.Rule
	exported := map[string]bool{}
	for _, sc := range simulate.Scenarios {
		evDir, storeDir := filepath.Join(root, sc, "case"), filepath.Join(root, sc, "store")
		if _, err := simulate.Run(simulate.Options{Out: evDir, Scenario: sc, Seed: 11, Hosts: 6, Days: 10}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(evDir, "case.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		// The first line names the scenario; the rest must be the same.
		text := string(b[strings.IndexByte(string(b), '\n')+1:])
		if cfg == nil {
			if cfg, err = caseconf.Load(filepath.Join(evDir, "case.yaml")); err != nil {
				t.Fatal(err)
			}
			caseText = text
			var errs []error
			rules, errs = ruleset.LoadWith(cfg, ruleset.Options{Builtin: true, Paths: sigmaDirs})
			if len(errs) > 0 {
				t.Logf("%d rules did not load (the hunt runs without them too); first: %v", len(errs), errs[0])
			}
			ex = Compile(DuckDB, cfg, rules, os.ReadFile)
			for _, r := range ex.Rules {
				exported[r.ID] = true
			}
			defer func() { t.Logf("%s; %d pairs", ex.Summary(), len(hunted)) }()
		} else if text != caseText {
			t.Fatalf("%s: the scenarios' case files differ; one query cannot serve them", sc)
		}
		st, err := store.Open(storeDir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.Run(context.Background(), ingest.Options{Store: st, Paths: []string{filepath.Join(evDir, "evidence")}, Config: cfg}); err != nil {
			t.Fatal(err)
		}
		for m := range huntMatches(t, st, cfg, rules, exported) {
			m.evidence = sc + "/" + m.evidence
			hunted[m] = true
		}
		globs = append(globs, DuckDB.str(storeDir+"/events/**/*.parquet"))
	}
	// The store of each row is the folder above store/ in its file name.
	events := "(SELECT * REPLACE (regexp_extract(filename, '([^/]+)/store/events/', 1) || '/' || evidence AS evidence) FROM read_parquet([" +
		strings.Join(globs, ", ") + "], hive_partitioning = true, filename = true))"
	got := map[match]bool{}
	for _, r := range testutil.DuckDB(t, ex.Combined(events)) {
		var off int64
		if _, err := fmt.Sscan(fmt.Sprint(r["offset"]), &off); err != nil {
			t.Fatalf("offset %v: %v", r["offset"], err)
		}
		got[match{fmt.Sprint(r["rule_id"]), fmt.Sprint(r["evidence"]), off}] = true
	}
	differ(t, "scenarios", hunted, got)
	// The rules that read the case must have matched, or their SQL was
	// never compared on a match.
	for _, id := range []string{"provider-logon-off-hours", "account-enabled-or-reset-by-provider-or-off-hours", "privileged-group-member-added", "event-log-cleared"} {
		n := 0
		for m := range hunted {
			if m.rule == id {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s matched nothing in the scenarios", id)
		}
	}
}

// TestDuckDBPerRuleEqualsCombined: the per-rule queries over the view
// give the same pairs as the combined query, and both the hunt's, on the
// demo case with the built-in and fixture rules.
func TestDuckDBPerRuleEqualsCombined(t *testing.T) {
	testutil.DuckDB(t, "SELECT 1")
	caseDir := filepath.Join(testutil.RepoRoot(t), "testdata", "cases", "comtech")
	cfg, err := caseconf.Load(filepath.Join(caseDir, "case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), ingest.Options{Store: st, Paths: []string{filepath.Join(caseDir, "evidence")}, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	rules, errs := ruleset.LoadWith(cfg, ruleset.Options{Builtin: true, Paths: []string{"testdata/rules"}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ex := Compile(DuckDB, cfg, rules, os.ReadFile)
	exported := map[string]bool{}
	for _, r := range ex.Rules {
		exported[r.ID] = true
	}
	hunted := huntMatches(t, st, cfg, rules, exported)
	combined := sqlMatches(t, ex, dir)
	differ(t, "combined", hunted, combined)
	sql := ex.View(DuckDB.Events(dir)) + ";\n" + strings.Join(ex.PerRule(), "\nUNION ALL\n")
	per := map[match]bool{}
	for _, r := range testutil.DuckDB(t, sql) {
		var off int64
		fmt.Sscan(fmt.Sprint(r["offset"]), &off)
		per[match{fmt.Sprint(r["rule_id"]), fmt.Sprint(r["evidence"]), off}] = true
	}
	differ(t, "per-rule", hunted, per)
	if len(hunted) == 0 {
		t.Fatal("nothing matched on the demo case")
	}
}
