package sigma

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/spoor-dfir/spoor/internal/event"
)

// ev builds an event with raw fields given as name, value pairs.
func ev(kv ...string) *event.Event {
	d := ordereddict.NewDict()
	for i := 0; i+1 < len(kv); i += 2 {
		d.Set(kv[i], kv[i+1])
	}
	return &event.Event{Source: event.SourceEVTX, Fields: d}
}

// compileOne compiles a rule whose detection section is det (indented
// YAML, without the "detection:" line), unnarrowed by logsource.
func compileOne(t *testing.T, det string, opts ...CompileOptions) func(*event.Event) bool {
	t.Helper()
	src := "title: t\nid: test-rule\nlogsource:\n  product: windows\ndetection:\n" + det
	var o CompileOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	rules, errs := CompileWith([]Doc{{File: "t.yml", Data: []byte(src)}}, o)
	if len(errs) > 0 {
		t.Fatalf("compile:\n%s\n%v", src, errs)
	}
	return rules[0].Match
}

type mcase struct {
	name string
	det  string
	ev   *event.Event
	want bool
}

func runCases(t *testing.T, cases []mcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := compileOne(t, c.det)
			if got := m(c.ev); got != c.want {
				t.Errorf("match = %v, want %v\n%s", got, c.want, c.det)
			}
		})
	}
}

func TestPlainValues(t *testing.T) {
	const eq = "  sel:\n    Image: 'C:\\Windows\\cmd.exe'\n  condition: sel\n"
	runCases(t, []mcase{
		{"equal", eq, ev("Image", `C:\Windows\cmd.exe`), true},
		{"equal is case-insensitive", eq, ev("Image", `c:\WINDOWS\CMD.EXE`), true},
		{"equal is whole value", eq, ev("Image", `C:\Windows\cmd.exe2`), false},
		{"missing field", eq, ev("Other", `C:\Windows\cmd.exe`), false},
		{"list is or", "  sel:\n    Image:\n      - a\n      - b\n  condition: sel\n", ev("Image", "B"), true},
		{"list no match", "  sel:\n    Image:\n      - a\n      - b\n  condition: sel\n", ev("Image", "c"), false},
		{"map is and", "  sel:\n    A: x\n    B: y\n  condition: sel\n", ev("A", "x", "B", "z"), false},
		{"map and both", "  sel:\n    A: x\n    B: y\n  condition: sel\n", ev("A", "x", "B", "y"), true},
		{"list of maps is or", "  sel:\n    - A: x\n    - B: y\n  condition: sel\n", ev("B", "y"), true},
		{"number", "  sel:\n    LogonType: 3\n  condition: sel\n", ev("LogonType", "3"), true},
		{"number differs", "  sel:\n    LogonType: 3\n  condition: sel\n", ev("LogonType", "10"), false},
		{"null matches missing", "  sel:\n    A: x\n  f:\n    B: null\n  condition: sel and f\n", ev("A", "x"), true},
		{"null matches empty", "  sel:\n    B: null\n  condition: sel\n", ev("B", ""), true},
		{"null not a value", "  sel:\n    B: null\n  condition: sel\n", ev("B", "v"), false},
		{"empty string matches empty", "  sel:\n    B: ''\n  condition: sel\n", ev("B", ""), true},
		{"empty string not a value", "  sel:\n    B: ''\n  condition: sel\n", ev("B", "v"), false},
		{"non-ascii fold", "  sel:\n    U: 'ÄRGER'\n  condition: sel\n", ev("U", "ärger"), true},
		{"typed EventID", "  sel:\n    EventID: 4688\n  condition: sel\n", &event.Event{EventID: 4688}, true},
		{"typed Channel", "  sel:\n    Channel: security\n  condition: sel\n", &event.Event{Channel: "Security"}, true},
		{"typed Provider_Name", "  sel:\n    Provider_Name: Service Control Manager\n  condition: sel\n", &event.Event{Provider: "Service Control Manager"}, true},
		{"typed Computer", "  sel:\n    Computer: dc01\n  condition: sel\n", &event.Event{Host: "DC01"}, true},
	})
}

