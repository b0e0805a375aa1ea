package sigma

import (
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// TestWindowsRulesLoad is acceptance 1: at least 99% of SigmaHQ's Windows
// rules load, and every failure names its file and reason.
func TestWindowsRulesLoad(t *testing.T) {
	dir := testutil.Shared(t, "sigma", "rules", "windows")
	docs := readRuleDir(t, dir)
	rules, errs := Compile(docs)
	total := len(rules) + len(errs)
	t.Logf("%d files, %d rules loaded, %d failed", len(docs), len(rules), len(errs))
	for _, e := range errs {
		t.Logf("not loaded: %v", e)
		if !strings.Contains(e.Error(), ".yml") {
			t.Errorf("error does not name its file: %v", e)
		}
	}
	if total == 0 || float64(len(rules)) < 0.99*float64(total) {
		t.Fatalf("only %d of %d rules loaded (need 99%%)", len(rules), total)
	}
	seen := map[string]string{}
	for _, r := range rules {
		if r.ID == "" || r.Match == nil || r.Summary == nil {
			t.Errorf("%s: incomplete rule %+v", r.File, r)
		}
		if prev, dup := seen[r.ID]; dup {
			t.Errorf("duplicate id %s in %s and %s", r.ID, prev, r.File)
		}
		seen[r.ID] = r.File
	}
}

// BenchmarkLoadWindowsRules measures compiling the whole Windows set
// (acceptance: under 5 s).
func BenchmarkLoadWindowsRules(b *testing.B) {
	dir := testutil.Shared(b, "sigma", "rules", "windows")
	docs := readRuleDir(b, dir)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rules, _ := Compile(docs)
		if len(rules) == 0 {
			b.Fatal("no rules")
		}
	}
	b.ReportMetric(float64(len(docs)), "files")
}

// TestWindowsRulesThroughLoader loads the Windows set the way spoor rules
// list and spoor hunt do (rule.LoadPaths with this package's compiler):
// every file must be taken for Sigma, and at least 99% must load.
func TestWindowsRulesThroughLoader(t *testing.T) {
	dir := testutil.Shared(t, "sigma", "rules", "windows")
	cfg := caseconf.Default()
	start := time.Now()
	rules, errs := rule.LoadPaths(cfg, []string{dir}, Compiler(CompileOptions{Placeholders: CasePlaceholders(cfg)}))
	took := time.Since(start)
	t.Logf("%d rules, %d errors, %v", len(rules), len(errs), took)
	for _, e := range errs {
		t.Logf("not loaded: %v", e)
	}
	total := len(rules) + len(errs)
	if float64(len(rules)) < 0.99*float64(total) {
		t.Fatalf("only %d of %d loaded", len(rules), total)
	}
	for _, r := range rules {
		if r.Kind != rule.KindSigma && r.Kind != rule.KindCorrelation {
			t.Errorf("%s: %s loaded as %s", r.File, r.ID, r.Kind)
		}
	}
}
