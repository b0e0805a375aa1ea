package textfmt

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/yamlx"
)

func berlinCase(t testing.TB, extra string) *caseconf.Config {
	t.Helper()
	c, err := caseconf.Parse("case.yaml", []byte("timezone: Europe/Berlin\n"+extra))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBuiltinLoads(t *testing.T) {
	fs, err := BuiltinFormats()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fs {
		names[f.Name()] = true
	}
	for _, want := range []string{"rmm-audit-jsonl", "rmm-audit-csv", "firewall-csv", "firewall-jsonl",
		"sonicwall", "checkpoint", "netscreen", "junos", "huawei-usg", "isa-server", "fortiauthenticator",
		"fortiddos", "pf-openbsd", "kaseya-endpoint", "datto-rmm", "tightvnc"} {
		if !names[want] {
			t.Errorf("shipped definition %q missing", want)
		}
	}
}

// The scenario generator's JSONL export, exactly its keys.
func TestRMMAuditJSONL(t *testing.T) {
	data := `{"time":"2026-11-14T23:12:05+01:00","tool":"screenconnect","event":"session_start","session_id":"s-1","operator":"msp-tech3","source_ip":"203.0.113.7","host":"SRV-DC01","command":""}
{"time":"2026-11-14T23:13:40+01:00","tool":"screenconnect","event":"command","session_id":"s-1","operator":"msp-tech3","source_ip":"203.0.113.7","host":"SRV-DC01","command":"powershell -nop -c \"Get-ADUser -Filter *\""}
not json at all
{"time":"2026-11-14T23:30:00+01:00","tool":"screenconnect","event":"session_end","session_id":"s-1","operator":"msp-tech3","source_ip":"203.0.113.7","host":"SRV-DC01","command":""}
`
	in := ingesttest.Input([]byte(data), "rmm/audit.jsonl", nil)
	p := ingesttest.Detect(t, builtinParsers(t), in)
	if p == nil || p.Name() != "rmm-audit-jsonl" {
		t.Fatalf("detected %v, want rmm-audit-jsonl", p)
	}
	evs, st := ingesttest.ParseAll(t, p, in)
	if len(evs) != 3 || st.Skipped != 1 || st.Reasons["not a JSON object"] != 1 {
		t.Fatalf("got %d events, stats %+v", len(evs), st)
	}
	if !strings.Contains(st.Errors[0], "rmm/audit.jsonl:3:") {
		t.Errorf("error lacks file:line: %q", st.Errors[0])
	}
	c := evs[1]
	want := time.Date(2026, 11, 14, 22, 13, 40, 0, time.UTC)
	if !c.Time.Equal(want) || c.Time.Location() != time.UTC {
		t.Errorf("time %v, want %v UTC", c.Time, want)
	}
	if c.Source != "rmm" || c.Action != "command" || c.Operator != "msp-tech3" || c.SessionID != "s-1" ||
		c.SrcIP != "203.0.113.7" || c.Host != "SRV-DC01" || c.CommandLine != `powershell -nop -c "Get-ADUser -Filter *"` ||
		c.Offset != 2 || c.Evidence != "rmm/audit.jsonl" {
		t.Errorf("command event wrong: %+v", c)
	}
	if evs[0].CommandLine != "" || evs[0].Action != "session_start" || evs[2].Action != "session_end" {
		t.Errorf("start/end wrong: %+v / %+v", evs[0], evs[2])
	}
	if c.Field("tool") != "screenconnect" {
		t.Errorf("raw field tool lost: %v", c.Fields)
	}
}

// The CSV variant, with zone-less times taken from the case config and a
// quoted command containing the delimiter.
func TestRMMAuditCSVZoneFromCase(t *testing.T) {
	data := "time,tool,event,session_id,operator,source_ip,host,command\r\n" +
		"2026-11-14 23:12:05,screenconnect,session_start,s-9,msp-tech1,198.51.100.4,PC-17,\r\n" +
		"2026-11-14 23:14:00,screenconnect,command,s-9,msp-tech1,198.51.100.4,PC-17,\"net user /domain, whoami\"\r\n"
	cfg := berlinCase(t, "source_timezones:\n  rmm: Europe/Berlin\n")
	in := ingesttest.Input([]byte(data), "audit.csv", cfg)
	p := ingesttest.Detect(t, builtinParsers(t), in)
	if p == nil || p.Name() != "rmm-audit-csv" {
		t.Fatalf("detected %v", p)
	}
	evs, st := ingesttest.ParseAll(t, p, in)
	if len(evs) != 2 || st.Reasons["header line"] != 1 {
		t.Fatalf("events %d stats %+v", len(evs), st)
	}
	if st.TimeZone != "Europe/Berlin" {
		t.Errorf("TimeZone %q", st.TimeZone)
	}
	if got := evs[1].Time; !got.Equal(time.Date(2026, 11, 14, 22, 14, 0, 0, time.UTC)) {
		t.Errorf("time %v", got)
	}
	if evs[1].CommandLine != "net user /domain, whoami" || evs[1].Offset != 3 {
		t.Errorf("command %q offset %d", evs[1].CommandLine, evs[1].Offset)
	}
}

// Acceptance 2: a format the project does not know, defined by the test
// alone, ingests with no Go change.
func TestUserWrittenFormat(t *testing.T) {
	dir := t.TempDir()
	def := `# An MSP's own remote-tool audit log (made up for this test).
name: acme-remote
source: rmm
detect:
  regex: '^ACMEREMOTE v\d '
  min: 2
kind: regex
patterns:
  - '^ACMEREMOTE v\d (?P<stamp>\d{8}T\d{6}) host=(?P<box>\S+) tech=(?P<tech>\S+) from=(?P<ip>\S+) sess=(?P<sess>\S+) (?P<what>START|STOP|RUN)(?: (?P<cmd>.*))?$'
time:
  - fields: [stamp]
    layouts: ["20060102T150405"]
    zone: America/New_York
map:
  host: box
  operator: tech
  src_ip: ip
  session_id: sess
  action: what
  command_line: cmd
values:
  action:
    START: session_start
    STOP: session_end
    RUN: command
const:
  process: acme-remote.exe
`
	if err := os.WriteFile(filepath.Join(dir, "acme.yaml"), []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	log := "ACMEREMOTE v2 20260314T235900 host=FS01 tech=j.doe from=192.0.2.10:5500 sess=77 START\n" +
		"ACMEREMOTE v2 20260315T000130 host=FS01 tech=j.doe from=192.0.2.10:5500 sess=77 RUN cmd.exe /c net group \"Domain Admins\"\n" +
		"garbage line\n" +
		"ACMEREMOTE v2 20260315T001000 host=FS01 tech=j.doe from=192.0.2.10:5500 sess=77 STOP\n"
	in := ingesttest.Input([]byte(log), "acme/audit.log", nil)
	all := append(builtinParsers(t), ps...)
	p := ingesttest.Detect(t, all, in)
	if p == nil || p.Name() != "acme-remote" {
		t.Fatalf("detected %v", p)
	}
	evs, st := ingesttest.ParseAll(t, p, in)
	if len(evs) != 3 || st.Skipped != 1 || st.Reasons["no pattern matched"] != 1 {
		t.Fatalf("events %d stats %+v", len(evs), st)
	}
	run := evs[1]
	// 00:01:30 EDT? No: 15 March 2026 is after the 8 March switch, so EDT (-4).
	if want := time.Date(2026, 3, 15, 4, 1, 30, 0, time.UTC); !run.Time.Equal(want) {
		t.Errorf("time %v want %v", run.Time, want)
	}
	if run.Action != "command" || run.CommandLine != `cmd.exe /c net group "Domain Admins"` || run.Operator != "j.doe" ||
		run.SrcIP != "192.0.2.10" || run.SrcPort.V != 5500 || run.Host != "FS01" || run.SessionID != "77" ||
		run.Process != "acme-remote.exe" || run.Format != "acme-remote" || run.Source != "rmm" {
		t.Errorf("run event wrong: %+v", run)
	}
	if evs[0].Action != "session_start" || evs[2].Action != "session_end" {
		t.Errorf("actions %q %q", evs[0].Action, evs[2].Action)
	}
}

func TestLoadErrorsHavePositions(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", "name: x\nsource: rmm\nkind: jsonl\ndetect:\n  keys: [a]\n  regexx: 'a'\ntime:\n  - fields: [a]\n    layouts: [rfc3339]\n", `bad.yaml:6:3: unknown key "regexx"`},
		{"bad regex", "name: x\nsource: rmm\nkind: regex\ndetect:\n  regex: 'a'\npatterns:\n  - '^(?P<x>a'\ntime:\n  - fields: [x]\n    layouts: [rfc3339]\n", "bad.yaml:7:5: invalid regex"},
		{"bad detect regex", "name: x\nsource: rmm\nkind: regex\ndetect:\n  regex: '[a'\npatterns: ['a']\ntime:\n  - fields: [x]\n    layouts: [rfc3339]\n", "bad.yaml:5:10: invalid regex"},
		{"unknown column", "name: x\nsource: rmm\nkind: jsonl\ndetect:\n  keys: [a]\ntime:\n  - fields: [a]\n    layouts: [rfc3339]\nmap:\n  src_addr: a\n", `bad.yaml:10:3: map: unknown column "src_addr"`},
		{"bad zone", "name: x\nsource: rmm\nkind: jsonl\ndetect:\n  keys: [a]\ntime:\n  - fields: [a]\n    layouts: [\"2006-01-02 15:04\"]\n    zone: Mars/Olympus\n", `bad.yaml:9:11: zone "Mars/Olympus"`},
		{"layout without hour", "name: x\nsource: rmm\nkind: jsonl\ndetect:\n  keys: [a]\ntime:\n  - fields: [a]\n    layouts: [\"2006-01-02\"]\n", "bad.yaml:8:15: layout"},
		{"no detect", "name: x\nsource: rmm\nkind: jsonl\ntime:\n  - fields: [a]\n    layouts: [rfc3339]\n", "detect needs a regex or keys"},
		{"bad kind", "name: x\nsource: rmm\nkind: xml\ndetect:\n  keys: [a]\ntime:\n  - fields: [a]\n    layouts: [rfc3339]\n", `bad.yaml:3:7: kind "xml"`},
		{"syntax", "name: [x\n", "bad.yaml:"},
		{"bad const", "name: x\nsource: rmm\nkind: jsonl\ndetect:\n  keys: [a]\ntime:\n  - fields: [a]\n    layouts: [rfc3339]\nconst:\n  dst_port: http\n", `bad.yaml:10:13: const dst_port: "http" is not a number`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("bad.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			var ye *yamlx.Error
			if !errors.As(err, &ye) || ye.Line == 0 {
				t.Errorf("error %v has no yamlx position", err)
			}
		})
	}
}

func TestLoadDirDuplicateAndMissing(t *testing.T) {
	dir := t.TempDir()
	def := "name: dup\nsource: rmm\nkind: jsonl\ndetect:\n  keys: [a]\ntime:\n  - fields: [a]\n    layouts: [rfc3339]\n"
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(def), 0o644)
	os.WriteFile(filepath.Join(dir, "b.yml"), []byte(def), 0o644)
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), `format name "dup" already defined`) {
		t.Errorf("duplicate not reported: %v", err)
	}
	if _, err := LoadDir(filepath.Join(dir, "nope")); err == nil {
		t.Error("missing dir not reported")
	}
}