func TestWildcards(t *testing.T) {
	w := func(p string) string { return "  sel:\n    F: '" + p + "'\n  condition: sel\n" }
	runCases(t, []mcase{
		{"star suffix", w(`*\cmd.exe`), ev("F", `C:\x\CMD.exe`), true},
		// A backslash before * escapes it; \\* is a backslash and a star.
		{"star prefix", w(`C:\Users\\*`), ev("F", `c:\users\bob`), true},
		{"backslash star is literal", w(`C:\Users\*`), ev("F", `c:\users\bob`), false},
		{"backslash star literal match", w(`C:\Users\*`), ev("F", `c:\users*`), true},
		{"star middle", w(`C:\\*\evil.exe`), ev("F", `C:\a\b\evil.exe`), true},
		{"star middle no", w(`C:\*\evil.exe`), ev("F", `D:\a\evil.exe`), false},
		{"question one char", w(`a?c`), ev("F", "abc"), true},
		{"question exactly one", w(`a?c`), ev("F", "abbc"), false},
		{"question rune", w(`a?c`), ev("F", "aéc"), true},
		{"escaped star literal", w(`a\*c`), ev("F", "a*c"), true},
		{"escaped star not wildcard", w(`a\*c`), ev("F", "abc"), false},
		{"escaped question", w(`a\?`), ev("F", "a?"), true},
		{"double backslash is one", w(`\\\\srv`), ev("F", `\\srv`), true},
		{"plain backslash kept", w(`C:\Windows`), ev("F", `C:\Windows`), true},
		{"multi star", w(`*a*b*c*`), ev("F", "xxAyyBzzCww"), true},
		{"multi star order", w(`*a*b*c*`), ev("F", "cba"), false},
		{"star alone", w(`*`), ev("F", ""), true},
		{"star alone missing", w(`*`), ev("G", "x"), false},
	})
}

func TestStringModifiers(t *testing.T) {
	runCases(t, []mcase{
		{"contains", "  sel:\n    F|contains: WHOAMI\n  condition: sel\n", ev("F", "cmd /c whoami /all"), true},
		{"contains no", "  sel:\n    F|contains: whoami\n  condition: sel\n", ev("F", "cmd"), false},
		{"contains with inner wildcard", "  sel:\n    F|contains: 'net*user'\n  condition: sel\n", ev("F", "x net  user y"), true},
		{"startswith", "  sel:\n    F|startswith: 'C:\\Users\\'\n  condition: sel\n", ev("F", `C:\users\a`), true},
		{"startswith no", "  sel:\n    F|startswith: 'C:\\Users\\'\n  condition: sel\n", ev("F", `D:\C:\Users\a`), false},
		{"endswith", "  sel:\n    F|endswith: '.PS1'\n  condition: sel\n", ev("F", `a.ps1`), true},
		{"endswith no", "  sel:\n    F|endswith: '.ps1'\n  condition: sel\n", ev("F", `a.ps1x`), false},
		{"all", "  sel:\n    F|contains|all:\n      - a\n      - b\n  condition: sel\n", ev("F", "xaxbx"), true},
		{"all needs every", "  sel:\n    F|contains|all:\n      - a\n      - b\n  condition: sel\n", ev("F", "xax"), false},
		{"cased", "  sel:\n    F|cased: Abc\n  condition: sel\n", ev("F", "abc"), false},
		{"cased exact", "  sel:\n    F|cased: Abc\n  condition: sel\n", ev("F", "Abc"), true},
		{"contains cased", "  sel:\n    F|contains|cased: Abc\n  condition: sel\n", ev("F", "xAbcx"), true},
		{"contains cased no", "  sel:\n    F|contains|cased: Abc\n  condition: sel\n", ev("F", "xabcx"), false},
		{"windash dash", "  sel:\n    F|contains|windash: ' -enc '\n  condition: sel\n", ev("F", "powershell -enc AAA"), true},
		{"windash slash", "  sel:\n    F|contains|windash: ' -enc '\n  condition: sel\n", ev("F", "powershell /enc AAA"), true},
		{"windash en dash", "  sel:\n    F|contains|windash: ' -enc '\n  condition: sel\n", ev("F", "powershell \u2013enc AAA"), true},
		{"windash em dash", "  sel:\n    F|contains|windash: ' -enc '\n  condition: sel\n", ev("F", "powershell \u2014enc AAA"), true},
		{"windash bar", "  sel:\n    F|contains|windash: ' -enc '\n  condition: sel\n", ev("F", "powershell \u2015enc AAA"), true},
		{"windash other", "  sel:\n    F|contains|windash: ' -enc '\n  condition: sel\n", ev("F", "powershell +enc AAA"), false},
		{"windash keeps inner dash", "  sel:\n    F|windash: 'a-b'\n  condition: sel\n", ev("F", "a/b"), false},
	})
}

