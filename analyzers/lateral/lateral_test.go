package lateral

import (
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/internal/evtest"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

func cfg(t *testing.T) *caseconf.Config {
	t.Helper()
	return evtest.Case(t, `
timezone: Europe/Berlin
business_hours: {days: [mon, tue, wed, thu, fri], start: "07:00", end: "19:00"}
internal_networks: ["10.10.0.0/16"]
baseline: {from: "2026-10-01T00:00:00+02:00", to: "2026-11-01T00:00:00+01:00"}
`)
}

func rdp(t time.Time, host, user, src string) []event.Event {
	l := evtest.Sec(t, host, 4624, "TargetUserName", user, "TargetDomainName", "CORP", "LogonType", "10", "IpAddress", src)
	l.LogonType.V, l.User, l.SrcIP = 10, user, src
	r := evtest.Evtx(t.Add(-2*time.Second), host, "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational", 1149, "Param1", user, "Param2", "CORP", "Param3", src)
	s := evtest.Evtx(t.Add(2*time.Second), host, "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", 21, "User", `CORP\`+user, "SessionID", "2", "Address", src)
	return []event.Event{r, l, s}
}

// The admin's daily RDP from her PC is the baseline; afterwards the same
// is nothing, a new server is low, RDP from the loopback address (a
// tunnel) is high in office hours, and an unknown account from the
// internet at night is high.
func TestRDPAgainstOwnBaseline(t *testing.T) {
	var evs []event.Event
	d0 := evtest.At(2026, 10, 5, 10, 0)
	for d := 0; d < 40; d++ {
		day := d0.AddDate(0, 0, d)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		evs = append(evs, rdp(day, "DC01", "k.admin", "10.10.1.5")...)
	}
	wed := evtest.At(2026, 11, 11, 10, 30)
	evs = append(evs, rdp(wed.Add(time.Hour), "FS01", "k.admin", "10.10.1.5")...)
	evs = append(evs, rdp(wed.Add(2*time.Hour), "FS01", "k.admin", "127.0.0.1")...)
	evs = append(evs, rdp(evtest.At(2026, 11, 14, 3, 10), "FS01", "support", "203.0.113.50")...)
	fs := evtest.Run(New(cfg(t)), evs)
	bySrc := map[string]event.Finding{}
	for _, f := range fs {
		t.Logf("%s %s %s: %s | %s", f.Severity, f.RuleID, f.Host, f.Summary, f.Reason)
		if s, _ := f.Details.Get("source"); s != nil {
			bySrc[f.Host+" "+s.(string)] = f
		}
		if f.Host == "DC01" {
			t.Errorf("routine RDP flagged: %s %s", f.Severity, f.Summary)
		}
	}
	if f := bySrc["FS01 10.10.1.5"]; f.Severity != event.SevLow || !strings.Contains(f.Reason, "first RDP logon of this identity to FS01") {
		t.Errorf("new host: %s %s", f.Severity, f.Reason)
	}
	if f := bySrc["FS01 127.0.0.1"]; f.Severity != event.SevHigh || f.RuleID != "lateral.rdp_tunnel" || len(f.Refs) != 3 {
		t.Errorf("loopback: %s %s refs %d", f.Severity, f.RuleID, len(f.Refs))
	}
	if f := bySrc["FS01 203.0.113.50"]; f.Severity != event.SevHigh || !strings.Contains(f.Reason, "internet address") {
		t.Errorf("internet: %s %s", f.Severity, f.Reason)
	}
}

// A COM server started by the DCOM launcher in a network logon from
// another machine is DCOM lateral movement; the same server in a local
// session, the WinRM host in a network session and a server started by a
// program are not.
func TestDCOMActivationFromAnotherMachine(t *testing.T) {
	wed := evtest.At(2026, 11, 11, 10, 30)
	netLogon := func(at time.Time, host, id, src string) event.Event {
		ev := evtest.Sec(at, host, 4624, "TargetUserName", "j.doe", "TargetDomainName", "CORP", "LogonType", "3", "IpAddress", src, "TargetLogonId", id)
		ev.LogonType.V, ev.SrcIP = 3, src
		return ev
	}
	proc := func(at time.Time, host, id, image, cmd, parent string) event.Event {
		ev := evtest.Evtx(at, host, "Microsoft-Windows-Sysmon/Operational", 1, "Image", image, "CommandLine", cmd, "ParentImage", parent, "LogonId", id, "User", `CORP\j.doe`)
		ev.Process, ev.CommandLine, ev.ParentProcess = image, cmd, parent
		return ev
	}
	svchost := `C:\Windows\System32\svchost.exe`
	evs := []event.Event{
		netLogon(wed, "WS02", "0x153ec2b", "10.10.1.7"),
		proc(wed.Add(time.Second), "WS02", "0x153ec2b", `C:\Windows\System32\mmc.exe`, `"C:\Windows\system32\mmc.exe" -Embedding`, svchost),
		// the user's own session on WS03: Office opened for a local caller
		proc(wed, "WS03", "0x2b78cd", `C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE`, `"EXCEL.EXE" /automation -Embedding`, svchost),
		// WinRM's host in a network session: not DCOM
		netLogon(wed, "WS04", "0x99", "10.10.1.7"),
		proc(wed.Add(time.Second), "WS04", "0x99", `C:\Windows\System32\wsmprovhost.exe`, `C:\Windows\system32\wsmprovhost.exe -Embedding`, svchost),
		// started by a program, not by the launcher
		netLogon(wed, "WS05", "0x77", "10.10.1.7"),
		proc(wed.Add(time.Second), "WS05", "0x77", `C:\Windows\System32\mmc.exe`, `mmc.exe -Embedding`, `C:\Windows\explorer.exe`),
	}
	fs := evtest.Run(New(cfg(t)), evs)
	var dcom []event.Finding
	for _, f := range fs {
		t.Logf("%s %s %s: %s | %s", f.Severity, f.RuleID, f.Host, f.Summary, f.Reason)
		if f.RuleID == "lateral.dcom" {
			dcom = append(dcom, f)
		}
	}
	if len(dcom) != 1 || dcom[0].Host != "WS02" || dcom[0].Severity != event.SevMedium || len(dcom[0].Refs) != 2 || !strings.Contains(dcom[0].Reason, "10.10.1.7") {
		t.Fatalf("want one medium lateral.dcom on WS02 with the logon and the process, got %d: %+v", len(dcom), dcom)
	}
	if dcom[0].Tags[1] != "attack.t1021.003" {
		t.Errorf("tags %v", dcom[0].Tags)
	}
}

// FuzzCOMServerPrefilter: the word check before reCOMServer never turns
// away a command line the expression matches.
func FuzzCOMServerPrefilter(f *testing.F) {
	for _, s := range []string{`"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE" -Embedding`, `mmc.exe /AUTOMATION`, `x -embeddingx`, "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := comServer(s), reCOMServer.MatchString(s); got != want {
			t.Fatalf("comServer(%q) = %v, reCOMServer says %v", s, got, want)
		}
	})
}
