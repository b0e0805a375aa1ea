package psrecon

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/internal/evtest"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/pwsh"
)

func caseCfg(t *testing.T) *caseconf.Config {
	t.Helper()
	return evtest.Case(t, `
timezone: Europe/Berlin
providers:
  - name: ComTech
    accounts: ["ct-*", "CORP\\ct-*"]
    operators: ["ct-*"]
    networks: ["10.99.0.0/24"]
`)
}

func ps4104(t time.Time, host, text string) event.Event {
	return evtest.Evtx(t, host, "Microsoft-Windows-PowerShell/Operational", 4104, "MessageNumber", "1", "MessageTotal", "1", "ScriptBlockText", text, "ScriptBlockId", "x")
}

func TestLoneAdminCommandIsInfo(t *testing.T) {
	tue := evtest.At(2026, 11, 10, 10, 0) // Tuesday 10:00
	fs := evtest.Run(New(caseCfg(t)), []event.Event{ps4104(tue, "DC01", "Get-ADUser -Identity mmeier -Properties LockedOut")})
	if len(fs) != 1 || fs[0].Severity != event.SevInfo || fs[0].RuleID != "psrecon.command" {
		t.Fatalf("want one info finding, got %+v", fs)
	}
}

func TestOffHoursBurstInSessionIsHigh(t *testing.T) {
	cfg := caseCfg(t)
	var evs []event.Event
	// Baseline: usual weekday maintenance by ct-mueller at 10:00.
	for d := 0; d < 20; d++ {
		day := evtest.At(2026, 10, 1, 10, 0).AddDate(0, 0, d)
		if cfg.Weekend(day) {
			continue
		}
		id := "base-" + day.Format("0102")
		evs = append(evs, evtest.RMM(day, "FS01", "session_start", id, "ct-mueller", "10.99.0.5", ""), evtest.RMM(day.Add(20*time.Minute), "FS01", "session_end", id, "ct-mueller", "10.99.0.5", ""))
	}
	sat := evtest.At(2026, 11, 14, 23, 5) // Saturday night
	evs = append(evs, evtest.RMM(sat, "DC01", "session_start", "atk", "ct-weber", "203.0.113.91", ""))
	cmds := []string{"Get-ADUser -Filter * | Select SamAccountName", "net user /domain", "Get-ADGroupMember -Identity 'Domain Admins'", "Get-ADComputer -Filter *"}
	for i, c := range cmds {
		ct := sat.Add(time.Duration(i+1) * time.Minute)
		evs = append(evs, evtest.RMM(ct, "DC01", "command", "atk", "ct-weber", "203.0.113.91", c))
		evs = append(evs, ps4104(ct.Add(3*time.Second), "dc01.corp.example", c))
	}
	evs = append(evs, evtest.RMM(sat.Add(10*time.Minute), "DC01", "session_end", "atk", "ct-weber", "203.0.113.91", ""))
	fs := evtest.Run(New(cfg), evs)
	evtest.Golden(t, "burst_in_session.golden.json", fs)
	if len(fs) != 1 {
		t.Fatalf("want one burst finding, got %d: %+v", len(fs), fs)
	}
	f := fs[0]
	if f.Severity != event.SevHigh || f.RuleID != "psrecon.burst" || f.SessionID != "atk" {
		t.Errorf("got %s %s session %q, want high psrecon.burst in session atk", f.Severity, f.RuleID, f.SessionID)
	}
	if b, _ := f.Details.Get("breadth"); b != 3 {
		t.Errorf("breadth = %v, want 3 (accounts, groups, remote_systems)", b)
	}
	for _, want := range []string{"weekend", "inside RMM session atk", "out of pattern"} {
		if !strings.Contains(f.Reason, want) {
			t.Errorf("reason %q lacks %q", f.Reason, want)
		}
	}
	if len(f.Refs) != 8 {
		t.Errorf("refs = %d, want 8 (4 RMM commands, 4 script blocks)", len(f.Refs))
	}
	// The same burst on a Tuesday morning outside any session is an admin
	// at work: medium at most.
	tue := evtest.At(2026, 11, 10, 10, 0)
	var day []event.Event
	for i, c := range cmds {
		day = append(day, ps4104(tue.Add(time.Duration(i)*time.Minute), "DC01", c))
	}
	fs = evtest.Run(New(cfg), day)
	if len(fs) != 1 || fs[0].Severity != event.SevMedium {
		t.Errorf("office-hours burst: want one medium, got %+v", fs)
	}
}