func TestRegex(t *testing.T) {
	runCases(t, []mcase{
		{"re search", "  sel:\n    F|re: 'b+c'\n  condition: sel\n", ev("F", "abbbcd"), true},
		{"re anchored", "  sel:\n    F|re: '^b'\n  condition: sel\n", ev("F", "abc"), false},
		{"re case-sensitive", "  sel:\n    F|re: 'ABC'\n  condition: sel\n", ev("F", "abc"), false},
		{"re i", "  sel:\n    F|re|i: 'ABC'\n  condition: sel\n", ev("F", "abc"), true},
		{"re m", "  sel:\n    F|re|m: '^two$'\n  condition: sel\n", ev("F", "one\ntwo\nthree"), true},
		{"re without m", "  sel:\n    F|re: '^two$'\n  condition: sel\n", ev("F", "one\ntwo\nthree"), false},
		{"re s", "  sel:\n    F|re|s: 'one.two'\n  condition: sel\n", ev("F", "one\ntwo"), true},
		{"re without s", "  sel:\n    F|re: 'one.two'\n  condition: sel\n", ev("F", "one\ntwo"), false},
		{"re missing field", "  sel:\n    F|re: '.*'\n  condition: sel\n", ev("G", "x"), false},
	})
}

func TestNetworkAndNumbers(t *testing.T) {
	runCases(t, []mcase{
		{"cidr v4", "  sel:\n    Ip|cidr: 10.0.0.0/8\n  condition: sel\n", ev("Ip", "10.1.2.3"), true},
		{"cidr v4 no", "  sel:\n    Ip|cidr: 10.0.0.0/8\n  condition: sel\n", ev("Ip", "11.1.2.3"), false},
		{"cidr list", "  sel:\n    Ip|cidr:\n      - 10.0.0.0/8\n      - 192.168.0.0/16\n  condition: sel\n", ev("Ip", "192.168.5.5"), true},
		{"cidr v6", "  sel:\n    Ip|cidr: 'fe80::/10'\n  condition: sel\n", ev("Ip", "fe80::1"), true},
		{"cidr mapped v4", "  sel:\n    Ip|cidr: 10.0.0.0/8\n  condition: sel\n", ev("Ip", "::ffff:10.0.0.1"), true},
		{"cidr not an ip", "  sel:\n    Ip|cidr: 10.0.0.0/8\n  condition: sel\n", ev("Ip", "-"), false},
		{"gt", "  sel:\n    N|gt: 5\n  condition: sel\n", ev("N", "6"), true},
		{"gt equal", "  sel:\n    N|gt: 5\n  condition: sel\n", ev("N", "5"), false},
		{"gte", "  sel:\n    N|gte: 5\n  condition: sel\n", ev("N", "5"), true},
		{"lt", "  sel:\n    N|lt: 5\n  condition: sel\n", ev("N", "4.5"), true},
		{"lt no", "  sel:\n    N|lt: 5\n  condition: sel\n", ev("N", "5"), false},
		{"lte", "  sel:\n    N|lte: 5\n  condition: sel\n", ev("N", "5"), true},
		{"gt hex value", "  sel:\n    N|gt: 15\n  condition: sel\n", ev("N", "0x10"), true},
		{"gt not a number", "  sel:\n    N|gt: 5\n  condition: sel\n", ev("N", "many"), false},
	})
}

