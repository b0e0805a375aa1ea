package rule

import (
	"fmt"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

func testCase(t *testing.T) *caseconf.Config {
	t.Helper()
	cfg, err := caseconf.Parse("case.yaml", []byte(`
timezone: Europe/Berlin
holidays: ["2024-12-24"]
providers:
  - name: ComTech
    accounts: ["msp-*", 'COMTECH\*']
    networks: [203.0.113.0/24]
    operators: ["tech@comtech.example"]
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestHelpers(t *testing.T) {
	cfg := testCase(t)
	// Saturday 2024-03-30 23:30 UTC = Sunday 00:30 CET; DST starts 31 March.
	sat := time.Date(2024, 3, 30, 23, 30, 0, 0, time.UTC)
	// Monday 2024-04-01 06:30 UTC = 08:30 CEST (business hours only in the case zone).
	mon := time.Date(2024, 4, 1, 6, 30, 0, 0, time.UTC)
	ev := &event.Event{
		Time: mon, Host: "SRV1", User: "msp-admin", SrcIP: "203.0.113.9", DstIP: "8.8.8.8", EventID: 4624, LogonType: event.Some[int32](10),
		CommandLine: `powershell.exe -NoP -ec RwBlAHQALQBBAEQAVQBzAGUAcgAgAC0ARgBpAGwAdABlAHIAIAAqACAAfAAgAFMAZQBsAGUAYwB0ACAATgBhAG0AZQA=`,
		Process:     `C:\Windows\System32\WindowsPowerShell\v1.0\PowerShell.EXE`,
		Fields:      ordereddict.NewDict().Set("TargetUserName", "msp-admin").Set("TargetSid", "S-1-5-32-544").Set("B64", "aGVsbG8="),
	}
	weekend := *ev
	weekend.Time = sat
	cases := []struct {
		expr string
		ev   *event.Event
		want bool
	}{
		{`business_hours(time)`, ev, true},
		{`business_hours(time)`, &weekend, false},
		{`weekend(time)`, &weekend, true},
		{`weekday(time) == "sun" && hour(time) == 0`, &weekend, true},
		{`weekday(time) == "mon" && hour(time) == 8`, ev, true},
		{`holiday(date("2024-12-24T12:00:00Z"))`, ev, true},
		{`provider(user) && provider_name(user) == "ComTech"`, ev, true},
		{`provider("COMTECH\\someone")`, ev, true},
		{`provider("jdoe")`, ev, false},
		{`provider_ip(src_ip) && !provider_ip(dst_ip)`, ev, true},
		{`provider_operator("tech@comtech.example")`, ev, true},
		{`cidr(src_ip, "203.0.113.0/24") && !cidr(src_ip, "10.0.0.0/8")`, ev, true},
		{`external(dst_ip) && !internal(dst_ip) && internal("10.1.2.3")`, ev, true},
		{`privileged(field("TargetSid")) && privileged("Domain Admins") && !privileged("Users")`, ev, true},
		{`field("TargetUserName") == user && field("Nope") == "" && has_field("TargetSid") && !has_field("Nope")`, ev, true},
		{`re(command_line, "(?i)-ec\\s")`, ev, true},
		{`b64(field("B64")) == "hello"`, ev, true},
		{`decode_ps(command_line) == "Get-ADUser -Filter * | Select Name"`, ev, true},
		{`utf16(b64("aABpAA==")) == "hi"`, ev, true},
		{`lower(basename(process)) == "powershell.exe"`, ev, true},
		{`icontains(process, "windowspowershell") && !(process contains "windowspowershell")`, ev, true},
		{`contains_any(command_line, ["NOPE", "-NOP "]) && !contains_any(command_line, ["xyz"])`, ev, true},
		{`starts_with_any(process, ["c:\\windows"]) && ends_with_any(process, [".exe"])`, ev, true},
		{`short("a  b\nc", 3) == "a b…" && short("ab", 5) == "ab"`, ev, true},
		{`event_id in [4624, 4625] && logon_type == 10`, ev, true},
	}
	for _, c := range cases {
		p, err := CompileExpr(cfg, c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		got, err := p.Eval(c.ev)
		if err != nil || got != c.want {
			t.Errorf("%s = %v (%v), want %v", c.expr, got, err, c.want)
		}
	}
}

func TestColumnsAreTracked(t *testing.T) {
	p, err := CompileExpr(nil, `user == "a" && field("X") != "" && event_provider == "p"`)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Columns()
	want := []string{"fields", "provider", "user"}
	if len(got) != len(want) {
		t.Fatalf("columns %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("columns %v, want %v", got, want)
		}
	}
}

func TestTemplate(t *testing.T) {
	tm, err := CompileTemplate(nil, `{{user}} logged on to {{host}} from {{src_ip}} ({{logon_type}}) at {{time}}`)
	if err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{User: "bob", Host: "WS1", LogonType: event.Some[int32](10), Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	if got, want := tm.Render(ev), "bob logged on to WS1 from - (10) at 2024-01-02T03:04:05Z"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := CompileTemplate(nil, "a {{user"); err == nil {
		t.Error("unclosed {{ accepted")
	}
	_, err = CompileTemplate(nil, "ab {{ usr }}")
	te, ok := err.(*TemplateError)
	if !ok || te.Offset != 6 {
		t.Errorf("want TemplateError at offset 6, got %#v", err)
	}
}

// The provider name must not shadow the event's provider column.
func TestEventProviderColumn(t *testing.T) {
	p, err := CompileExpr(nil, `event_provider == "Microsoft-Windows-Security-Auditing"`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := p.Eval(&event.Event{Provider: "Microsoft-Windows-Security-Auditing"}); !ok {
		t.Error("event_provider does not read Event.Provider")
	}
}

func TestEvalIsSafeConcurrently(t *testing.T) {
	p, err := CompileExpr(nil, `field("N") == user`)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func(g int) {
			ok := true
			for i := 0; i < 2000; i++ {
				u := string(rune('a' + (g+i)%26))
				ev := &event.Event{User: u, Fields: ordereddict.NewDict().Set("N", u)}
				if m, _ := p.Eval(ev); !m {
					ok = false
				}
			}
			done <- ok
		}(g)
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Error("concurrent evaluation mixed up events")
		}
	}
}

func TestTemplateOptionalPart(t *testing.T) {
	cfg := testCase(t)
	tm, err := CompileTemplate(cfg, `{{subject_user}}{{provider(subject_user) ? " (provider " + provider_name(subject_user) + ")" : nil}} added {{user}}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ subject, want string }{
		{"msp-admin", "msp-admin (provider ComTech) added bob"},
		{"jdoe", "jdoe added bob"},
		{"", "- added bob"},
	} {
		if got := tm.Render(&event.Event{SubjectUser: c.subject, User: "bob"}); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestRequires(t *testing.T) {
	cases := []struct {
		src  string
		want string
	}{
		{`command_line != "" && icontains(command_line, "x")`, `[[command_line]]`},
		{`let w = ["a"]; (command_line != "" || script_text != "") && contains_any(command_line, w)`, `[[command_line script_text]]`},
		{`"" != user and event_id == 4624`, `[[user]]`},
		{`command_line != "" || event_id == 1`, `[]`},
		{`event_provider != ""`, `[[provider]]`},
		{`command_line != "x"`, `[]`},
		{`!(command_line != "")`, `[]`},
		{`field("X") != ""`, `[]`},
	}
	for _, c := range cases {
		p, err := CompileExpr(nil, c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if got := fmt.Sprint(p.Requires()); got != c.want && !(c.want == "[]" && got == "[]") {
			t.Errorf("%s: requires %s, want %s", c.src, got, c.want)
		}
	}
}

// TestAddressesCanonical: a condition sees an address as the store holds
// it (IPv4-mapped IPv6 as IPv4), whether the event came from the store or
// from a rule's test event.
func TestAddressesCanonical(t *testing.T) {
	p, err := CompileExpr(nil, `src_ip == "10.0.0.5" && dst_ip == "2001:db8::1"`)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := p.Eval(&event.Event{SrcIP: "::ffff:10.0.0.5", DstIP: "2001:DB8:0::1"})
	if err != nil || !ok {
		t.Fatalf("non-canonical addresses not matched: %v %v", ok, err)
	}
}
