package sigma

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Velocidex/ordereddict"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/testutil"
	"github.com/spoor-dfir/spoor/internal/tuplememo"
)

// setRules keeps the rules a Set can hold.
func setRules(rules []*rule.Rule) []*rule.Rule {
	var out []*rule.Rule
	for _, r := range rules {
		if Compiled(r) {
			out = append(out, r)
		}
	}
	return out
}

// diffSet compares the Set with each rule's own evaluation on evs and
// reports every difference; it returns the number of matches.
func diffSet(t *testing.T, rules []*rule.Rule, evs []*event.Event) int {
	t.Helper()
	set := NewSet(rules)
	m := set.NewMatcher()
	n, bad := 0, 0
	var got []int
	for _, ev := range evs {
		var want []int
		for i, r := range rules {
			if rule.Evaluate(r, ev) {
				want = append(want, i)
			}
		}
		n += len(want)
		// As decoded, and with the raw fields left as stored text (the
		// hunt's way: the set reads them without the dict).
		raw := *ev
		if ev.Fields != nil {
			b, err := event.MarshalFields(ev.Fields)
			if err != nil {
				t.Fatal(err)
			}
			raw.Fields, raw.RawFields = nil, string(b)
		}
		for _, e := range []*event.Event{ev, &raw} {
			got = m.Match(e, got[:0])
			for _, k := range got {
				if a, b := m.Summary(k, e), rules[k].Summary(ev); a != b && bad < 20 {
					bad++
					t.Errorf("%s record %d rule %s: set summary %q, rule's %q", ev.Evidence, ev.RecordID, rules[k].ID, a, b)
				}
			}
			if !slices.Equal(got, want) && bad < 20 {
				bad++
				t.Errorf("%s record %d (%s/%d, raw %v): set matched %v, rules %v", ev.Evidence, ev.RecordID, ev.Channel, ev.EventID, e.Fields == nil, ids(rules, got), ids(rules, want))
			}
		}
	}
	t.Logf("%d rules, %d events, %d matches, %d answered from memory; %s", len(rules), len(evs), n, m.Hits(), set.Stats())
	return n
}

func ids(rules []*rule.Rule, idx []int) string {
	var s []string
	for _, i := range idx {
		s = append(s, rules[i].ID)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func evtxUnder(t *testing.T, dir string) []*event.Event {
	var evs []*event.Event
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".evtx") {
			evs = append(evs, readEVTX(t, p)...)
		}
		return nil
	})
	return evs
}

// TestSetMatchesRulesOnSharedEvidence is the differential test of the
// compiled rule set: SigmaHQ's Windows rules and every regression rule,
// over the events of the regression data and of the shared samples, must
// give exactly the answers of each rule's own matcher.
func TestSetMatchesRulesOnSharedEvidence(t *testing.T) {
	rulesDir := testutil.Shared(t, "sigma", "rules", "windows")
	regDir := testutil.Shared(t, "sigma", "regression_data")
	docs := readRuleDir(t, rulesDir)
	filepath.WalkDir(regDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "rule.yml" {
			b, err := os.ReadFile(p)
			if err == nil {
				docs = append(docs, Doc{File: p, Data: b})
			}
		}
		return nil
	})
	rules, _ := Compile(docs)
	rules = setRules(rules)
	evs := evtxUnder(t, regDir)
	if dir, ok := testutil.SharedPath(t, "samples", "evtx"); ok {
		evs = append(evs, evtxUnder(t, dir)...)
	}
	if diffSet(t, rules, evs) == 0 {
		t.Fatal("no rule matched any event: the comparison proves nothing")
	}
}