func TestExistsFieldref(t *testing.T) {
	runCases(t, []mcase{
		{"exists true", "  sel:\n    F|exists: true\n  condition: sel\n", ev("F", ""), true},
		{"exists true missing", "  sel:\n    F|exists: true\n  condition: sel\n", ev("G", "x"), false},
		{"exists false", "  sel:\n    F|exists: false\n  condition: sel\n", ev("G", "x"), true},
		{"exists false present", "  sel:\n    F|exists: false\n  condition: sel\n", ev("F", "x"), false},
		{"fieldref equal", "  sel:\n    A|fieldref: B\n  condition: sel\n", ev("A", "Bob", "B", "bob"), true},
		{"fieldref differ", "  sel:\n    A|fieldref: B\n  condition: sel\n", ev("A", "bob", "B", "alice"), false},
		{"fieldref missing", "  sel:\n    A|fieldref: B\n  condition: sel\n", ev("A", "bob"), false},
		{"fieldref endswith", "  sel:\n    A|fieldref|endswith: B\n  condition: sel\n", ev("A", `C:\x\evil.exe`, "B", "evil.exe"), true},
		{"fieldref contains", "  sel:\n    A|fieldref|contains: B\n  condition: sel\n", ev("A", "xxevilxx", "B", "EVIL"), true},
		{"fieldref startswith no", "  sel:\n    A|fieldref|startswith: B\n  condition: sel\n", ev("A", "xxevil", "B", "evil"), false},
	})
}

func TestEncodings(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	utf16le := func(s string) string {
		var b []byte
		for _, r := range s {
			b = append(b, byte(r), 0)
		}
		return string(b)
	}
	utf16be := func(s string) string {
		var b []byte
		for _, r := range s {
			b = append(b, 0, byte(r))
		}
		return string(b)
	}
	runCases(t, []mcase{
		{"base64", "  sel:\n    F|base64: 'http://'\n  condition: sel\n", ev("F", b64([]byte("http://"))), true},
		{"base64 contains", "  sel:\n    F|base64|contains: 'http://'\n  condition: sel\n", ev("F", "x"+b64([]byte("http://"))+"y"), true},
		{"base64 exact", "  sel:\n    F|base64: 'http://'\n  condition: sel\n", ev("F", "x"+b64([]byte("http://"))), false},
		// base64offset: the value at offsets 0, 1, 2 inside a larger
		// base64 text.
		{"base64offset 0", "  sel:\n    F|base64offset|contains: 'Invoke-'\n  condition: sel\n", ev("F", b64([]byte("Invoke-Expression"))), true},
		{"base64offset 1", "  sel:\n    F|base64offset|contains: 'Invoke-'\n  condition: sel\n", ev("F", b64([]byte("xInvoke-Expression"))), true},
		{"base64offset 2", "  sel:\n    F|base64offset|contains: 'Invoke-'\n  condition: sel\n", ev("F", b64([]byte("xyInvoke-Expression"))), true},
		{"base64offset 3", "  sel:\n    F|base64offset|contains: 'Invoke-'\n  condition: sel\n", ev("F", b64([]byte("xyzInvoke-Expression"))), true},
		{"base64offset no", "  sel:\n    F|base64offset|contains: 'Invoke-'\n  condition: sel\n", ev("F", b64([]byte("xyzInvoke Expression"))), false},
		{"wide base64offset", "  sel:\n    F|wide|base64offset|contains: 'ping'\n  condition: sel\n", ev("F", b64([]byte("x"+utf16le("cmd ping")))), true},
		{"utf16le base64", "  sel:\n    F|utf16le|base64: 'ab'\n  condition: sel\n", ev("F", b64([]byte(utf16le("ab")))), true},
		{"utf16be base64", "  sel:\n    F|utf16be|base64: 'ab'\n  condition: sel\n", ev("F", b64([]byte(utf16be("ab")))), true},
		{"utf16 has bom", "  sel:\n    F|utf16|base64: 'ab'\n  condition: sel\n", ev("F", b64([]byte("\xff\xfe"+utf16le("ab")))), true},
		{"wide raw", "  sel:\n    F|wide|contains: 'ab'\n  condition: sel\n", ev("F", "x"+utf16le("ab")), true},
	})
}

