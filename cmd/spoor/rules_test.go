package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/ingest"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

func runMain(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// copyRules copies the built-in rule files to a temporary folder.
func copyRules(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testutil.RepoRoot(t), "rules")
	dst := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(src, "*.yml"))
	if len(files) == 0 {
		t.Fatal("no rule files in rules/")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestRulesTestBuiltinPasses(t *testing.T) {
	code, out, errOut := runMain("rules", "test", filepath.Join(testutil.RepoRoot(t), "rules"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "ok    provider-logon-off-hours") || strings.Contains(out, "FAIL") {
		t.Errorf("unexpected output:\n%s", out)
	}
	// Without PATH: the embedded pack, same result.
	if code, out2, _ := runMain("rules", "test"); code != 0 || out2 != out {
		t.Errorf("embedded pack: exit %d, output differs from rules/:\n%s", code, out2)
	}
}

func TestRulesTestFailsOnBrokenRule(t *testing.T) {
	dir := copyRules(t)
	p := filepath.Join(dir, "tampering.yml")
	data, _ := os.ReadFile(p)
	broken := strings.Replace(string(data), "event_id == 1102 &&", "event_id == 1103 &&", 1)
	if broken == string(data) {
		t.Fatal("mutation not applied")
	}
	os.WriteFile(p, []byte(broken), 0o644)
	code, out, _ := runMain("rules", "test", dir)
	if code != exitError || !strings.Contains(out, "FAIL  event-log-cleared") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestRulesLintReportsPositions(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "typo.yml"), []byte("id: t\ntitle: T\nseverity: low\ncondition: event_id == 4720 && usr == \"x\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("id: b\ntitle: [oops\n"), 0o644)
	code, _, errOut := runMain("rules", "lint", dir)
	if code != exitError {
		t.Errorf("lint exit %d, want %d", code, exitError)
	}
	if !regexp.MustCompile(`typo\.yml:4:32: condition: unknown name usr`).MatchString(errOut) {
		t.Errorf("misspelt field without file:line:col:\n%s", errOut)
	}
	if !regexp.MustCompile(`bad\.yaml:\d+:\d+: `).MatchString(errOut) {
		t.Errorf("bad YAML without file:line:col:\n%s", errOut)
	}
	caseFile := filepath.Join(dir, "case.yaml")
	os.WriteFile(caseFile, []byte("timezone: Europe/Berlin\nprovider:\n  - name: x\n"), 0o644)
	code, _, errOut = runMain("rules", "lint", "--case", caseFile)
	if code == 0 || !strings.Contains(errOut, "case.yaml:2:1: unknown key \"provider\"") {
		t.Errorf("case file with unknown key: exit %d\n%s", code, errOut)
	}
	if code, _, _ := runMain("rules", "lint"); code != 0 {
		t.Errorf("lint of the built-in pack: exit %d", code)
	}
}

func TestRulesListJSONL(t *testing.T) {
	code, out, _ := runMain("rules", "list", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 10 {
		t.Fatalf("%d rules listed", len(lines))
	}
	kinds := map[string]bool{}
	for _, l := range lines {
		var r struct{ ID, Title, Kind, Severity, File string }
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.ID == "" || r.File == "" {
			t.Fatalf("bad line %q: %v", l, err)
		}
		kinds[r.Kind] = true
	}
	if !kinds["spoor"] || !kinds["threshold"] || !kinds["analyzer"] {
		t.Errorf("kinds %v", kinds)
	}
}

func TestHuntFailOn(t *testing.T) {
	sample := testutil.Shared(t, "samples/evtx/deepbluecli/new-user-security.evtx")
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), ingest.Options{Store: st, Paths: []string{sample}, Parsers: []input.Parser{evtx.New()}}); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runMain("hunt", "--store", dir, "--no-analyzers", "--fail-on", "high")
	if code != exitFindings || !regexp.MustCompile(`hunt: 4 events, \d+ rules, \d+ findings \(critical 0, high 1, `).MatchString(errOut) {
		t.Errorf("--fail-on high: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runMain("hunt", "--store", dir, "--no-analyzers", "--fail-on", "critical"); code != 0 {
		t.Errorf("--fail-on critical: exit %d\n%s", code, errOut)
	}
	if code, _, _ := runMain("hunt", "--store", dir, "--fail-on", "severe"); code != exitUsage {
		t.Errorf("bad --fail-on: exit %d, want %d", code, exitUsage)
	}
}

// TestRulesLintCasePlaceholder lints a Sigma rule written with a case
// placeholder: it loads under a case that fills it, and without one the
// error names file:line:col and the case key.
func TestRulesLintCasePlaceholder(t *testing.T) {
	dir := t.TempDir()
	ruleFile := filepath.Join(dir, "provider_logon.yml")
	os.WriteFile(ruleFile, []byte(`title: Provider account logon
id: 5e1c0000-0000-4000-8000-000000000002
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4624
    TargetUserName|expand: '%provider_accounts%'
  condition: sel
`), 0o644)
	caseFile := filepath.Join(t.TempDir(), "case.yaml")
	os.WriteFile(caseFile, []byte("name: t\nproviders:\n  - name: msp\n    accounts: ['msp-*']\n"), 0o644)
	if code, out, errOut := runMain("rules", "lint", "--case", caseFile, dir); code != 0 {
		t.Errorf("lint --case: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut := runMain("rules", "lint", dir)
	if code != exitError || !strings.Contains(errOut, ruleFile+":9:") || !strings.Contains(errOut, "%provider_accounts% has no value: set providers[].accounts in the case config") {
		t.Errorf("lint without a case: exit %d\n%s", code, errOut)
	}
}

// TestHuntSigmaMapping hunts real Security events with a Sigma rule of a
// logsource only a --sigma-mapping file defines (with a field rename).
func TestHuntSigmaMapping(t *testing.T) {
	sample := testutil.Shared(t, "samples/evtx/deepbluecli/new-user-security.evtx")
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), ingest.Options{Store: st, Paths: []string{sample}, Parsers: []input.Parser{evtx.New()}}); err != nil {
		t.Fatal(err)
	}
	rulesDir := t.TempDir()
	os.WriteFile(filepath.Join(rulesDir, "account_made.yml"), []byte(`title: Account made
id: 5e1c0000-0000-4000-8000-000000000003
level: high
logsource:
  product: windows
  service: account_admin
detection:
  sel:
    NewAccount|exists: true
  condition: sel
`), 0o644)
	mapping := filepath.Join(t.TempDir(), "mapping.yaml")
	os.WriteFile(mapping, []byte("logsources:\n  - product: windows\n    service: account_admin\n    sources:\n      - channel: Security\n        event_ids: [4720]\n        fields: {NewAccount: TargetUserName}\n"), 0o644)
	summary := regexp.MustCompile(`hunt: \d+ events, (\d+) rules, (\d+) findings`)
	hunt := func(args ...string) (int, string, []string) {
		code, _, errOut := runMain(append([]string{"hunt", "--store", dir, "--no-builtin", "--no-analyzers", "--rules", rulesDir}, args...)...)
		return code, errOut, summary.FindStringSubmatch(errOut)
	}
	code, errOut, m := hunt()
	if code != 0 || m == nil || m[1] != "0" || !strings.Contains(errOut, "no logsource mapping for product=windows category= service=account_admin") {
		t.Errorf("without the mapping: exit %d\n%s", code, errOut)
	}
	code, errOut, m = hunt("--sigma-mapping", mapping)
	if code != 0 || m == nil || m[1] != "1" || m[2] == "0" || strings.Contains(errOut, "rule:") {
		t.Errorf("with the mapping: exit %d\n%s", code, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("logsources:\n  - product: windows\n    service: account_admin\n    sources:\n      - event_ids: [4720]\n"), 0o644)
	if code, errOut, _ := hunt("--sigma-mapping", bad); code == 0 || !strings.Contains(errOut, bad+":5:9: logsource entry 1") {
		t.Errorf("bad mapping file: exit %d\n%s", code, errOut)
	}
}