func TestSplitKV(t *testing.T) {
	var got []string
	splitKV(`id=fw sn=1 msg="Connection \"Opened\"" (SyslogId=5, x=) loose words dst=1.2.3.4:80:WAN note="unterminated`, "=", "", func(k, v string) {
		got = append(got, k+"|"+v)
	})
	want := []string{"id|fw", "sn|1", `msg|Connection "Opened"`, "SyslogId|5,", "x|)", "dst|1.2.3.4:80:WAN", "note|unterminated"}
	if strings.Join(got, " ; ") != strings.Join(want, " ; ") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	got = nil
	splitKV(`action:"Drop"; ifdir:"inbound"; origin:"1.2.3.4"`, ":", ";", func(k, v string) { got = append(got, k+"|"+v) })
	if strings.Join(got, ",") != "action|Drop,ifdir|inbound,origin|1.2.3.4" {
		t.Errorf("checkpoint style: %q", got)
	}
	got = nil
	splitKV(`IPVer=4,Protocol=tcp,SourceIP=1.1.1.1,PolicyName=Internet Access.`, "=", ",", func(k, v string) { got = append(got, k+"|"+v) })
	if strings.Join(got, ",") != "IPVer|4,Protocol|tcp,SourceIP|1.1.1.1,PolicyName|Internet Access." {
		t.Errorf("comma style: %q", got)
	}
}

