package ruleset

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
)

func TestLoadMixesBuiltinSpoorAndSigma(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "override.yml"), []byte("id: user-account-created\ntitle: Tuned\nseverity: low\ncondition: event_id == 4720 && user != \"IEUser\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "sigma.yml"), []byte(`title: Whoami
id: 0f0c2d1e-1b2c-4d5e-8f90-123456789abc
logsource:
  category: process_creation
  product: windows
detection:
  sel:
    Image|endswith: '\whoami.exe'
  condition: sel
level: medium
`), 0o644)
	rs, errs := Load(nil, []string{dir}, true)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	byID := map[string]*rule.Rule{}
	for _, r := range rs {
		if byID[r.ID] != nil {
			t.Errorf("rule %s twice", r.ID)
		}
		byID[r.ID] = r
	}
	if r := byID["user-account-created"]; r == nil || r.Title != "Tuned" {
		t.Errorf("user rule did not replace the built-in one: %+v", r)
	}
	if byID["provider-logon-off-hours"] == nil {
		t.Error("built-in rules missing")
	}
	s := byID["0f0c2d1e-1b2c-4d5e-8f90-123456789abc"]
	if s == nil || s.Kind != rule.KindSigma {
		t.Fatalf("sigma rule not loaded: %+v", s)
	}
	ev := &event.Event{Source: "evtx", Channel: "Microsoft-Windows-Sysmon/Operational", EventID: 1,
		Process: `C:\Windows\System32\whoami.exe`, Fields: ordereddict.NewDict().Set("Image", `C:\Windows\System32\whoami.exe`)}
	if !rule.Evaluate(s, ev) {
		t.Error("sigma rule does not match its event")
	}
	only, _ := Load(nil, []string{dir}, false)
	if len(only) != 2 {
		t.Errorf("without built-ins: %d rules, want 2", len(only))
	}
}

// shippedID is a rule of the shipped SigmaHQ pack (Script Interpreter
// Execution From Suspicious Folder).
const shippedID = "1228c958-e64e-4e71-92ad-7d429f4138ba"

func TestShippedSigmaPack(t *testing.T) {
	rs, errs := LoadWith(nil, Options{Builtin: true, Sigma: true})
	if len(errs) > 0 {
		t.Fatalf("%d load errors, first: %v", len(errs), errs[0])
	}
	nSigma := 0
	for _, r := range rs {
		switch r.Kind {
		case rule.KindSigma, rule.KindCorrelation:
			nSigma++
			if r.License != LicenseSigma || !strings.HasPrefix(r.Source, "SigmaHQ ") || !strings.HasPrefix(r.File, "rules/sigma/windows/") {
				t.Fatalf("sigma rule %s: source %q licence %q file %q", r.ID, r.Source, r.License, r.File)
			}
		default:
			if r.Source != SourceSpoor || r.License != LicenseSpoor {
				t.Fatalf("spoor rule %s: source %q licence %q", r.ID, r.Source, r.License)
			}
		}
	}
	if nSigma < 2000 {
		t.Errorf("%d Sigma rules loaded, want the whole Windows pack", nSigma)
	}
	var r *rule.Rule
	for _, x := range rs {
		if x.ID == shippedID {
			r = x
		}
	}
	if r == nil || r.Author == "" || r.Severity != event.SevHigh {
		t.Fatalf("shipped rule %s: %+v", shippedID, r)
	}
	if f := rule.NewFinding(r, &event.Event{}); !strings.Contains(f.Reason, "rule by "+r.Author) || !strings.Contains(f.Reason, LicenseSigma) {
		t.Errorf("a shipped Sigma rule's finding does not name its authors and licence: %q", f.Reason)
	}
	off, _ := LoadWith(nil, Options{Builtin: true})
	for _, x := range off {
		if x.Kind == rule.KindSigma {
			t.Fatal("Sigma rule loaded without Options.Sigma")
		}
	}
}

func TestUserRuleReplacesShippedSigmaRule(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tuned.yml"), []byte(`title: Tuned interpreter rule
id: `+shippedID+`
status: test
logsource:
  category: process_creation
  product: windows
detection:
  sel:
    Image|endswith: '\tuned.exe'
  condition: sel
level: low
`), 0o644)
	for _, o := range []Options{{Sigma: true, Paths: []string{dir}}, {Sigma: true, UserDir: dir}} {
		rs, errs := LoadWith(nil, o)
		if len(errs) > 0 {
			t.Fatal(errs[0])
		}
		n := 0
		for _, r := range rs {
			if r.ID == shippedID {
				n++
				if r.Title != "Tuned interpreter rule" || r.Severity != event.SevLow {
					t.Errorf("%+v: shipped rule not replaced: %q %s", o, r.Title, r.Severity)
				}
			}
		}
		if n != 1 {
			t.Errorf("%+v: rule %s loaded %d times", o, shippedID, n)
		}
	}
}

func TestStatusFilter(t *testing.T) {
	dir := t.TempDir()
	for i, st := range []string{"stable", "test", "experimental", "deprecated", "unsupported", ""} {
		status := ""
		if st != "" {
			status = "status: " + st + "\n"
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%d.yml", i)), []byte(fmt.Sprintf(`title: R%d
id: 00000000-0000-0000-0000-00000000000%d
%slogsource:
  category: process_creation
  product: windows
detection:
  sel:
    Image|endswith: '\x.exe'
  condition: sel
level: medium
`, i, i, status)), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "notes.yml"), []byte("just: notes\n"), 0o644)
	rs, errs := LoadWith(nil, Options{UserDir: dir, Sigma: true})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := map[string]bool{}
	for _, r := range rs {
		if strings.HasPrefix(r.ID, "00000000-") {
			got[r.Title] = true
		}
	}
	want := map[string]bool{"R0": true, "R1": true, "R2": true, "R5": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("user folder loaded %v, want %v (deprecated and unsupported left out)", got, want)
	}
	// Rules the user names explicitly load whatever their status.
	rs, _ = LoadWith(nil, Options{Paths: []string{filepath.Join(dir, "r3.yml")}})
	if len(rs) != 1 {
		t.Errorf("explicit deprecated rule: %d rules loaded, want 1", len(rs))
	}
}

// TestFilterFileTunesShippedRule loads a Sigma filter file given as a
// path: it tunes a rule of another layer (the shipped SigmaHQ pack).
func TestFilterFileTunesShippedRule(t *testing.T) {
	const whoamiOutput = "c30fb093-1109-4dc8-88a8-b30d11c95a5d"
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mf_jump_hosts.yml"), []byte(`title: Jump hosts list accounts as CSV
logsource:
  product: windows
  category: process_creation
filter:
  rules:
    - `+whoamiOutput+`
  jump:
    Computer|startswith: 'JUMP-'
  condition: not jump
`), 0o644)
	mk := func(host string) *event.Event {
		d := ordereddict.NewDict()
		d.Set("Image", `C:\Windows\System32\whoami.exe`)
		d.Set("CommandLine", `whoami /groups /FO CSV`)
		return &event.Event{Source: event.SourceEVTX, Channel: "Microsoft-Windows-Sysmon/Operational", EventID: 1, Host: host, Fields: d}
	}
	for _, c := range []struct {
		opts Options
		jump bool
	}{
		{Options{Sigma: true}, true},
		{Options{Sigma: true, Paths: []string{dir}}, false},
		{Options{Sigma: true, Paths: []string{filepath.Join(dir, "mf_jump_hosts.yml")}}, false},
	} {
		rs, errs := LoadWith(nil, c.opts)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		var r *rule.Rule
		for _, x := range rs {
			if x.ID == whoamiOutput {
				r = x
			}
		}
		if r == nil {
			t.Fatalf("%v: shipped rule %s not loaded", c.opts.Paths, whoamiOutput)
		}
		if !rule.Evaluate(r, mk("WS-7")) {
			t.Errorf("%v: no match on a workstation", c.opts.Paths)
		}
		if got := rule.Evaluate(r, mk("JUMP-1")); got != c.jump {
			t.Errorf("%v: match on a jump host %v, want %v", c.opts.Paths, got, c.jump)
		}
	}
}

// TestCasePlaceholdersReachSigma loads a Sigma rule with a case
// placeholder: with the case it compiles to the case's accounts,
// without them the load error names the file, line and case key.
func TestCasePlaceholdersReachSigma(t *testing.T) {
	dir := t.TempDir()
	ruleFile := filepath.Join(dir, "msp_logon.yml")
	os.WriteFile(ruleFile, []byte(`title: Provider account logon
id: 5e1c0000-0000-4000-8000-000000000001
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4624
    TargetUserName|expand: '%provider_accounts%'
  condition: sel
`), 0o644)
	cfg, err := caseconf.Parse("case.yaml", []byte("name: t\nproviders:\n  - name: msp\n    accounts: ['msp-*', 'MSP\\*']\n"))
	if err != nil {
		t.Fatal(err)
	}
	logon := func(user string) *event.Event {
		d := ordereddict.NewDict()
		d.Set("TargetUserName", user)
		return &event.Event{Source: event.SourceEVTX, Channel: "Security", EventID: 4624, Fields: d}
	}
	rs, errs := LoadWith(cfg, Options{Paths: []string{dir}})
	if len(errs) > 0 || len(rs) != 1 {
		t.Fatalf("with the case: %d rules, %v", len(rs), errs)
	}
	if !rule.Evaluate(rs[0], logon("MSP-Admin")) || !rule.Evaluate(rs[0], logon(`msp\tech`)) || rule.Evaluate(rs[0], logon("alice")) {
		t.Error("placeholder values not applied as the case's globs")
	}
	for _, c := range []*caseconf.Config{nil, caseconf.Default()} {
		rs, errs = LoadWith(c, Options{Paths: []string{dir}})
		if len(rs) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), ruleFile+":9:") || !strings.Contains(errs[0].Error(), "set providers[].accounts in the case config") {
			t.Errorf("without provider accounts: %d rules, errors %v", len(rs), errs)
		}
	}
}

// BenchmarkLoadDefault loads the default pack (spoor's rules and the
// shipped SigmaHQ rules), as every hunt does first.
func BenchmarkLoadDefault(b *testing.B) {
	for b.Loop() {
		rs, errs := LoadWith(nil, Options{Builtin: true, Sigma: true})
		if len(errs) > 0 || len(rs) < 2000 {
			b.Fatalf("%d rules, %v", len(rs), errs)
		}
	}
}
