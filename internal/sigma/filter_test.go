package sigma

import (
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
)

const filterRuleA = `title: Rar run
id: aaaaaaaa-0000-0000-0000-000000000001
name: rar_run
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\rar.exe'
  condition: sel
`

const filterRuleB = `title: Whoami run
id: bbbbbbbb-0000-0000-0000-000000000002
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\whoami.exe'
  condition: sel
`

const filterRuleSec = `title: Logon
id: cccccccc-0000-0000-0000-000000000003
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4624
  condition: sel
`

// jumpFilter drops rule A's matches on jump hosts (Computer is a typed
// column) and by the backup account, whose name 4688 keeps in
// SubjectUserName: the filter's User is renamed like the rule's fields.
const jumpFilter = `title: Jump hosts run rar
id: ffffffff-0000-0000-0000-000000000001
logsource:
  product: windows
  category: process_creation
filter:
  rules:
    - aaaaaaaa-0000-0000-0000-000000000001
  jump:
    Computer|startswith: 'JUMP-'
  backup:
    User|endswith: 'svc_backup'
  condition: not jump and not backup
`

func procEv(host, image, user string, sysmon bool) *event.Event {
	if sysmon {
		e := ev("Image", image, "User", user)
		e.Channel, e.EventID, e.Host = "Microsoft-Windows-Sysmon/Operational", 1, host
		return e
	}
	e := ev("NewProcessName", image, "SubjectUserName", user)
	e.Channel, e.EventID, e.Host = "Security", 4688, host
	return e
}

func compileDocs(t *testing.T, opts CompileOptions, srcs ...string) map[string]func(*event.Event) bool {
	t.Helper()
	var docs []Doc
	for i, s := range srcs {
		docs = append(docs, Doc{File: "f" + string(rune('0'+i)) + ".yml", Data: []byte(s)})
	}
	rules, errs := CompileWith(docs, opts)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	out := map[string]func(*event.Event) bool{}
	for _, r := range rules {
		out[r.ID[:8]] = r.Match
	}
	return out
}

func TestFilterInBatch(t *testing.T) {
	m := compileDocs(t, CompileOptions{}, filterRuleA, filterRuleB, jumpFilter)
	if len(m) != 2 {
		t.Fatalf("a filter is not a rule: got %d rules", len(m))
	}
	for _, c := range []struct {
		name  string
		ev    *event.Event
		a, b  bool
		which string
	}{
		{"rar on a workstation", procEv("WS-1", `C:\rar.exe`, `CORP\bob`, true), true, false, ""},
		{"rar on a jump host", procEv("JUMP-02", `C:\rar.exe`, `CORP\bob`, true), false, false, ""},
		{"rar by the backup account", procEv("WS-1", `C:\rar.exe`, `CORP\svc_backup`, true), false, false, ""},
		{"rar by the backup account, 4688", procEv("WS-1", `C:\rar.exe`, "svc_backup", false), false, false, ""},
		{"rar by bob, 4688", procEv("WS-1", `C:\rar.exe`, "bob", false), true, false, ""},
		// The filter names rule A only.
		{"whoami on a jump host", procEv("JUMP-02", `C:\whoami.exe`, `CORP\bob`, true), false, true, ""},
	} {
		if got := m["aaaaaaaa"](c.ev); got != c.a {
			t.Errorf("%s: rule A %v, want %v", c.name, got, c.a)
		}
		if got := m["bbbbbbbb"](c.ev); got != c.b {
			t.Errorf("%s: rule B %v, want %v", c.name, got, c.b)
		}
	}
}