func TestKeywords(t *testing.T) {
	runCases(t, []mcase{
		{"keyword list", "  keywords:\n    - mimikatz\n    - sekurlsa\n  condition: keywords\n", ev("A", "x", "B", "run SEKURLSA::logonpasswords"), true},
		{"keyword none", "  keywords:\n    - mimikatz\n  condition: keywords\n", ev("A", "x"), false},
		{"keyword in message", "  keywords:\n    - mimikatz\n  condition: keywords\n", &event.Event{Message: "Mimikatz found"}, true},
		{"keyword all", "  keywords:\n    '|all':\n      - a1\n      - b2\n  condition: keywords\n", ev("A", "a1", "B", "b2"), true},
		{"keyword all missing", "  keywords:\n    '|all':\n      - a1\n      - b2\n  condition: keywords\n", ev("A", "a1"), false},
		{"keyword nested", "  keywords:\n    - secret\n  condition: keywords\n", nested(), true},
		{"keyword wildcard", "  keywords:\n    - 'net*user'\n  condition: keywords\n", ev("A", "x net1 user y"), true},
	})
}

func nested() *event.Event {
	e := ev("A", "x")
	sub := ordereddict.NewDict()
	sub.Set("Inner", "the SECRET value")
	e.Fields.Set("UserData", sub)
	return e
}

func TestConditions(t *testing.T) {
	sels := "  sel_a:\n    A: 1\n  sel_b:\n    B: 1\n  filter_x:\n    X: 1\n  filter_y:\n    Y: 1\n"
	c := func(cond string) string { return sels + "  condition: " + cond + "\n" }
	e := func(kv ...string) *event.Event { return ev(kv...) }
	runCases(t, []mcase{
		{"and", c("sel_a and sel_b"), e("A", "1", "B", "1"), true},
		{"and no", c("sel_a and sel_b"), e("A", "1"), false},
		{"or", c("sel_a or sel_b"), e("B", "1"), true},
		{"not", c("sel_a and not filter_x"), e("A", "1", "X", "1"), false},
		{"not passes", c("sel_a and not filter_x"), e("A", "1"), true},
		{"precedence and over or", c("sel_a or sel_b and filter_x"), e("A", "1"), true},
		{"parentheses", c("(sel_a or sel_b) and filter_x"), e("A", "1"), false},
		{"parentheses match", c("(sel_a or sel_b) and filter_x"), e("B", "1", "X", "1"), true},
		{"not binds tight", c("not sel_a and sel_b"), e("B", "1"), true},
		{"not of parens", c("not (sel_a or sel_b)"), e("B", "1"), false},
		{"1 of wildcard", c("1 of sel_*"), e("B", "1"), true},
		{"1 of wildcard none", c("1 of sel_*"), e("X", "1"), false},
		{"all of wildcard", c("all of sel_*"), e("A", "1"), false},
		{"all of wildcard both", c("all of sel_*"), e("A", "1", "B", "1"), true},
		{"1 of them", c("1 of them"), e("Y", "1"), true},
		{"all of them", c("all of them"), e("A", "1", "B", "1", "X", "1"), false},
		{"all of them every", c("all of them"), e("A", "1", "B", "1", "X", "1", "Y", "1"), true},
		{"any of", c("any of filter_*"), e("Y", "1"), true},
		{"not 1 of", c("sel_a and not 1 of filter_*"), e("A", "1", "Y", "1"), false},
		{"nested parens", c("((sel_a) and (not (filter_x or filter_y)))"), e("A", "1"), true},
		{"uppercase keywords", c("sel_a AND NOT filter_x"), e("A", "1"), true},
		{"condition list is or", sels + "  condition:\n    - sel_a\n    - sel_b\n", e("B", "1"), true},
	})
}

