package sqlexport

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule/ruleset"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// TestDuckDBValueMapsAndFilters: a process_creation rule on Sysmon's
// IntegrityLevel names matches Security 4688's mandatory label SIDs on
// DuckDB exactly as in the hunt, and a rule tuned by a Sigma filter is
// listed as not expressible instead of exported without its filter.
func TestDuckDBValueMapsAndFilters(t *testing.T) {
	testutil.DuckDB(t, "SELECT 1")
	rulesDir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(rulesDir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ls := "logsource:\n  product: windows\n  category: process_creation\n"
	write("high.yml", "title: High\nid: il-high\n"+ls+"detection:\n  sel:\n    IntegrityLevel: [High, System]\n    Image|endswith: '.exe'\n  condition: sel\n")
	write("medium_sid.yml", "title: Medium by SID\nid: il-medium-sid\n"+ls+"detection:\n  sel:\n    IntegrityLevel|startswith: 'S-1-16-8192'\n  condition: sel\n")
	write("tuned.yml", "title: Tuned\nid: tuned\n"+ls+"detection:\n  sel:\n    Image|endswith: '\\rar.exe'\n  condition: sel\n")
	write("mf_tune.yml", "title: No rar on jump hosts\n"+ls+"filter:\n  rules: [tuned]\n  jump:\n    Computer|startswith: JUMP-\n  condition: not jump\n")

	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := st.NewEventWriter("part-values")
	tm, _ := time.Parse(time.RFC3339, "2026-01-05T10:00:00Z")
	off := int64(0)
	for _, level := range [][2]string{{"High", "S-1-16-12288"}, {"System", "S-1-16-16384"}, {"Medium", "S-1-16-8192"}, {"Low", "S-1-16-4096"}} {
		for _, img := range []string{`C:\x\rar.exe`, `C:\x\notepad.exe`} {
			off++
			sysmon := &event.Event{Time: tm, Source: event.SourceEVTX, Format: "evtx", Host: "WS1", Channel: "Microsoft-Windows-Sysmon/Operational", EventID: 1,
				RecordID: off, Evidence: "values.evtx", Offset: off}
			sysmon.Fields = mustFields(t, fmt.Sprintf(`{"Image":%q,"IntegrityLevel":%q}`, img, level[0]))
			off++
			sec := &event.Event{Time: tm, Source: event.SourceEVTX, Format: "evtx", Host: "JUMP-1", Channel: "Security", EventID: 4688,
				RecordID: off, Evidence: "values.evtx", Offset: off}
			sec.Fields = mustFields(t, fmt.Sprintf(`{"NewProcessName":%q,"MandatoryLabel":%q}`, img, level[1]))
			for _, ev := range []*event.Event{sysmon, sec} {
				if err := w.Write(ev); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	rules, errs := ruleset.LoadWith(nil, ruleset.Options{Paths: []string{rulesDir}})
	if len(errs) > 0 || len(rules) != 3 {
		t.Fatalf("%d rules, %v", len(rules), errs)
	}
	ex := Compile(DuckDB, nil, rules, os.ReadFile)
	exported := map[string]bool{}
	for _, r := range ex.Rules {
		exported[r.ID] = true
	}
	if !exported["il-high"] || !exported["il-medium-sid"] || exported["tuned"] {
		t.Fatalf("exported %v", exported)
	}
	if len(ex.Skipped) != 1 || !strings.Contains(ex.Skipped[0].Reason, "tuned by Sigma filters") || !strings.Contains(ex.Skipped[0].Reason, "mf_tune.yml:1 No rar on jump hosts") {
		t.Errorf("skipped %+v", ex.Skipped)
	}
	hunted := huntMatches(t, st, nil, rules, exported)
	differ(t, "values", hunted, sqlMatches(t, ex, dir))
	n4688 := 0
	for m := range hunted {
		if m.rule == "il-high" && m.offset%2 == 0 {
			n4688++
		}
	}
	// High and System, two images each, on 4688.
	if n4688 != 4 {
		t.Errorf("il-high matched %d 4688 events, want 4", n4688)
	}
}