func TestMultipartScriptBlock(t *testing.T) {
	t0 := evtest.At(2026, 11, 15, 2, 20) // Sunday night
	part := func(n int, text string) event.Event {
		return evtest.Evtx(t0.Add(time.Duration(n)*time.Millisecond), "ERP01", "Microsoft-Windows-PowerShell/Operational", 4104,
			"MessageNumber", string(rune('0'+n)), "MessageTotal", "3", "ScriptBlockText", text, "ScriptBlockId", "{abc}")
	}
	// The keywords only exist once the parts are joined.
	evs := []event.Event{part(2, "Namespace root/SecurityCenter2 -ClassName AntiVir"), part(1, "$x = Get-CimInstance -"), part(3, "usProduct; Get-WmiObject Win32_Pro"+"duct")}
	fs := evtest.Run(New(caseCfg(t)), evs)
	if len(fs) != 1 {
		t.Fatalf("want 1 finding, got %+v", fs)
	}
	if k, _ := fs[0].Details.Get("kinds"); k != "software,security_software" {
		t.Errorf("kinds = %v", k)
	}
	if !strings.Contains(fs[0].Summary, "AntiVir") || fs[0].Refs[0].Offset != evs[1].Offset {
		t.Errorf("summary/ref wrong: %q %+v", fs[0].Summary, fs[0].Refs)
	}
}

func TestEncodedProcessFromRMMAgent(t *testing.T) {
	t0 := evtest.At(2026, 11, 12, 20, 40) // Thursday evening
	mk := func(i int, cmd string) event.Event {
		ev := evtest.Sec(t0.Add(time.Duration(i)*time.Minute), "FS01", 4688)
		ev.CommandLine = cmd
		ev.ParentProcess = `C:\Program Files (x86)\ScreenConnect Client (abc)\ScreenConnect.ClientService.exe`
		ev.SubjectUser = `NT AUTHORITY\SYSTEM`
		return ev
	}
	fs := evtest.Run(New(caseCfg(t)), []event.Event{
		mk(0, "powershell.exe -nop -w hidden -enc "+pwsh.Encode("Get-SmbShare | Select Name,Path")),
		mk(1, `cmd.exe /c net localgroup administrators`),
	})
	if len(fs) != 1 {
		t.Fatalf("want 1 finding, got %+v", fs)
	}
	f := fs[0]
	if f.Severity != event.SevHigh {
		t.Errorf("severity %s, want high (2 kinds off hours)", f.Severity)
	}
	if !strings.Contains(f.Summary, "Decoded: Get-SmbShare") || !strings.Contains(f.Reason, "screenconnect agent") {
		t.Errorf("summary %q / reason %q", f.Summary, f.Reason)
	}
}

func TestDeterministic(t *testing.T) {
	t0 := evtest.At(2026, 11, 14, 1, 0)
	var evs []event.Event
	for i, h := range []string{"B", "A", "C", "A"} {
		evs = append(evs, ps4104(t0.Add(time.Duration(i)*time.Minute), h, "net user /domain; nltest /domain_trusts"))
	}
	a := evtest.Run(New(caseCfg(t)), evs)
	slices.Reverse(evs)
	b := evtest.Run(New(caseCfg(t)), evs)
	if len(a) != 3 || len(a) != len(b) {
		t.Fatalf("got %d and %d findings", len(a), len(b))
	}
	for i := range a {
		if a[i].Host != b[i].Host || a[i].Summary != b[i].Summary || a[i].Reason != b[i].Reason {
			t.Errorf("order-dependent output at %d:\n%+v\n%+v", i, a[i], b[i])
		}
	}
}
