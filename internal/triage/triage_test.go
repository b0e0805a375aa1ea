package triage

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/testutil"
	"github.com/spoor-dfir/spoor/internal/testutil/teststore"
)

func TestMask(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`C:\Windows\System32\net1.exe user /domain`, `c:\windows\system32\net1.exe user /domain`},
		{`powershell.exe -File C:\Windows\TEMP\ScreenConnect\25.2.4.9229\0f9ad5ab-2c1e-4f43-b1b2-6a2b7b3f9f10run.ps1`,
			`powershell.exe -file c:\windows\temp\screenconnect\#\#.ps1`},
		{`C:\Users\alice\AppData\Local\Temp\tmp3F2A.tmp`, `c:\users\*\appdata\local\temp\#.tmp`},
		{`C:\Users\bob\AppData\Local\Temp\__PSScriptPolicyTest_4e1k2x0q.ps1`, `c:\users\*\appdata\local\temp\#.ps1`},
		{"cmd.exe  /c   ping -n 3 10.0.0.1", "cmd.exe /c ping -n # #"},
		{`C:\Program Files (x86)\Tool\x64\win32k.sys`, `c:\program files (x86)\tool\x64\win32k.sys`},
	} {
		if got := Mask(c.in); got != c.want {
			t.Errorf("Mask(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	// Different programs and arguments stay different shapes.
	if Mask(`net.exe user hacker /add`) == Mask(`net.exe user /domain`) {
		t.Error("different commands masked to one shape")
	}
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{`C:\Users\a\x.exe`, "tmp3f2a.tmp", "", "users\\", `a"b'c=d`, "\xff\xfe users/ü1/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := Mask(s)
		if again := Mask(m); again != m {
			t.Errorf("Mask is not idempotent: %q → %q → %q", s, m, again)
		}
		if strings.ContainsAny(m, "\n\t") {
			t.Errorf("white space not folded: %q", m)
		}
		if got, want := foldSpaceLower(s), strings.ToLower(strings.Join(strings.Fields(s), " ")); got != want {
			t.Errorf("foldSpaceLower(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestShaperRemembersTheSameShapes: a Shaper (remembering masked values)
// gives every event of the generated case the shape ShapeFrom gives.
func TestShaperRemembersTheSameShapes(t *testing.T) {
	evs := caseEvents(t)
	sh := NewShaper()
	n, flat := 0, 0
	for round := 0; round < 2; round++ { // the second round answers from memory
		for _, ev := range evs {
			want := ShapeFrom(ev, ev.Field, nil)
			if got := sh.Shape(ev, ev.Field, nil); got != want {
				t.Fatalf("event %d/%s: Shaper gives %q, ShapeFrom %q", ev.EventID, ev.Channel, got, want)
			}
			// As a hunt asks: the raw fields as the pairs its reader parsed.
			pairs := func() ([]event.KV, bool) {
				raw := ev.RawFields
				if ev.Fields != nil {
					b, err := event.MarshalFields(ev.Fields)
					if err != nil {
						return nil, false
					}
					raw = string(b)
				}
				kvs, ok := event.ParseFlatFields(raw, nil)
				if ok {
					flat++
				}
				return kvs, ok
			}
			if got := sh.Shape(ev, ev.Field, pairs); got != want {
				t.Fatalf("event %d/%s: Shaper gives %q from the pairs, ShapeFrom %q", ev.EventID, ev.Channel, got, want)
			}
			if want != "" {
				n++
			}
		}
	}
	if n < 100 || len(sh.masked) == 0 || flat < 100 {
		t.Fatalf("%d shapes, %d values remembered, %d from pairs: the test checks too little", n, len(sh.masked), flat)
	}
}

func TestShape(t *testing.T) {
	ev := &event.Event{Process: `C:\Windows\System32\cmd.exe`, ParentProcess: `C:\Windows\explorer.exe`, CommandLine: `cmd /c whoami`}
	if got := Shape(ev); got != `image=c:\windows\system32\cmd.exe|parent=c:\windows\explorer.exe|cmd=cmd /c whoami` {
		t.Errorf("process shape %q", got)
	}
	reg := &event.Event{Fields: ordereddict.NewDict().Set("TargetObject", `HKLM\SOFTWARE\Run\x`).Set("Details", "C:\\a.exe").Set("Computer", "HOST1")}
	if got := Shape(reg); got != `targetobject=hklm\software\run\x|details=c:\a.exe` {
		t.Errorf("registry shape %q (host names must stay out)", got)
	}
	if got := Shape(&event.Event{EventID: 4625, Host: "H", User: "u"}); got != "" {
		t.Errorf("event without any fields: shape %q, want none", got)
	}
	// An event that names no process or object has the shape of its kind
	// and values, with who as the baseline counts it and without where
	// and when: the nightly DSRM sync by a DC's machine account is one
	// shape on every DC and night, an admin's reset another.
	dsrm := func(host, subject string) *event.Event {
		return &event.Event{Channel: "Security", EventID: 4794, Host: host, Fields: ordereddict.NewDict().
			Set("SubjectUserSid", "S-1-5-18").Set("SubjectUserName", subject).Set("SubjectDomainName", "CORP").
			Set("SubjectLogonId", "0x3E7").Set("Workstation", host).Set("Status", "0x0")}
	}
	a, b, c := Shape(dsrm("DC01", "DC01$")), Shape(dsrm("DC02", "DC02$")), Shape(dsrm("DC02", "ct-admin"))
	if a != "event=security/4794|by=machine|status=0x0" || a != b {
		t.Errorf("DSRM sync shapes %q, %q: want one shape for every DC's machine account", a, b)
	}
	if c == a || !strings.Contains(c, "by=ct-admin") {
		t.Errorf("an admin's DSRM reset has shape %q, the machine's %q", c, a)
	}
	st := &event.Event{Channel: "Microsoft-Windows-Sysmon/Operational", EventID: 4, Fields: ordereddict.NewDict().
		Set("UtcTime", "2026-10-21 10:00:00.000").Set("State", "Stopped").Set("Version", "15.14").Set("SchemaVersion", "4.90")}
	if got := Shape(st); got != "event=microsoft-windows-sysmon/operational/4|state=stopped|version=#|schemaversion=#" {
		t.Errorf("Sysmon state shape %q", got)
	}
}

// caseCfg is a case with one provider, business hours 07–19 Mon–Fri in
// Berlin and a baseline of October.
func caseCfg(t *testing.T) *caseconf.Config {
	t.Helper()
	cfg, err := caseconf.Parse("case.yaml", []byte(`name: t
timezone: Europe/Berlin
business_hours: {days: [mon, tue, wed, thu, fri], start: "07:00", end: "19:00"}
baseline: {from: "2026-10-01T00:00:00+02:00", to: "2026-11-01T00:00:00+01:00"}
providers:
  - name: P
    accounts: ["p-*"]
    networks: ["10.250.0.0/24"]
    rmm_tools: [screenconnect]
    operators: ["p-*"]
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// rmmSession is the two RMM events of one session.
func rmmSession(id, host, op, src string, start time.Time, d time.Duration) []event.Event {
	ev := func(act string, t time.Time) event.Event {
		return event.Event{Source: event.SourceRMM, Format: "screenconnect-audit", Host: host, Operator: op, SrcIP: src, SessionID: id, Action: act, Time: t}
	}
	return []event.Event{ev(event.ActionSessionStart, start), ev(event.ActionSessionEnd, start.Add(d))}
}

func TestApplySessions(t *testing.T) {
	cfg := caseCfg(t)
	c := akit.NewSessionSet(cfg)
	var evs []event.Event
	// The operator's baseline: ten weekday-morning sessions from the
	// provider network on hosts A and B.
	day := time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC) // Monday 10:00 CEST
	for i := 0; i < 10; i++ {
		d := day.AddDate(0, 0, i%5+7*(i/5))
		evs = append(evs, rmmSession("base"+string(rune('a'+i)), "A", "p-anna", "10.250.0.5", d, 20*time.Minute)...)
	}
	inPat := time.Date(2026, 11, 10, 8, 30, 0, 0, time.UTC) // Tuesday 09:30 CET
	evs = append(evs, rmmSession("in1", "B", "p-anna", "10.250.0.5", inPat, 15*time.Minute)...)
	outPat := time.Date(2026, 11, 14, 22, 0, 0, 0, time.UTC) // Saturday 23:00 CET
	evs = append(evs, rmmSession("out1", "B", "p-anna", "203.0.113.9", outPat, 15*time.Minute)...)
	for i := range evs {
		if w := c.Wants().Columns(evs[i].Source, evs[i].EventID, evs[i].Channel); w == nil {
			t.Fatal("session set does not want RMM events")
		}
		c.Observe(&evs[i])
	}
	if c.Wants().Columns(event.SourceEVTX, 4688, "Security") != nil {
		t.Error("session set wants process events it does not read")
	}
	ss := Sessions(cfg, c)
	var nIn, nOut int
	for _, s := range ss {
		if s.InPattern {
			nIn++
		}
		if s.V.Out {
			nOut++
		}
	}
	if nOut != 1 {
		t.Fatalf("%d out-of-pattern sessions, want 1", nOut)
	}
	fs := []event.Finding{
		{RuleID: "r1", Severity: event.SevHigh, Host: "B.corp.example", Time: inPat.Add(5 * time.Minute), Shape: "x"},
		{RuleID: "r2", Severity: event.SevLow, Host: "B", Time: outPat.Add(5 * time.Minute)},
		{RuleID: "r3", Severity: event.SevHigh, Host: "B", Time: outPat.Add(6 * time.Minute)},
		{RuleID: "r4", Severity: event.SevHigh, Host: "A", Time: inPat.Add(5 * time.Minute)},                 // no session on A then
		{RuleID: "r5", Severity: event.SevHigh, Host: "B", Time: inPat.Add(3 * time.Hour)},                   // after the session
		{RuleID: "r6", Severity: event.SevMedium, Host: "B", Time: inPat, SessionID: "in1"},                  // a second opinion on the session itself
		{RuleID: "r7", Severity: event.SevInfo, Host: "B", Time: outPat.Add(time.Minute)},                    // context stays context
		{RuleID: "r8", Severity: event.SevHigh, Host: "B", Time: outPat.Add(-time.Minute), Shape: ""},        // grace before the start
		{RuleID: "r9", Severity: event.SevHigh, Host: "B", Time: inPat.Add(time.Minute), User: `CORP\j.doe`}, // someone else meanwhile
		{RuleID: "r10", Severity: event.SevMedium, Host: "B", Time: inPat.Add(time.Minute), User: `NT AUTHORITY\SYSTEM`},
		{RuleID: "r11", Severity: event.SevMedium, Host: "B", Time: inPat.Add(time.Minute), User: "p-anna"},
		{RuleID: "r12", Severity: event.SevHigh, Host: "B", Time: inPat.Add(2 * time.Minute)}, // a one-off the provider never did
	}
	main := len(fs)
	// What the provider's baseline sessions did: r1, r10 and r11 as above,
	// in three of them.
	for i := 0; i < 3; i++ {
		at := day.AddDate(0, 0, i%5+7*(i/5)).Add(5 * time.Minute)
		fs = append(fs,
			event.Finding{RuleID: "r1", Severity: event.SevHigh, Host: "A", Time: at, Shape: "x"},
			event.Finding{RuleID: "r10", Severity: event.SevMedium, Host: "A", Time: at, User: "SYSTEM"},
			event.Finding{RuleID: "r11", Severity: event.SevMedium, Host: "A", Time: at, User: `CORP\p-anna`})
	}
	st := Apply(cfg, fs, ss)
	want := []struct{ sev, orig, triage string }{
		{event.SevInfo, event.SevHigh, "demoted: inside in-pattern provider RMM session in1"},
		{event.SevMedium, event.SevLow, "raised: inside out-of-pattern RMM session out1"},
		{event.SevHigh, event.SevHigh, "kept: inside out-of-pattern RMM session out1"},
		{event.SevHigh, "", ""},
		{event.SevHigh, "", ""},
		{event.SevMedium, "", ""},
		{event.SevInfo, "", ""},
		{event.SevHigh, event.SevHigh, "kept: inside out-of-pattern RMM session out1"},
		{event.SevHigh, "", ""},
		{event.SevInfo, event.SevMedium, "demoted: inside in-pattern provider RMM session in1"},
		{event.SevInfo, event.SevMedium, "demoted: inside in-pattern provider RMM session in1"},
		{event.SevHigh, event.SevHigh, "kept: inside in-pattern provider RMM session in1"},
	}
	for i, w := range want {
		f := fs[i]
		if f.Severity != w.sev || f.SeverityOriginal != w.orig || !strings.HasPrefix(f.Triage, w.triage) || (w.triage == "") != (f.Triage == "") {
			t.Errorf("%s: got %s (was %q) %q, want %s (was %q) %q…", f.RuleID, f.Severity, f.SeverityOriginal, f.Triage, w.sev, w.orig, w.triage)
		}
	}
	if fs[1].SessionID != "out1" || fs[2].SessionID != "out1" {
		t.Errorf("findings in the out-of-pattern session not joined to it: %q %q", fs[1].SessionID, fs[2].SessionID)
	}
	if !strings.Contains(fs[0].Triage, "p-anna") || !strings.Contains(fs[0].Triage, "provider P") {
		t.Errorf("demotion does not name the session's operator and provider: %q", fs[0].Triage)
	}
	if !strings.Contains(fs[0].Triage, "seen in 3 of the provider's baseline sessions") {
		t.Errorf("session demotion does not say how often the provider did it: %q", fs[0].Triage)
	}
	for _, f := range fs[main:] {
		if f.Severity != event.SevInfo {
			t.Errorf("baseline session habit %s not demoted (each is in 2 other sessions): %q", f.RuleID, f.Triage)
		}
	}
	if st.DemotedSession != 12 || st.Joined != 3 || st.Raised != 1 || st.Judged != 20 || st.Unusual != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestInPatternNeedsContext(t *testing.T) {
	cfg := caseCfg(t)
	s := &akit.Session{Operator: "p-anna", SrcIP: "203.0.113.9"}
	v := akit.Verdict{OperatorSessions: 10, OperatorNearHour: 3, Provider: "P"}
	if InPattern(cfg, s, &v) {
		t.Error("a source neither known for the operator nor a provider network vouches")
	}
	s.SrcIP = "10.250.0.9"
	if !InPattern(cfg, s, &v) {
		t.Error("provider network, known operator, usual hour: not in pattern")
	}
	v.Timing, v.OperatorNearHour = "off-hours", 0
	if InPattern(cfg, s, &v) {
		t.Error("off hours at an hour the operator never works vouches")
	}
	v.Timing, v.OperatorNearHour = "", 3
	v.Provider, v.OperatorSessions = "", 1
	if InPattern(cfg, s, &v) {
		t.Error("an operator of no provider with one baseline session vouches")
	}
	v.Provider, v.OperatorSessions, v.Out = "P", 10, true
	if InPattern(cfg, s, &v) {
		t.Error("an out-of-pattern session vouches")
	}
}

func TestApplyBaseline(t *testing.T) {
	cfg := caseCfg(t)
	at := func(day, hour int) time.Time { return time.Date(2026, 10, day, hour, 0, 0, 0, time.UTC) }
	var fs []event.Finding
	add := func(rule, shape, host string, t time.Time) {
		fs = append(fs, event.Finding{RuleID: rule, Shape: shape, Host: host, Time: t, Severity: event.SevHigh})
	}
	// Routine: one host's maintenance script, on four days over three weeks.
	for _, d := range []int{2, 9, 16, 23} {
		add("daily", "cmd=maint.ps1", "srv1", at(d, 9))
	}
	// Fleet-wide on two days.
	for i, h := range []string{"pc1", "pc2", "pc3", "pc4"} {
		add("fleet", "cmd=inventory", h, at(5+i%2, 10))
	}
	// One push to many hosts in one afternoon: not routine.
	for _, h := range []string{"pc1", "pc2", "pc3", "pc4", "pc5"} {
		add("push", "cmd=payload.exe", h, at(20, 14))
	}
	// Three days in a row on one host: not throughout the baseline.
	for _, d := range []int{12, 13, 14} {
		add("burst", "cmd=x", "srv2", at(d, 3))
	}
	n := len(fs)
	// After the baseline: the routine shape, a new shape of the same
	// rule, and a finding without a shape.
	add("daily", "cmd=maint.ps1", "srv1", time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))
	add("daily", "cmd=other.ps1", "srv1", time.Date(2026, 11, 10, 9, 5, 0, 0, time.UTC))
	add("daily", "", "srv1", time.Date(2026, 11, 10, 9, 6, 0, 0, time.UTC))
	// The routine command, but by another account.
	add("daily", "cmd=maint.ps1", "srv1", time.Date(2026, 11, 10, 9, 7, 0, 0, time.UTC))
	fs[len(fs)-1].User = `CORP\mallory`
	st := Apply(cfg, fs, nil)
	demoted := map[string]int{}
	for _, f := range fs[:n] {
		if f.Severity == event.SevInfo {
			demoted[f.RuleID]++
		}
	}
	if demoted["daily"] != 4 || demoted["fleet"] != 4 || demoted["push"] != 0 || demoted["burst"] != 0 {
		t.Errorf("demoted in the baseline period: %v, want daily 4, fleet 4, push 0, burst 0", demoted)
	}
	late := fs[n:]
	if late[0].Severity != event.SevInfo || late[0].SeverityOriginal != event.SevHigh ||
		!strings.Contains(late[0].Triage, "seen 4 times in the baseline (2026-10-01 – 2026-11-01) on 1 hosts over 4 days") {
		t.Errorf("routine shape after the baseline: %s %q", late[0].Severity, late[0].Triage)
	}
	if late[1].Severity != event.SevHigh || late[2].Severity != event.SevHigh || late[3].Severity != event.SevHigh {
		t.Errorf("a new shape, no shape or another account's run was demoted: %s %q, %s %q, %s %q",
			late[1].Severity, late[1].Triage, late[2].Severity, late[2].Triage, late[3].Severity, late[3].Triage)
	}
	if st.DemotedBaseline != 9 {
		t.Errorf("stats %+v", st)
	}
}

// caseEvents are the events of the shipped demo case, read back from a
// store.
func caseEvents(t *testing.T) []*event.Event {
	t.Helper()
	dir := filepath.Join(testutil.RepoRoot(t), "testdata", "cases", "comtech")
	cfg, err := caseconf.Load(filepath.Join(dir, "case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return teststore.Events(t, teststore.Ingest(t, cfg, filepath.Join(dir, "evidence")))
}
