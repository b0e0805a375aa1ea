package sigma

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
)

const procRule = `title: Whoami
id: 11111111-0000-0000-0000-000000000001
level: high
tags: [attack.discovery, attack.t1033]
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\whoami.exe'
    User|contains: admin
  condition: sel
`

func TestProcessCreationMapping(t *testing.T) {
	rules, errs := Compile([]Doc{{File: "p.yml", Data: []byte(procRule)}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	r := rules[0]
	if r.ID != "11111111-0000-0000-0000-000000000001" || r.Severity != "high" || r.Kind != rule.KindSigma || r.Line != 1 || r.File != "p.yml" {
		t.Errorf("metadata: %+v", r)
	}
	if !slices.Equal(r.Tags, []string{"attack.discovery", "attack.t1033"}) {
		t.Errorf("tags %v", r.Tags)
	}
	if !slices.Equal(r.Filter.EventIDs, []int32{1, 4688}) || len(r.Filter.Channels) != 2 {
		t.Errorf("filter %+v", r.Filter)
	}
	sysmon := ev("Image", `C:\Windows\System32\whoami.exe`, "User", `CORP\admin`)
	sysmon.Channel, sysmon.EventID = "Microsoft-Windows-Sysmon/Operational", 1
	security := ev("NewProcessName", `C:\Windows\System32\whoami.exe`, "SubjectUserName", "admin")
	security.Channel, security.EventID = "Security", 4688
	// A Security 4688 event whose raw "Image" would match must not: on
	// Security, Image means NewProcessName.
	wrongField := ev("Image", `C:\Windows\System32\whoami.exe`, "SubjectUserName", "admin", "NewProcessName", `C:\x.exe`)
	wrongField.Channel, wrongField.EventID = "Security", 4688
	otherEvent := ev("Image", `C:\Windows\System32\whoami.exe`, "User", `admin`)
	otherEvent.Channel, otherEvent.EventID = "Microsoft-Windows-Sysmon/Operational", 3
	for name, c := range map[string]struct {
		ev   *event.Event
		want bool
	}{
		"sysmon 1": {sysmon, true}, "security 4688": {security, true},
		"security raw Image": {wrongField, false}, "sysmon 3": {otherEvent, false},
	} {
		if got := r.Match(c.ev); got != c.want {
			t.Errorf("%s: match %v, want %v", name, got, c.want)
		}
	}
	if s := r.Summary(security); s != `Whoami: Image=C:\Windows\System32\whoami.exe, User=admin` {
		t.Errorf("summary %q", s)
	}
}

func TestLogsourceErrorsAndExtension(t *testing.T) {
	src := "title: t\nid: x\nlogsource:\n  product: windows\n  service: mysvc\ndetection:\n  sel:\n    F: 1\n  condition: sel\n"
	_, errs := Compile([]Doc{{File: "l.yml", Data: []byte(src)}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "l.yml:4:") || !strings.Contains(errs[0].Error(), "no logsource mapping") {
		t.Fatalf("want a logsource error at l.yml:4, got %v", errs)
	}
	ls, err := LoadLogsources("extra.yaml", []byte("logsources:\n  - product: windows\n    service: mysvc\n    sources:\n      - channel: My/Operational\n        event_ids: [7]\n        fields: {F: Raw}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rules, errs := CompileWith([]Doc{{File: "l.yml", Data: []byte(src)}}, CompileOptions{Logsources: ls})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := ev("Raw", "1")
	e.Channel, e.EventID = "my/operational", 7
	if !rules[0].Match(e) {
		t.Error("extended mapping: no match")
	}
	// The extension did not change the built-in table.
	if _, ok := DefaultLogsources().resolve("windows", "", "mysvc"); ok {
		t.Error("LoadLogsources modified the default mapping")
	}
	if _, err := ParseLogsources("bad.yaml", []byte("logsources:\n  - product: windows\n    sources: []\n")); err == nil {
		t.Error("entry without category/service accepted")
	}
	if _, err := ParseLogsources("bad.yaml", []byte("logsources:\n  - service: x\n    sourcez: []\n")); err == nil || !strings.Contains(err.Error(), "bad.yaml:3") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestBuiltinLogsources(t *testing.T) {
	ls := DefaultLogsources()
	for _, c := range []struct {
		cat, svc, channel string
		id                int32
	}{
		{"ps_script", "", "Microsoft-Windows-PowerShell/Operational", 4104},
		{"ps_module", "", "Microsoft-Windows-PowerShell/Operational", 4103},
		{"ps_classic_start", "", "Windows PowerShell", 400},
		{"network_connection", "", "Microsoft-Windows-Sysmon/Operational", 3},
		{"registry_set", "", "Microsoft-Windows-Sysmon/Operational", 13},
		{"file_event", "", "Microsoft-Windows-Sysmon/Operational", 11},
		{"dns_query", "", "Microsoft-Windows-Sysmon/Operational", 22},
		{"image_load", "", "Microsoft-Windows-Sysmon/Operational", 7},
		{"", "security", "Security", 0},
		{"", "system", "System", 0},
	} {
		srcs, ok := ls.resolve("windows", c.cat, c.svc)
		if !ok || srcs[0].Channel != c.channel || (c.id != 0 && !slices.Contains(srcs[0].EventIDs, c.id)) {
			t.Errorf("%s%s: %+v", c.cat, c.svc, srcs)
		}
	}
}

func TestMultiDocument(t *testing.T) {
	src := `action: global
title: Base
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4720
  condition: sel
level: low
---
id: a
title: First
---
id: b
detection:
  sel:
    EventID: 4726
---
action: repeat
id: c
title: Repeated
---
action: reset
---
id: d
title: Alone
logsource:
  product: windows
  service: system
detection:
  sel:
    EventID: 7045
  condition: sel
`
	rules, errs := Compile([]Doc{{File: "m.yml", Data: []byte(src)}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, r := range rules {
		got = append(got, r.ID+"/"+r.Title+"/"+r.Severity)
	}
	want := []string{"a/First/low", "b/Base/low", "c/Repeated/low", "d/Alone/medium"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	e := &event.Event{Channel: "Security", EventID: 4726}
	if rules[0].Match(e) || !rules[1].Match(e) || !rules[2].Match(e) {
		t.Error("global merge: detection not overridden per document")
	}
}
func TestSyntaxErrorNamesFile(t *testing.T) {
	_, errs := Compile([]Doc{{File: "broken.yml", Data: []byte("title: x\ndetection:\n  sel: [a\n")}})
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "broken.yml:") {
		t.Fatalf("got %v", errs)
	}
	_, errs = Compile([]Doc{{File: "lvl.yml", Data: []byte("title: x\nid: y\nlevel: severe\nlogsource: {product: windows}\ndetection: {sel: {A: 1}, condition: sel}\n")}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "lvl.yml:3:") {
		t.Fatalf("got %v", errs)
	}
}

func FuzzCompile(f *testing.F) {
	f.Add([]byte(procRule))
	f.Add([]byte("title: t\nid: x\nlogsource: {product: windows}\ndetection:\n  sel:\n    F|base64offset|contains: abc\n  condition: not 1 of sel*\n"))
	f.Add([]byte("title: c\nid: c\ncorrelation:\n  type: event_count\n  rules: [x]\n  timespan: 5m\n  condition: {gte: 2}\n"))
	e := ev("Image", `C:\Windows\System32\whoami.exe`, "User", "admin", "CommandLine", "whoami /all")
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, _ := Compile([]Doc{{File: "fuzz.yml", Data: data}})
		for _, r := range rules {
			if r.Match != nil {
				r.Match(e)
				r.Summary(e)
			}
			if r.Stateful != nil {
				r.Stateful.Observe(e, func(event.Finding) {})
				r.Stateful.Flush(func(event.Finding) {})
			}
		}
	})
}

func TestCasePlaceholders(t *testing.T) {
	cfg, err := caseconf.Parse("case.yaml", []byte("providers:\n  - name: msp\n    accounts: ['MSP\\*', 'svc-msp']\n    networks: [10.99.0.0/24]\n"))
	if err != nil {
		t.Fatal(err)
	}
	ph := CasePlaceholders(cfg)
	if !slices.Equal(ph["provider_accounts"], []string{`MSP\\*`, "svc-msp"}) {
		t.Errorf("accounts %q", ph["provider_accounts"])
	}
	if len(ph["internal_networks"]) == 0 {
		t.Error("default internal networks missing")
	}
	src := "title: t\nid: x\nlogsource: {product: windows, service: security}\ndetection:\n  sel:\n    TargetUserName|expand: '%provider_accounts%'\n    IpAddress|expand|cidr: '%provider_networks%'\n  condition: sel\n"
	comp := Compiler(CompileOptions{Placeholders: ph})
	rules, errs := comp([]rule.Doc{{File: "p.yml", Data: []byte(src)}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := ev("TargetUserName", `msp\jdoe`, "IpAddress", "10.99.0.5")
	e.Channel = "Security"
	if !rules[0].Match(e) {
		t.Error("provider account from the case not matched")
	}
	e2 := ev("TargetUserName", `corp\jdoe`, "IpAddress", "10.99.0.5")
	e2.Channel = "Security"
	if rules[0].Match(e2) {
		t.Error("non-provider account matched")
	}
}

func TestProductOnlyFilter(t *testing.T) {
	rules, errs := Compile([]Doc{{File: "w.yml", Data: []byte("title: t\nid: w\nlogsource: {product: windows}\ndetection:\n  keywords: [mimikatz]\n  condition: keywords\n")}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	f := rules[0].Filter
	if !slices.Equal(f.Sources, []string{event.SourceEVTX}) || len(f.Channels) != 0 || len(f.EventIDs) != 0 {
		t.Errorf("filter %+v", f)
	}
	fw := ev("msg", "mimikatz")
	fw.Source = event.SourceFirewall
	if rule.Evaluate(rules[0], fw) {
		t.Error("a Windows rule ran on a firewall event")
	}
}

// TestExampleRules loads the example rules in testdata/sigma and runs the
// correlation example on a brute-force sequence.
func TestExampleRules(t *testing.T) {
	docs := readRuleDir(t, "../../testdata/sigma")
	rules, errs := Compile(docs)
	if len(errs) > 0 || len(rules) != 5 {
		t.Fatalf("%d rules, errors %v", len(rules), errs)
	}
	byID := map[string]*rule.Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	corr := byID["7c1e4b9a-3f0d-4a52-9d1e-2b6f0c8e5a01"]
	var evs []*event.Event
	for i := 0; i < 5; i++ {
		evs = append(evs, logon(4625, time.Duration(i)*time.Minute, "administrator", ""))
	}
	ok := logon(4624, 6*time.Minute, "administrator", "")
	ok.Fields.Set("LogonType", "10")
	evs = append(evs, ok)
	if got := run(corr, evs...); len(got) != 1 || got[0].Severity != "high" {
		t.Fatalf("findings %+v", got)
	}
	recon := byID["7c1e4b9a-3f0d-4a52-9d1e-2b6f0c8e5a10"]
	e := ev("NewProcessName", `C:\Windows\System32\whoami.exe`, "CommandLine", "whoami /all")
	e.Channel, e.EventID = "Security", 4688
	if !recon.Match(e) {
		t.Error("whoami /all from 4688 not matched")
	}
}

func TestErrorsInMultiDocument(t *testing.T) {
	src := "title: a\nid: a\nlogsource: {product: windows}\ndetection: {sel: {A: 1}, condition: sel}\n---\ntitle: b\nid: b\nlogsource: {product: windows}\ndetection:\n  sel:\n    A|nope: 1\n  condition: sel\n---\ntitle: c\n  bad: [\n"
	rules, errs := Compile([]Doc{{File: "m.yml", Data: []byte(src)}})
	if len(rules) != 1 || rules[0].ID != "a" {
		t.Errorf("rules before the broken document must load: %d", len(rules))
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	joined := strings.Join(msgs, "\n")
	if len(errs) != 2 || !strings.Contains(joined, "m.yml:15:") || !strings.Contains(joined, `m.yml:11:`) || !strings.Contains(joined, `unsupported modifier "nope"`) {
		t.Errorf("errors:\n%s", joined)
	}
}

// TestIntegrityLevelOn4688 checks that process_creation rules on Sysmon's
// IntegrityLevel names also match Security 4688, which writes the
// mandatory label SID, and that rules listing the SIDs keep matching.
func TestIntegrityLevelOn4688(t *testing.T) {
	rule := func(id, vals string) Doc {
		return Doc{File: id + ".yml", Data: []byte("title: t\nid: " + id + "\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    IntegrityLevel: " + vals + "\n  condition: sel\n")}
	}
	neqRule := Doc{File: "n.yml", Data: []byte("title: t\nid: neq\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    IntegrityLevel|neq: medium\n  condition: sel\n")}
	rules, errs := Compile([]Doc{rule("name", "High"), rule("sid", "'S-1-16-12288'"), rule("both", "[System, 'S-1-16-16384']"), neqRule})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	mk := func(ch string, id int32, kv ...string) *event.Event {
		e := ev(kv...)
		e.Channel, e.EventID = ch, id
		return e
	}
	sysmon := func(level string) *event.Event {
		return mk("Microsoft-Windows-Sysmon/Operational", 1, "Image", `C:\x.exe`, "IntegrityLevel", level)
	}
	sec := func(label string) *event.Event {
		return mk("Security", 4688, "NewProcessName", `C:\x.exe`, "MandatoryLabel", label)
	}
	for _, c := range []struct {
		name string
		ev   *event.Event
		want map[string]bool
	}{
		{"sysmon High", sysmon("High"), map[string]bool{"name": true, "neq": true}},
		{"sysmon System", sysmon("System"), map[string]bool{"both": true, "neq": true}},
		{"sysmon Medium", sysmon("Medium"), map[string]bool{}},
		{"4688 high SID", sec("S-1-16-12288"), map[string]bool{"name": true, "sid": true, "neq": true}},
		{"4688 system SID", sec("S-1-16-16384"), map[string]bool{"both": true, "neq": true}},
		{"4688 medium SID", sec("S-1-16-8192"), map[string]bool{}},
		// Value maps are per record kind: Sysmon writing a SID gets no
		// translation.
		{"sysmon SID", sysmon("S-1-16-12288"), map[string]bool{"sid": true, "neq": true}},
	} {
		for _, r := range rules {
			if got := r.Match(c.ev); got != c.want[r.ID] {
				t.Errorf("%s: rule %s matched %v, want %v", c.name, r.ID, got, c.want[r.ID])
			}
		}
	}
	// The compiled set answers alike.
	var evs []*event.Event
	for _, l := range []string{"High", "System", "Medium", "S-1-16-12288", "low"} {
		evs = append(evs, sysmon(l))
	}
	for _, l := range []string{"S-1-16-12288", "S-1-16-16384", "S-1-16-8192", "s-1-16-12288", "High"} {
		evs = append(evs, sec(l))
	}
	if diffSet(t, rules, evs) < 8 {
		t.Error("too few matches: the cases do not exercise the value map")
	}
}

func TestMappingFileErrorsHavePositions(t *testing.T) {
	for name, c := range map[string]struct{ src, want string }{
		"syntax":           {"logsources:\n  - service: x\n    sources: [\n", "m.yaml:"},
		"unknown key":      {"logsources:\n  - service: x\n    sources:\n      - channel: C\n        valuez: {}\n", "m.yaml:5:"},
		"no channel":       {"logsources:\n  - service: x\n    sources:\n      - event_ids: [1]\n", "m.yaml:4:9: logsource entry 1 (//x) source 1: no channel"},
		"no key":           {"logsources:\n  - service: x\n    sources: [{channel: C}]\n  - sources: [{channel: D}]\n", "m.yaml:4:5: logsource entry 2: needs product, category or service"},
		"no sources":       {"logsources:\n  - service: x\n", "m.yaml:2:5: logsource entry 1 (//x): no sources"},
		"empty values":     {"logsources:\n  - service: x\n    sources:\n      - channel: C\n        values: {F: {}}\n", "m.yaml:5:17: logsource entry 1 (//x) source 1: values of \"F\""},
		"wrong type":       {"logsources:\n  - service: x\n    sources:\n      - channel: C\n        event_ids: [one]\n", "m.yaml:5:"},
		"not a list":       {"logsources: 3\n", "m.yaml:1:"},
		"values not map":   {"logsources:\n  - service: x\n    sources:\n      - channel: C\n        values: {F: x}\n", "m.yaml:5:"},
		"no logsources at": {"other: 1\n", "m.yaml:1:1:"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadLogsources("m.yaml", []byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

// TestMappingFileValues checks a user mapping file's value translation
// on a logsource of its own.
func TestMappingFileValues(t *testing.T) {
	ls, err := LoadLogsources("m.yaml", []byte("logsources:\n  - product: acme\n    service: vpn\n    sources:\n      - channel: Acme/VPN\n        fields: {Result: Outcome}\n        values:\n          Result: {failure: '0', success: '1'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	src := "title: t\nid: v\nlogsource:\n  product: acme\n  service: vpn\ndetection:\n  sel:\n    Result: failure\n  condition: sel\n"
	rules, errs := CompileWith([]Doc{{File: "v.yml", Data: []byte(src)}}, CompileOptions{Logsources: ls})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := ev("Outcome", "0")
	e.Channel = "Acme/VPN"
	ok := ev("Outcome", "1")
	ok.Channel = "Acme/VPN"
	if !rules[0].Match(e) || rules[0].Match(ok) {
		t.Error("value map of a mapping file not applied")
	}
	if diffSet(t, rules, []*event.Event{e, ok}) != 1 {
		t.Error("set and rule disagree or no match")
	}
}