func TestFilterFromOtherFilesAnyAndName(t *testing.T) {
	anyFilter := strings.Replace(jumpFilter, "  rules:\n    - aaaaaaaa-0000-0000-0000-000000000001\n", "  rules: any\n", 1)
	byName := strings.Replace(jumpFilter, "aaaaaaaa-0000-0000-0000-000000000001", "rar_run", 1)
	// A filter of another logsource leaves process_creation rules alone.
	otherLs := strings.Replace(anyFilter, "category: process_creation", "service: security", 1)
	jump := procEv("JUMP-1", `C:\whoami.exe`, "x", true)
	jumpRar := procEv("JUMP-1", `C:\rar.exe`, "x", true)
	for _, c := range []struct {
		name         string
		filter       string
		rarA, whoamB bool
	}{
		{"rules: any", anyFilter, false, false},
		{"by name", byName, false, true},
		{"other logsource", otherLs, true, true},
	} {
		fs, errs := ParseFilters([]Doc{{File: "tune.yml", Data: []byte(c.filter)}}, CompileOptions{})
		if len(errs) > 0 || len(fs) != 1 {
			t.Fatalf("%s: %v", c.name, errs)
		}
		m := compileDocs(t, CompileOptions{Filters: fs}, filterRuleA, filterRuleB, filterRuleSec)
		if got := m["aaaaaaaa"](jumpRar); got != c.rarA {
			t.Errorf("%s: rule A on a jump host %v, want %v", c.name, got, c.rarA)
		}
		if got := m["bbbbbbbb"](jump); got != c.whoamB {
			t.Errorf("%s: rule B on a jump host %v, want %v", c.name, got, c.whoamB)
		}
	}
}

func TestFilteredRulesInTheSet(t *testing.T) {
	var docs []Doc
	for i, s := range []string{filterRuleA, filterRuleB, jumpFilter} {
		docs = append(docs, Doc{File: "s" + string(rune('0'+i)) + ".yml", Data: []byte(s)})
	}
	rules, errs := Compile(docs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var evs []*event.Event
	for _, host := range []string{"WS-1", "JUMP-1", "jump-2"} {
		for _, img := range []string{`C:\rar.exe`, `C:\whoami.exe`} {
			for _, user := range []string{`CORP\bob`, `CORP\SVC_BACKUP`} {
				evs = append(evs, procEv(host, img, user, true), procEv(host, img, user[5:], false))
			}
		}
	}
	if n := diffSet(t, rules, evs); n != 2+12 {
		// rar: bob on WS-1 (Sysmon and 4688); whoami: everywhere.
		t.Errorf("%d matches, want 14", n)
	}
}

func TestFilterErrors(t *testing.T) {
	for name, c := range map[string]struct{ src, want string }{
		"no condition":   {"title: f\nlogsource:\n  product: windows\nfilter:\n  rules: [x]\n  sel:\n    F: 1\n", "bad.yml:5:3: filter \"f\": no condition"},
		"bad modifier":   {"title: f\nlogsource:\n  product: windows\nfilter:\n  sel:\n    F|nope: 1\n  condition: not sel\n", "bad.yml:6:"},
		"unknown ident":  {"title: f\nlogsource:\n  product: windows\nfilter:\n  sel:\n    F: 1\n  condition: not other\n", "bad.yml:7:"},
		"no title":       {"logsource:\n  product: windows\nfilter:\n  sel:\n    F: 1\n  condition: not sel\n", "bad.yml:1:1: filter has no title"},
		"no logsource":   {"title: f\nfilter:\n  sel:\n    F: 1\n  condition: not sel\n", "no logsource"},
		"rules not list": {"title: f\nlogsource:\n  product: windows\nfilter:\n  rules: {a: b}\n  sel:\n    F: 1\n  condition: not sel\n", "bad.yml:5:10:"},
		"placeholder":    {"title: f\nlogsource:\n  product: windows\nfilter:\n  sel:\n    F|expand: '%servers%'\n  condition: not sel\n", "set servers in the case config"},
	} {
		t.Run(name, func(t *testing.T) {
			rules, errs := Compile([]Doc{{File: "bad.yml", Data: []byte(c.src)}, {File: "r.yml", Data: []byte(filterRuleA)}})
			if len(rules) != 1 {
				t.Errorf("the rule beside a broken filter must load: %d rules", len(rules))
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want) {
				t.Errorf("errors %v, want one with %q", errs, c.want)
			}
		})
	}
}

func TestIsFilter(t *testing.T) {
	if !IsFilter([]byte(jumpFilter)) || !IsFilter([]byte(jumpFilter+"---\n"+jumpFilter)) {
		t.Error("filter file not recognised")
	}
	if IsFilter([]byte(filterRuleA)) || IsFilter([]byte(jumpFilter+"---\n"+filterRuleA)) || IsFilter([]byte("filter: [")) {
		t.Error("a rule file (or a mixed or broken one) taken for a filter file")
	}
}
