package rmmsessions

import (
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/internal/evtest"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

func caseCfg(t *testing.T) *caseconf.Config {
	t.Helper()
	return evtest.Case(t, `
timezone: Europe/Berlin
holidays: ["2026-11-11"]
providers:
  - name: ComTech
    operators: ["ct-*"]
    networks: ["10.99.0.0/24"]
`)
}

// baseline: ct-mueller and ct-schmidt on weekdays 09–15 from the VPN,
// every weekday in October 2026.
func baseline(cfg *caseconf.Config) []event.Event {
	var evs []event.Event
	for d := 0; d < 31; d++ {
		day := evtest.At(2026, 10, 1, 0, 0).AddDate(0, 0, d)
		if cfg.Weekend(day) {
			continue
		}
		for i, op := range []string{"ct-mueller", "ct-schmidt"} {
			st := day.Add(time.Duration(9+3*i+d%3) * time.Hour)
			id := op + day.Format("0102")
			evs = append(evs, evtest.RMM(st, "FS01", "session_start", id, op, "10.99.0.1"+string(rune('0'+i)), ""),
				evtest.RMM(st.Add(5*time.Minute), "FS01", "command", id, op, "", "Get-HotFix | Select -First 5"),
				evtest.RMM(st.Add(time.Duration(15+d%10)*time.Minute), "FS01", "session_end", id, op, "10.99.0.1"+string(rune('0'+i)), ""))
		}
	}
	return evs
}

func TestOutOfPattern(t *testing.T) {
	cfg := caseCfg(t)
	evs := baseline(cfg)
	// A usual weekday session in November: in pattern, no finding.
	tue := evtest.At(2026, 11, 10, 10, 5)
	evs = append(evs, evtest.RMM(tue, "FS01", "session_start", "ok1", "ct-mueller", "10.99.0.10", ""), evtest.RMM(tue.Add(20*time.Minute), "FS01", "session_end", "ok1", "ct-mueller", "10.99.0.10", ""))
	// Saturday night, known operator, new source, recon via the agent.
	sat := evtest.At(2026, 11, 14, 23, 5)
	evs = append(evs, evtest.RMM(sat, "DC01", "session_start", "atk", "ct-mueller", "203.0.113.91", ""),
		evtest.RMM(sat.Add(time.Minute), "DC01", "command", "atk", "ct-mueller", "203.0.113.91", "net user /domain"),
		evtest.RMM(sat.Add(12*time.Minute), "DC01", "session_end", "atk", "ct-mueller", "203.0.113.91", ""))
	// Every process the agent starts in the window is linked, recon or not.
	for i, c := range []string{`cmd.exe /c net user /domain`, `powershell.exe -c "Get-ADGroupMember 'Domain Admins'"`, `powershell.exe -c "nltest /domain_trusts"`, `C:\Windows\System32\notepad.exe`} {
		ev := evtest.Sec(sat.Add(time.Duration(i+1)*time.Minute+2*time.Second), "dc01.corp.example", 4688)
		ev.CommandLine = c
		ev.ParentProcess = `C:\Program Files (x86)\ScreenConnect Client (1)\ScreenConnect.ClientService.exe`
		evs = append(evs, ev)
	}
	// Outside the window: not linked.
	late := evtest.Sec(sat.Add(2*time.Hour), "DC01", 4688)
	late.CommandLine = "net user /domain"
	evs = append(evs, late)
	// A vendor never seen before, Wednesday 11:00: new, but in office
	// hours that alone is not out of pattern.
	wed := evtest.At(2026, 11, 12, 11, 0)
	evs = append(evs, evtest.RMM(wed, "ERP01", "session_start", "v1", "erp-vendor", "198.51.100.7", ""), evtest.RMM(wed.Add(30*time.Minute), "ERP01", "session_end", "v1", "erp-vendor", "198.51.100.7", ""))

	fs := evtest.Run(New(cfg), evs)
	evtest.Golden(t, "out_of_pattern.golden.json", fs)
	if len(fs) != 1 {
		for _, f := range fs {
			t.Logf("%s %s %s: %s", f.Severity, f.SessionID, f.Title, f.Reason)
		}
		t.Fatalf("want exactly the Saturday session, got %d findings", len(fs))
	}
	f := fs[0]
	if f.SessionID != "atk" || f.Severity != event.SevCritical || f.Host != "DC01" || f.User != "ct-mueller" {
		t.Errorf("got %s %s on %s by %s, want critical atk on DC01 by ct-mueller", f.Severity, f.SessionID, f.Host, f.User)
	}
	if !strings.Contains(f.Title, "weekend") {
		t.Errorf("title %q lacks weekend", f.Title)
	}
	get := func(k string) any { v, _ := f.Details.Get(k); return v }
	if get("weekend") != 1 || get("host_commands_linked") != 4 || get("agent_children") != 4 || get("discovery_kinds") != 3 {
		t.Errorf("details %v", f.Details)
	}
	for _, want := range []string{"source 203.0.113.91 not seen", "0 of", "weekend"} {
		if !strings.Contains(f.Reason, want) {
			t.Errorf("reason %q lacks %q", f.Reason, want)
		}
	}
	if len(f.Refs) != 7 { // start, end, 1 RMM command, 4 processes
		t.Errorf("refs %d, want 7: %+v", len(f.Refs), f.Refs)
	}
}

func TestSessionsWithoutID(t *testing.T) {
	cfg := caseCfg(t)
	evs := baseline(cfg)
	sun := evtest.At(2026, 11, 15, 2, 20)
	evs = append(evs, evtest.RMM(sun, "ERP01", "session_start", "", "ct-weber", "203.0.113.91", ""),
		evtest.RMM(sun.Add(time.Minute), "ERP01", "command", "", "ct-weber", "", "Get-WmiObject Win32_Product"),
		evtest.RMM(sun.Add(9*time.Minute), "ERP01", "session_end", "", "ct-weber", "203.0.113.91", ""))
	fs := evtest.Run(New(cfg), evs)
	if len(fs) != 1 || fs[0].Severity != event.SevHigh || !strings.HasPrefix(fs[0].SessionID, "erp01-") {
		t.Fatalf("got %+v", fs)
	}
	if d, _ := fs[0].Details.Get("rmm_commands"); d != 1 {
		t.Errorf("rmm_commands %v", d)
	}
}

func TestHolidayAndOffHours(t *testing.T) {
	cfg := caseCfg(t)
	evs := baseline(cfg)
	hol := evtest.At(2026, 11, 11, 10, 0) // holiday, usual hour
	eve := evtest.At(2026, 11, 12, 21, 30)
	evs = append(evs, evtest.RMM(hol, "FS01", "session_start", "h", "ct-mueller", "10.99.0.10", ""), evtest.RMM(hol.Add(time.Minute), "FS01", "session_end", "h", "ct-mueller", "10.99.0.10", ""),
		evtest.RMM(eve, "FS01", "session_start", "e", "ct-schmidt", "10.99.0.11", ""), evtest.RMM(eve.Add(time.Minute), "FS01", "session_end", "e", "ct-schmidt", "10.99.0.11", ""))
	fs := evtest.Run(New(cfg), evs)
	got := map[string]string{}
	for _, f := range fs {
		got[f.SessionID] = f.Title
	}
	if !strings.Contains(got["h"], "holiday") || !strings.Contains(got["e"], "off-hours") || len(fs) != 2 {
		t.Errorf("got %v", got)
	}
}