func TestThemSkipsUnderscore(t *testing.T) {
	m := compileOne(t, "  sel:\n    A: 1\n  _helper:\n    H: 1\n  condition: all of them\n")
	if !m(ev("A", "1")) {
		t.Error("all of them must not require _helper")
	}
}

func TestExpand(t *testing.T) {
	opts := CompileOptions{Placeholders: map[string][]string{"Admins": {"alice", "b*b"}, "Loop": {"%Loop%"}}}
	m := compileOne(t, "  sel:\n    User|expand: '%Admins%'\n  condition: sel\n", opts)
	for v, want := range map[string]bool{"ALICE": true, "bob": true, "b*b": true, "bo": false, "carol": false} {
		if got := m(ev("User", v)); got != want {
			t.Errorf("User=%s: got %v want %v (placeholder wildcards count)", v, got, want)
		}
	}
	m = compileOne(t, "  sel:\n    Path|expand|startswith: '%Dir%\\'\n  condition: sel\n", CompileOptions{Placeholders: map[string][]string{"Dir": {`C:\Tools`}}})
	if !m(ev("Path", `c:\tools\x.exe`)) {
		t.Error("expand with startswith")
	}
	m = compileOne(t, "  sel:\n    Ip|expand|cidr: '%Nets%'\n  condition: sel\n", CompileOptions{Placeholders: map[string][]string{"Nets": {"10.8.0.0/24", "192.0.2.0/24"}}})
	if !m(ev("Ip", "192.0.2.7")) || m(ev("Ip", "10.8.1.1")) {
		t.Error("expand with cidr")
	}
	m = compileOne(t, "  sel:\n    F|expand: 'x%Loop%y%Admins%'\n  condition: sel\n", opts)
	if !m(ev("F", "x%Loop%yalice")) {
		t.Error("two placeholders / value with percent signs")
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ name, rule, want string }{
		{"unknown modifier", "  sel:\n    F|bogus: x\n  condition: sel\n", `unsupported modifier "bogus"`},
		{"bad regex", "  sel:\n    F|re: '(?<=a)b'\n  condition: sel\n", "regular expression"},
		{"bad cidr", "  sel:\n    F|cidr: 10.0.0/33\n  condition: sel\n", "cidr"},
		{"unknown identifier", "  sel:\n    F: x\n  condition: sel and other\n", `unknown search identifier "other"`},
		{"unbalanced", "  sel:\n    F: x\n  condition: (sel\n", "missing )"},
		{"aggregation", "  sel:\n    F: x\n  condition: sel | count() > 5\n", "aggregations"},
		{"no condition", "  sel:\n    F: x\n", "no condition"},
		{"of nothing", "  sel:\n    F: x\n  condition: 1 of filter_*\n", "matches no search identifier"},
		{"unknown placeholder", "  sel:\n    F|expand: '%nope%'\n  condition: sel\n", "unknown placeholder %nope%"},
		{"exists not bool", "  sel:\n    F|exists: yes please\n  condition: sel\n", "exists needs true or false"},
		{"gt not number", "  sel:\n    F|gt: many\n  condition: sel\n", "gt needs a number"},
		{"base64 wildcard", "  sel:\n    F|base64: 'a*'\n  condition: sel\n", "wildcards"},
		{"op conflict", "  sel:\n    F|startswith|endswith: a\n  condition: sel\n", "cannot be combined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "title: t\nid: x\nlogsource:\n  product: windows\ndetection:\n" + c.rule
			rules, errs := Compile([]Doc{{File: "bad.yml", Data: []byte(src)}})
			if len(rules) != 0 || len(errs) != 1 {
				t.Fatalf("got %d rules, errors %v", len(rules), errs)
			}
			msg := errs[0].Error()
			if !strings.Contains(msg, c.want) || !strings.HasPrefix(msg, "rule x: bad.yml:") && !strings.HasPrefix(msg, "bad.yml:") {
				t.Errorf("error %q: want file:line:col and %q", msg, c.want)
			}
		})
	}
}

