package ruleset

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/Velocidex/ordereddict"

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