func TestSplitAddr(t *testing.T) {
	cases := []struct {
		in   string
		ip   string
		port int
		ok   bool
	}{
		{"10.0.0.1", "10.0.0.1", -1, true},
		{"10.0.0.1:443", "10.0.0.1", 443, true},
		{"2.2.2.2:36701:WAN", "2.2.2.2", 36701, true},
		{"10.12.14.9::X0-V500", "10.12.14.9", -1, true},
		{"205.174.165.231.50425", "205.174.165.231", 50425, true},
		{"[2001:db8::1]:22", "2001:db8::1", 22, true},
		{"fe80::1", "fe80::1", -1, true},
		{"::ffff:10.1.2.3", "10.1.2.3", -1, true},
		{"67.101.200", "", -1, false},
		{"host.example", "", -1, false},
		{"", "", -1, false},
	}
	for _, c := range cases {
		ip, port, ok := splitAddr(c.in)
		if ip != c.ip || port != c.port || ok != c.ok {
			t.Errorf("splitAddr(%q) = %q %d %v, want %q %d %v", c.in, ip, port, ok, c.ip, c.port, c.ok)
		}
	}
}

// A zone-less definition read in the case zone across the autumn change:
// both readings of the repeated hour are kept, and the ambiguity is noted.
func TestDefinitionDSTNote(t *testing.T) {
	data := "time,src_ip,dst_ip,action\n2026-10-25 02:30:00,10.0.0.1,10.0.0.2,accept\n2026-10-25 03:30:00,10.0.0.1,10.0.0.2,deny\n"
	cfg := berlinCase(t, "source_timezones:\n  firewall-csv: Europe/Berlin\n")
	in := ingesttest.Input([]byte(data), "fw.csv", cfg)
	p := ingesttest.Detect(t, builtinParsers(t), in)
	if p == nil || p.Name() != "firewall-csv" {
		t.Fatalf("detected %v", p)
	}
	evs, st := ingesttest.ParseAll(t, p, in)
	if len(evs) != 2 || evs[0].Action != "allow" || evs[1].Action != "deny" {
		t.Fatalf("events %+v", evs)
	}
	if !evs[0].Time.Equal(time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("overlap time %v", evs[0].Time)
	}
	if len(st.Notes) == 0 || !strings.Contains(strings.Join(st.Notes, " "), "DST overlap") {
		t.Errorf("no DST note: %v", st.Notes)
	}
	if len(st.Errors) == 0 || !strings.Contains(st.Errors[0], "fw.csv:2:") {
		t.Errorf("DST problem not placed: %v", st.Errors)
	}
}