// TestSetCases pins the parts of the set that shared evidence may not
// reach: folding on EventID and Channel, necessary sets under not and
// or, starts/ends/equals on one automaton, general leaves, renames.
func TestSetCases(t *testing.T) {
	rule := func(id, ls, det string) string {
		return fmt.Sprintf("title: t%s\nid: %s\nlogsource:\n%s\ndetection:\n%s", id, id, ls, det)
	}
	proc := "  category: process_creation\n  product: windows"
	sec := "  product: windows\n  service: security"
	src := []string{
		rule("eq", proc, "  sel:\n    Image: 'C:\\Windows\\cmd.exe'\n  condition: sel"),
		rule("pre", proc, "  sel:\n    CommandLine|startswith: 'cmd'\n  condition: sel"),
		rule("suf", proc, "  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel"),
		rule("con", proc, "  sel:\n    CommandLine|contains|all: ['/c', 'whoami']\n  condition: sel"),
		rule("not", proc, "  filter:\n    Image|endswith: '\\cmd.exe'\n  condition: not filter"),
		rule("or", proc, "  a:\n    CommandLine|contains: 'net '\n  b:\n    CommandLine|re: '(?i)ipconfig'\n  condition: a or b"),
		rule("eid", sec, "  sel:\n    EventID: 4688\n    NewProcessName|endswith: '\\cmd.exe'\n  condition: sel"),
		rule("eidnot", sec, "  sel:\n    EventID: 4624\n  condition: not sel"),
		rule("wild", proc, "  sel:\n    CommandLine: '*who?mi*'\n  condition: sel"),
		rule("dash", proc, "  sel:\n    CommandLine|windash|contains: ' -enc '\n  condition: sel"),
		rule("null", proc, "  sel:\n    ParentImage: null\n  sel2:\n    Image|endswith: '.exe'\n  condition: sel and sel2"),
		rule("kw", proc, "  keywords:\n    - 'mimikatz'\n  condition: keywords"),
	}
	var docs []Doc
	for i, s := range src {
		docs = append(docs, Doc{File: fmt.Sprintf("r%d.yml", i), Data: []byte(s)})
	}
	rules, errs := Compile(docs)
	for _, e := range errs {
		t.Fatal(e)
	}
	mk := func(ch string, id int32, kv ...string) *event.Event {
		ev := &event.Event{Source: event.SourceEVTX, Channel: ch, EventID: id, Fields: newDict(kv...)}
		return ev
	}
	sys := "Microsoft-Windows-Sysmon/Operational"
	evs := []*event.Event{
		mk(sys, 1, "Image", `C:\Windows\CMD.exe`, "CommandLine", "cmd /c WHOAMI", "ParentImage", `C:\x.exe`),
		mk(sys, 1, "Image", `C:\Windows\cmd.exe`, "CommandLine", "CMD"),
		mk(sys, 1, "Image", `C:\a\notepad.exe`, "CommandLine", "net  user & IPCONFIG /all"),
		mk(sys, 1, "Image", `C:\a\ps.exe`, "CommandLine", "x –enc abc mimikatz"),
		mk(sys, 1, "Image", `cmd.exe`, "CommandLine", ""),
		mk(sys, 3, "Image", `C:\Windows\cmd.exe`),
		mk("Security", 4688, "NewProcessName", `C:\Windows\System32\cmd.exe`, "CommandLine", "cmd /c whoami"),
		mk("security", 4688, "NewProcessName", `C:\Windows\System32\CMD.EXE`),
		mk("Security", 4624, "TargetUserName", "bob"),
		mk("Security", 4625, "TargetUserName", "bob"),
	}
	if diffSet(t, rules, evs) < 10 {
		t.Fatal("too few matches: the cases do not exercise the set")
	}
}

func newDict(kv ...string) *ordereddict.Dict {
	d := ordereddict.NewDict()
	for i := 0; i+1 < len(kv); i += 2 {
		d.Set(kv[i], kv[i+1])
	}
	return d
}

// TestLongValuesAreRemembered: a script block seen again is answered from
// memory, however long, and the memory stays within its byte budget.
func TestLongValuesAreRemembered(t *testing.T) {
	rules, errs := Compile([]Doc{{File: "r.yml", Data: []byte(`title: t
id: t
logsource: {product: windows, category: ps_script}
detection:
  sel: {ScriptBlockText|contains: Get-ADUser}
  condition: sel
`)}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	set := NewSet(setRules(rules))
	m := set.NewMatcher()
	script := strings.Repeat("Get-ADUser -Filter * | Select-Object Name; ", 200) // 8.6 KB
	ev := func(text string) *event.Event {
		return &event.Event{Source: event.SourceEVTX, Channel: "Microsoft-Windows-PowerShell/Operational", EventID: 4104,
			Fields: ordereddict.NewDict().Set("ScriptBlockText", text)}
	}
	for i := 0; i < 3; i++ {
		if got := m.Match(ev(script), nil); len(got) != 1 {
			t.Fatalf("match %d: %v, want the rule", i, got)
		}
	}
	if m.Hits() != 2 {
		t.Fatalf("%d answers from memory, want 2 (the second and third time)", m.Hits())
	}
	// Distinct long texts past the budget: memory starts afresh.
	for i := 0; m.memo.Bytes() < tuplememo.MaxBytes/2 && i < 10000; i++ {
		m.Match(ev(fmt.Sprint(i, strings.Repeat("x", 32<<10))), nil)
	}
	for i := 0; i < 1000; i++ {
		m.Match(ev(fmt.Sprint(i, strings.Repeat("y", 32<<10))), nil)
		if m.memo.Bytes() > tuplememo.MaxBytes {
			t.Fatalf("%d key bytes remembered, budget %d", m.memo.Bytes(), tuplememo.MaxBytes)
		}
	}
}
