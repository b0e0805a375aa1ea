package hunt

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/sigma"
	"github.com/spoor-dfir/spoor/internal/simulate"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
	"github.com/spoor-dfir/spoor/internal/testutil/teststore"
)

// sameAsReference hunts st with the Sigma rules in one compiled set (the
// default) and rule by rule (ReferenceRules), and requires the same
// findings, incidents and warnings byte for byte, and some Sigma finding.
func sameAsReference(t *testing.T, st *store.Store, cfg *caseconf.Config, rules []*rule.Rule) {
	t.Helper()
	ctx := context.Background()
	fast, err := Run(ctx, st, cfg, rules, Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Run(ctx, st, cfg, rules, Options{DryRun: true, ReferenceRules: true})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal([]any{fast.Findings, fast.Incidents, fast.Warnings})
	b, _ := json.Marshal([]any{ref.Findings, ref.Incidents, ref.Warnings})
	if string(a) != string(b) {
		for i := 0; i < min(len(fast.Findings), len(ref.Findings)); i++ {
			x, _ := json.Marshal(fast.Findings[i])
			y, _ := json.Marshal(ref.Findings[i])
			if string(x) != string(y) {
				t.Fatalf("finding %d differs:\ncompiled  %s\nreference %s", i, x, y)
			}
		}
		t.Fatalf("compiled set: %d findings, %d incidents; rule by rule: %d findings, %d incidents",
			len(fast.Findings), len(fast.Incidents), len(ref.Findings), len(ref.Incidents))
	}
	sigmaFindings := 0
	kind := map[string]string{}
	for _, r := range rules {
		kind[r.ID] = r.Kind
	}
	for _, f := range ref.Findings {
		if kind[f.RuleID] == rule.KindSigma {
			sigmaFindings++
		}
	}
	if sigmaFindings == 0 {
		t.Fatal("no Sigma finding: nothing was compared")
	}
	t.Logf("%d findings (%d Sigma), %d incidents", len(ref.Findings), sigmaFindings, len(ref.Incidents))
}

// sigmaRules loads SigmaHQ's Windows rules (and extra paths) for cfg,
// with testdata/sigmawire: rules using what SigmaHQ's do not (neq, time
// modifiers, value maps, a filter, a placeholder), so the comparisons
// cover them too.
func sigmaRules(t *testing.T, cfg *caseconf.Config, extra ...string) []*rule.Rule {
	dir := testutil.Shared(t, "sigma", "rules", "windows")
	paths := append([]string{dir, filepath.Join("testdata", "sigmawire")}, extra...)
	ph := sigma.CasePlaceholders(cfg)
	srs, _ := rule.LoadPaths(cfg, paths, sigma.Compiler(sigma.CompileOptions{Placeholders: ph}))
	if len(srs) < 1000 {
		t.Fatalf("only %d Sigma rules loaded", len(srs))
	}
	// Load errors are not fatal (some SigmaHQ rules need what the case
	// lacks), so the rules this test adds are checked by name: one that
	// failed to load would silently leave its feature uncompared.
	want := map[string]bool{sigmawireFiltered: true, sigmawireNeq: true, sigmawireFieldref: true, sigmawirePlaceholder: len(ph["provider_accounts"]) > 0}
	for _, r := range srs {
		if _, ok := want[r.ID]; !ok {
			continue
		}
		if !want[r.ID] {
			t.Fatalf("rule %s loaded though the case has no provider accounts", r.ID)
		}
		if r.ID == sigmawireFiltered && len(sigma.Filters(r)) == 0 {
			t.Fatalf("rule %s loaded without its test filter", r.ID)
		}
		delete(want, r.ID)
	}
	for id, loads := range want {
		if loads {
			t.Fatalf("testdata/sigmawire rule %s did not load", id)
		}
	}
	return srs
}

// The testdata/sigmawire rules (see its README).
const (
	sigmawireFiltered    = "7e57a11e-0000-4000-8000-000000000001" // IntegrityLevel value map, hour, the filter
	sigmawireNeq         = "7e57a11e-0000-4000-8000-000000000002" // neq, day
	sigmawireFieldref    = "7e57a11e-0000-4000-8000-000000000003" // fieldref|neq, minute, week
	sigmawirePlaceholder = "7e57a11e-0000-4000-8000-000000000004" // %provider_accounts%
)

// The shared samples (real third-party logs) with the built-in pack and
// SigmaHQ's Windows rules.
func TestCompiledSigmaMatchesReferenceSamples(t *testing.T) {
	dir := testutil.Shared(t, "samples")
	cfg := caseconf.Default()
	st := teststore.Ingest(t, cfg, dir)
	sameAsReference(t, st, cfg, append(builtin(t, cfg), sigmaRules(t, cfg)...))
}

// SigmaHQ's regression data: every test's events, hunted with every
// test's rule and the Windows rules.
func TestCompiledSigmaMatchesReferenceRegressionData(t *testing.T) {
	dir := testutil.Shared(t, "sigma", "regression_data")
	var evtx, ymls []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		switch {
		case err != nil || d.IsDir():
		case filepath.Ext(p) == ".evtx":
			evtx = append(evtx, p)
		case d.Name() == "rule.yml":
			ymls = append(ymls, p)
		}
		return nil
	})
	cfg := caseconf.Default()
	st := teststore.Ingest(t, cfg, evtx...)
	sameAsReference(t, st, cfg, sigmaRules(t, cfg, ymls...))
}

// Every scenario of the generator, with the built-in pack and SigmaHQ's
// Windows rules.
func TestCompiledSigmaMatchesReferenceScenarios(t *testing.T) {
	for _, sc := range simulate.Scenarios {
		t.Run(fmt.Sprint(sc), func(t *testing.T) {
			dir := t.TempDir()
			if _, err := simulate.Run(simulate.Options{Out: dir, Scenario: sc, Seed: 5, Hosts: 6, Days: 7}); err != nil {
				t.Fatal(err)
			}
			cfg, err := caseconf.Load(filepath.Join(dir, "case.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			st := teststore.Ingest(t, cfg, filepath.Join(dir, "evidence"))
			sameAsReference(t, st, cfg, append(builtin(t, cfg), sigmaRules(t, cfg)...))
		})
	}
}