// TestContainsLists covers the list shape compiled with one lower-cased
// copy of the value (three or more plain contains values).
func TestContainsLists(t *testing.T) {
	list := "  sel:\n    F|contains:\n      - Alpha\n      - beta\n      - '\\gamma'\n  condition: sel\n"
	all := "  sel:\n    F|contains|all:\n      - Alpha\n      - beta\n      - '\\gamma'\n  condition: sel\n"
	wd := "  sel:\n    F|contains|windash:\n      - ' -enc '\n      - ' -nop '\n      - ' -w hidden'\n  condition: sel\n"
	runCases(t, []mcase{
		{"or first", list, ev("F", "xxALPHAxx"), true},
		{"or last", list, ev("F", `C:\GAMMA`), true},
		{"or none", list, ev("F", "gamma delta"), false},
		{"or missing field", list, ev("G", "alpha"), false},
		{"all present", all, ev("F", `beta \Gamma alpha`), true},
		{"all one missing", all, ev("F", `beta alpha`), false},
		{"windash slash", wd, ev("F", "powershell /W hidden"), true},
		{"windash em dash", wd, ev("F", "powershell \u2014nop x"), true},
		{"windash none", wd, ev("F", "powershell nop"), false},
		{"non-ascii value", list, ev("F", "ÄÖÜ béta BETA"), true},
	})
}

// evAt is ev with the record's time set.
func evAt(ts string, kv ...string) *event.Event {
	e := ev(kv...)
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		panic(err)
	}
	e.Time = t
	return e
}

func TestNeq(t *testing.T) {
	one := "  sel:\n    F|neq: abc\n  condition: sel\n"
	list := "  sel:\n    F|neq:\n      - abc\n      - 'x*'\n  condition: sel\n"
	num := "  sel:\n    N|neq: 16\n  condition: sel\n"
	cased := "  sel:\n    F|neq|cased: abc\n  condition: sel\n"
	ref := "  sel:\n    F|fieldref|neq: G\n  condition: sel\n"
	runCases(t, []mcase{
		{"differs", one, ev("F", "abd"), true},
		{"equal, other case", one, ev("F", "ABC"), false},
		{"missing field", one, ev("G", "abd"), false},
		{"empty value", one, ev("F", ""), true},
		{"list: none equal", list, ev("F", "abd"), true},
		{"list: second equal (wildcard)", list, ev("F", "xyz"), false},
		{"list: first equal", list, ev("F", "abc"), false},
		{"number differs", num, ev("N", "17"), true},
		{"number equal", num, ev("N", "16"), false},
		{"number equal in hex", num, ev("N", "0x10"), false},
		{"cased: other case differs", cased, ev("F", "ABC"), true},
		{"cased: equal", cased, ev("F", "abc"), false},
		{"fieldref: differ", ref, ev("F", "a", "G", "b"), true},
		{"fieldref: equal", ref, ev("F", "a", "G", "A"), false},
		{"fieldref: other missing", ref, ev("F", "a"), false},
	})
}