// Multi-line records, context lines and the year-less fallback.
func TestMultilineContextAndYear(t *testing.T) {
	def := `name: ml
source: rmm
detect:
  regex: '^REC '
kind: regex
context:
  - '^== (?P<day>\d{4}-\d\d-\d\d) =='
patterns:
  - '^REC (?P<clock>\d\d:\d\d:\d\d) (?P<text>.*)$'
multiline: true
time:
  - fields: [day, clock]
    layouts: ["2006-01-02 15:04:05"]
    zone: UTC
`
	f, err := Load("ml.yaml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	log := "REC 10:00:00 before any day\n== 2026-05-01 ==\nREC 10:00:01 one\n  more of one\n\nREC 10:00:02 two\n"
	evs, st := ingesttest.ParseAll(t, f, ingesttest.Input([]byte(log), "ml.log", nil))
	if len(evs) != 2 {
		t.Fatalf("events %d, stats %+v", len(evs), st)
	}
	if st.Reasons["bad timestamp"] != 1 || st.Reasons["context line"] != 1 || st.Reasons["blank line"] != 1 {
		t.Errorf("reasons %v", st.Reasons)
	}
	if evs[0].Field("continuation") != "  more of one" || evs[0].Offset != 3 || !strings.Contains(evs[0].Message, "more of one") {
		t.Errorf("multi-line record %+v", evs[0])
	}
	if !evs[1].Time.Equal(time.Date(2026, 5, 1, 10, 0, 2, 0, time.UTC)) {
		t.Errorf("time %v", evs[1].Time)
	}
}

func TestSplitQuoted(t *testing.T) {
	cases := map[string][]string{
		`a,b,c`:           {"a", "b", "c"},
		`"a,1",b`:         {"a,1", "b"},
		`"say ""hi""",x`:  {`say "hi"`, "x"},
		`a,,`:             {"a", "", ""},
		`"unterminated,x`: {"unterminated,x"},
		`ab"c,d`:          {`ab"c`, "d"},
		``:                {""},
		`"q"tail,z`:       {"qtail", "z"},
	}
	for in, want := range cases {
		got := splitQuoted(in, ',')
		if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("splitQuoted(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNestedKeys: a jsonl definition reaches nested keys with a dotted
// path (winlogbeat's winlog.event_data.*), a key holding dots is found as
// written, and a mapped key that no record has is an error naming it, not
// a silently empty column.
func TestNestedKeys(t *testing.T) {
	def := `name: beat-logons
source: evtx
detect:
  keys: [winlog.event_id, "@timestamp"]
  score: 60
kind: jsonl
time:
  - fields: ["@timestamp"]
    layouts: [rfc3339]
map:
  event_id: winlog.event_id
  host: host.name
  user: winlog.event_data.TargetUserName
  src_ip: winlog.event_data.IpAddress
  logon_type: winlog.event_data.LogonTyp
  channel: agent.ephemeral.id|winlog.channel
`
	f, err := Load("beat.yaml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	log := `{"@timestamp":"2026-03-15T04:01:30.123Z","host":{"name":"DC01"},"winlog":{"channel":"Security","event_id":4624,"event_data":{"TargetUserName":"svc-msp","IpAddress":"203.0.113.7","LogonType":"10"}}}
{"@timestamp":"2026-03-15T04:02:00Z","host.name":"DC02","winlog":{"event_id":"4625","event_data":{"TargetUserName":"admin"}},"winlog.channel":"Security"}
`
	in := ingesttest.Input([]byte(log), "beat.jsonl", nil)
	if f.Detect(in) == 0 {
		t.Fatal("nested detect keys not found")
	}
	evs, st := ingesttest.ParseAll(t, f, in)
	if len(evs) != 2 {
		t.Fatalf("%d events, stats %+v", len(evs), st)
	}
	if e := evs[0]; e.EventID != 4624 || e.Host != "DC01" || e.User != "svc-msp" || e.SrcIP != "203.0.113.7" || e.Channel != "Security" {
		t.Errorf("first event: %+v", e)
	}
	if e := evs[1]; e.EventID != 4625 || e.Host != "DC02" || e.User != "admin" || e.Channel != "Security" {
		t.Errorf("second event (dotted keys as written): %+v", e)
	}
	var found bool
	for _, e := range st.Errors {
		if strings.Contains(e, "logon_type") && strings.Contains(e, "winlog.event_data.LogonTyp") {
			found = true
		}
		if strings.Contains(e, "column user") || strings.Contains(e, "column channel") {
			t.Errorf("a mapping with keys present reported: %s", e)
		}
	}
	if !found {
		t.Errorf("the misspelt key is not reported: errors %q", st.Errors)
	}
}

// Year-less timestamps over New Year follow the wallclock policy: with a
// case window from November to January, a December line is dated in the
// window's first year and a January line in its last (the year of the
// window's end for both would put December after January).
func TestYearlessOverNewYear(t *testing.T) {
	def := `name: yl
source: rmm
detect:
  regex: '^AT '
kind: regex
patterns:
  - '^AT (?P<stamp>\w{3} +\d+ \d\d:\d\d:\d\d) (?P<text>.*)$'
time:
  - fields: [stamp]
    layouts: ["Jan _2 15:04:05"]
    zone: UTC
`
	f, err := Load("yl.yaml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	cfg := berlinCase(t, "window:\n  from: 2025-11-01\n  to: 2026-01-31\n")
	log := "AT Dec 31 23:59:00 old year\nAT Jan  1 00:01:00 new year\nAT Feb 29 10:00:00 not in 2025 or 2026\n"
	evs, _ := ingesttest.ParseAll(t, f, ingesttest.Input([]byte(log), "yl.log", cfg))
	if len(evs) != 2 {
		t.Fatalf("events %d", len(evs))
	}
	if !evs[0].Time.Equal(time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC)) || !evs[1].Time.Equal(time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)) {
		t.Errorf("times %s, %s", evs[0].Time, evs[1].Time)
	}
}