func TestTimeModifiers(t *testing.T) {
	hour := "  sel:\n    TimeCreated|hour: 3\n  condition: sel\n"
	night := "  sel:\n    TimeCreated|hour|gte: 22\n  late:\n    TimeCreated|hour|lt: 5\n  condition: sel or late\n"
	week := "  sel:\n    TimeCreated|week: 1\n  condition: sel\n"
	utc := "  sel:\n    UtcTime|day: 31\n    UtcTime|month: 12\n    UtcTime|year: 2025\n  condition: sel\n"
	minute := "  sel:\n    TimeCreated|minute|neq: 0\n  condition: sel\n"
	runCases(t, []mcase{
		{"hour in UTC", hour, evAt("2026-03-29T03:15:00Z"), true},
		// 03:15 in Berlin is 01:15 UTC: the spec's parts are UTC.
		{"hour of an offset time is UTC", hour, evAt("2026-03-29T03:15:00+02:00"), false},
		{"other hour", hour, evAt("2026-03-29T04:00:00Z"), false},
		{"no time", hour, ev("F", "x"), false},
		{"night late", night, evAt("2026-01-05T23:59:59Z"), true},
		{"night early", night, evAt("2026-01-05T04:59:59Z"), true},
		{"night day", night, evAt("2026-01-05T12:00:00Z"), false},
		// 2026-01-01 is a Thursday: ISO week 1; 2027-01-01 a Friday,
		// ISO week 53 of 2026.
		{"iso week 1", week, evAt("2026-01-01T10:00:00Z"), true},
		{"iso week 53", week, evAt("2027-01-01T10:00:00Z"), false},
		{"sysmon UtcTime field", utc, ev("UtcTime", "2025-12-31 23:59:59.123"), true},
		{"sysmon UtcTime other day", utc, ev("UtcTime", "2025-12-30 23:59:59.123"), false},
		{"not a date", utc, ev("UtcTime", "yesterday"), false},
		{"minute neq", minute, evAt("2026-01-05T10:07:00Z"), true},
		{"minute neq on the hour", minute, evAt("2026-01-05T10:00:00Z"), false},
	})
}

func TestNewModifierErrors(t *testing.T) {
	for name, c := range map[string]struct{ rule, want string }{
		"neq contains":    {"  sel:\n    F|contains|neq: x\n  condition: sel\n", "cannot be combined"},
		"neq all":         {"  sel:\n    F|neq|all: [a, b]\n  condition: sel\n", "all adds nothing"},
		"neq null":        {"  sel:\n    F|neq: null\n  condition: sel\n", "null cannot take modifiers"},
		"hour not int":    {"  sel:\n    T|hour: noon\n  condition: sel\n", "hour needs an integer"},
		"hour re":         {"  sel:\n    T|hour|re: '1.'\n  condition: sel\n", "cannot be combined"},
		"two time parts":  {"  sel:\n    T|hour|minute: 1\n  condition: sel\n", "cannot be combined"},
		"hour base64":     {"  sel:\n    T|base64|hour: 1\n  condition: sel\n", "takes no encodings"},
		"keyword neq":     {"  sel:\n    '|neq': x\n  condition: sel\n", "need a field"},
		"missing in case": {"  sel:\n    U|expand: '%provider_accounts%'\n  condition: sel\n", "set providers[].accounts in the case config"},
	} {
		t.Run(name, func(t *testing.T) {
			src := "title: t\nid: x\nlogsource:\n  product: windows\ndetection:\n" + c.rule
			rules, errs := Compile([]Doc{{File: "bad.yml", Data: []byte(src)}})
			if len(rules) != 0 || len(errs) != 1 {
				t.Fatalf("got %d rules, errors %v", len(rules), errs)
			}
			if msg := errs[0].Error(); !strings.Contains(msg, c.want) || !strings.Contains(msg, "bad.yml:7:") {
				t.Errorf("error %q: want bad.yml:7:col and %q", msg, c.want)
			}
		})
	}
}
