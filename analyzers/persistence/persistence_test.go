package persistence

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
`)
}

func task(xmlCmd, args string) string {
	return `<?xml version="1.0" encoding="UTF-16"?><Task><Settings><Hidden>false</Hidden></Settings><Actions Context="Author"><Exec><Command>` + xmlCmd + `</Command><Arguments>` + args + `</Arguments></Exec></Actions></Task>`
}

func sev(fs []event.Finding, rule string) string {
	best := ""
	for _, f := range fs {
		if strings.HasPrefix(f.RuleID, rule) && event.Rank(f.Severity) > event.Rank(best) {
			best = f.Severity
		}
	}
	return best
}

// atexec: a task created and deleted within seconds, running cmd with its
// output redirected to a file in the Windows temp folder — in office
// hours, so the timing does not carry it.
func TestTaskCreatedAndDeletedIsRemoteExecution(t *testing.T) {
	t0 := evtest.At(2026, 3, 11, 10, 0)
	xml := task("cmd.exe", `/C whoami &gt; C:\Windows\Temp\QxHwTbLm.tmp 2&gt;&amp;1`)
	fs := evtest.Run(New(cfg(t)), []event.Event{
		evtest.Sec(t0, "ERP01", 4698, "SubjectUserName", "svc-x", "SubjectDomainName", "CORP", "TaskName", `\QxHwTbLm`, "TaskContent", xml),
		evtest.Sec(t0.Add(4*time.Second), "ERP01", 4699, "SubjectUserName", "svc-x", "SubjectDomainName", "CORP", "TaskName", `\QxHwTbLm`),
	})
	if got := sev(fs, "persistence.remote_task"); got != event.SevHigh {
		for _, f := range fs {
			t.Logf("%s %s %s", f.Severity, f.RuleID, f.Reason)
		}
		t.Fatalf("atexec pattern: %q, want high", got)
	}
	if len(fs[0].Refs) != 2 || !strings.Contains(fs[0].Reason, "deleted 4 s after") {
		t.Errorf("refs %d, reason %s", len(fs[0].Refs), fs[0].Reason)
	}
}

// The same task kept (not deleted) and an admin's script task from a
// program folder are not high.
func TestAdminTaskIsNotHigh(t *testing.T) {
	t0 := evtest.At(2026, 3, 11, 10, 0)
	fs := evtest.Run(New(cfg(t)), []event.Event{
		evtest.Sec(t0, "FS01", 4698, "SubjectUserName", "itadmin", "TaskName", `\Admin\Cleanup`, "TaskContent", task(`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `-NoProfile -File D:\Scripts\cleanup.ps1`)),
	})
	if s := sev(fs, "persistence."); event.Rank(s) >= event.Rank(event.SevMedium) {
		t.Fatalf("admin task: %s", s)
	}
}

// Accessibility-binary hijack: IFEO debugger for sethc set to cmd.exe.
func TestIFEODebuggerIsHigh(t *testing.T) {
	t0 := evtest.At(2026, 3, 11, 10, 0)
	fs := evtest.Run(New(cfg(t)), []event.Event{
		evtest.Evtx(t0, "PC-001", "Microsoft-Windows-Sysmon/Operational", 13, "EventType", "SetValue", "Image", `C:\Windows\regedit.exe`,
			"TargetObject", `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options\sethc.exe\Debugger`, "Details", `C:\Windows\System32\cmd.exe`),
		evtest.Evtx(t0, "PC-001", "Microsoft-Windows-Sysmon/Operational", 13, "EventType", "SetValue", "Image", `C:\Program Files\Vendor\setup.exe`,
			"TargetObject", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\VendorTray`, "Details", `"C:\Program Files\Vendor\tray.exe"`),
	})
	if got := sev(fs, "persistence.autorun"); got != event.SevHigh {
		t.Fatalf("IFEO debugger cmd: %q", got)
	}
	for _, f := range fs {
		if strings.Contains(f.Summary, "VendorTray") {
			t.Errorf("installer's Run value from Program Files flagged %s", f.Severity)
		}
	}
}

// A deployment tool installs the same service from the same folder all
// through the baseline: the later installs are not high, although the
// binary lives in a folder under %SystemRoot%; a renamed PsExec service
// binary dropped over the network to ADMIN$ and starting cmd is high.
func TestDeploymentBaselineAndRenamedPsexec(t *testing.T) {
	c := cfg(t)
	var evs []event.Event
	start := evtest.At(2026, 2, 2, 10, 0)
	for d := 0; d < 40; d++ {
		day := start.AddDate(0, 0, d)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		evs = append(evs, evtest.Evtx(day, "PC-00"+string(rune('1'+d%3)), "System", 7045, "ServiceName", "DeployRunner-"+string(rune('1'+d%5)),
			"ImagePath", `C:\Windows\DeployAgent\Runner\service-1\exec\DeployRunner-1.exe`, "AccountName", "LocalSystem"))
	}
	t1 := start.AddDate(0, 0, 38).Add(2 * time.Hour)
	evs = append(evs,
		evtest.Sec(t1.Add(-5*time.Second), "ERP01", 5145, "ShareName", `\\*\ADMIN$`, "RelativeTargetName", "wupdsvc.exe", "AccessMask", "0x2", "IpAddress", "10.10.1.12", "SubjectUserName", "ct-weber"),
		evtest.Evtx(t1, "ERP01", "System", 7045, "ServiceName", "wupdsvc", "ImagePath", `%SystemRoot%\wupdsvc.exe`, "AccountName", "LocalSystem"),
		evtest.Sec(t1.Add(3*time.Second), "ERP01", 4688, "NewProcessName", `C:\Windows\System32\cmd.exe`, "ParentProcessName", `C:\Windows\wupdsvc.exe`, "CommandLine", "cmd.exe /c whoami"),
	)
	fs := evtest.Run(New(c), evs)
	for _, f := range fs {
		if strings.Contains(f.Summary, "DeployRunner") && event.Rank(f.Severity) >= event.Rank(event.SevHigh) {
			t.Errorf("deployment service %s: %s", f.Severity, f.Reason)
		}
	}
	found := false
	for _, f := range fs {
		if f.RuleID == "persistence.remote_service" && f.Severity == event.SevHigh && strings.Contains(f.Summary, "wupdsvc") {
			found = true
			if !strings.Contains(f.Reason, "from 10.10.1.12 by ct-weber") || !strings.Contains(f.Reason, "cmd.exe /c whoami") || len(f.Refs) != 3 {
				t.Errorf("reason %s, refs %d", f.Reason, len(f.Refs))
			}
		}
	}
	if !found {
		t.Error("renamed PsExec service not high")
	}
}

// Nothing of concern: one info finding naming what was read.
func TestNegativeFindingNamesItsBasis(t *testing.T) {
	t0 := evtest.At(2026, 3, 11, 10, 0)
	fs := evtest.Run(New(cfg(t)), []event.Event{
		evtest.Evtx(t0, "FS01", "System", 7036, "param1", "Print Spooler", "param2", "running"),
		evtest.Evtx(t0, "FS01", "System", 7045, "ServiceName", "Agent", "ImagePath", `"C:\Program Files\Monitoring\agent.exe"`, "AccountName", "LocalSystem"),
	})
	if len(fs) != 1 || fs[0].RuleID != "persistence.none" || !strings.Contains(fs[0].Reason, "services: 2 events on 1 hosts") {
		t.Fatalf("%+v", fs)
	}
}

func TestRandomName(t *testing.T) {
	for name, want := range map[string]bool{"KgXItsbKgTJzdzwl": true, "duKhLYUX": true, "UWdKhYTIQWWJxHfx": true,
		"VMware Tools": false, "MpKsl1bb57ead": false, "PSEXESVC": false, "GoogleUpdaterService": false, "wuauserv": false} {
		if got := randomName(name); got != want {
			t.Errorf("randomName(%q) = %v", name, got)
		}
	}
}

// A task registered from another machine, in Windows' own task folder,
// by a user account, to run cmd as SYSTEM at boot: high; the same
// account's task in its own folder running a program is not flagged.
func TestRemoteMasqueradingTask(t *testing.T) {
	t0 := evtest.At(2026, 3, 11, 10, 0)
	xml := `<Task><Principals><Principal id="Author"><UserId>S-1-5-18</UserId></Principal></Principals><Actions Context="Author"><Exec><Command>C:\Windows\system32\cmd.exe</Command><Arguments>/C C:\Windows\System32\notepad.exe</Arguments></Exec></Actions></Task>`
	logon := evtest.Sec(t0.Add(-time.Second), "WS6", 4624, "LogonType", "3", "TargetLogonId", "0xEAD4335", "IpAddress", "10.0.0.5", "TargetUserName", "pg")
	fs := evtest.Run(New(cfg(t)), []event.Event{logon,
		evtest.Sec(t0, "WS6", 4698, "SubjectUserName", "pg", "SubjectUserSid", "S-1-5-21-1-2-3-1104", "SubjectLogonId", "0xead4335", "TaskName", `\Microsoft\Windows\SoftwareProtectionPlatform\EventCacheManager`, "TaskContent", xml),
		evtest.Sec(t0, "WS6", 4698, "SubjectUserName", "pg", "SubjectUserSid", "S-1-5-21-1-2-3-1104", "SubjectLogonId", "0x1234", "TaskName", `\Reports\Weekly`, "TaskContent", task(`C:\Program Files\Reports\report.exe`, `/weekly`)),
	})
	if len(fs) != 1 || fs[0].Severity != event.SevHigh || fs[0].RuleID != "persistence.remote_task" ||
		!strings.Contains(fs[0].Reason, "Windows' own task folder") || !strings.Contains(fs[0].Reason, "network logon from 10.0.0.5") {
		for _, f := range fs {
			t.Logf("%s %s %s | %s", f.Severity, f.RuleID, f.Summary, f.Reason)
		}
		t.Fatalf("%d findings", len(fs))
	}
}

// An install inside an RMM session out of the provider's pattern names the
// session (for the incident) and counts as a sign by itself; the same
// install outside any session is not flagged.
func TestInstallInOutOfPatternRMMSession(t *testing.T) {
	c := evtest.Case(t, `
timezone: Europe/Berlin
business_hours: {days: [mon, tue, wed, thu, fri], start: "07:00", end: "19:00"}
providers:
  - name: ComTech
    accounts: ["ct-*"]
    operators: ["ct-*"]
    rmm_tools: [screenconnect]
`)
	sat := evtest.At(2026, 11, 14, 23, 5)
	fs := evtest.Run(New(c), []event.Event{
		evtest.RMM(sat, "FS01", "session_start", "S1", "ct-weber", "203.0.113.9", ""),
		evtest.Evtx(sat.Add(4*time.Minute), "FS01", "System", 7045, "ServiceName", "Remote Helper", "ImagePath", `"C:\Program Files\Helper\helper.exe"`, "AccountName", "LocalSystem"),
		evtest.RMM(sat.Add(10*time.Minute), "FS01", "session_end", "S1", "ct-weber", "203.0.113.9", ""),
		evtest.Evtx(sat.Add(3*time.Hour), "FS01", "System", 7045, "ServiceName", "Other Helper", "ImagePath", `"C:\Program Files\Other\other.exe"`, "AccountName", "LocalSystem"),
	})
	var got []event.Finding
	for _, f := range fs {
		if f.RuleID != "persistence.none" {
			got = append(got, f)
		}
	}
	if len(got) != 1 || got[0].SessionID != "S1" || !strings.Contains(got[0].Reason, "out of the provider's pattern") || !strings.Contains(got[0].Summary, "Remote Helper") {
		for _, f := range fs {
			t.Logf("%s %s %s %s | %s", f.Severity, f.RuleID, f.SessionID, f.Summary, f.Reason)
		}
		t.Fatalf("%d findings", len(got))
	}
}

// A batch file PowerShell drops in a user's Startup folder is high; an
// installer's shortcut there is low.
func TestStartupFolder(t *testing.T) {
	t0 := evtest.At(2026, 3, 11, 10, 0)
	sysmon := "Microsoft-Windows-Sysmon/Operational"
	fs := evtest.Run(New(cfg(t)), []event.Event{
		evtest.Evtx(t0, "PC-001", sysmon, 11, "Image", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, "TargetFilename", `C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\startup.bat`),
		evtest.Evtx(t0, "PC-002", sysmon, 11, "Image", `C:\Program Files\Vendor\setup.exe`, "TargetFilename", `C:\ProgramData\Microsoft\Windows\Start Menu\Programs\Startup\Vendor Tray.lnk`),
		evtest.Evtx(t0, "PC-002", sysmon, 11, "Image", `C:\Windows\explorer.exe`, "TargetFilename", `C:\Users\anna\Documents\report.docx`),
	})
	got := map[string]string{}
	for _, f := range fs {
		got[f.Host] = f.Severity
	}
	if got["PC-001"] != event.SevHigh || got["PC-002"] != event.SevLow || len(fs) != 2 {
		t.Fatalf("%v", got)
	}
}

// Some collectors render 4698's TaskContent with the markup escaped.
func TestEscapedTaskContent(t *testing.T) {
	esc := strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(task(`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `-NonI -W hidden -c "IEX ([Text.Encoding]::UNICODE.GetString([Convert]::FromBase64String((gp HKCU:\Software\x).x)))"`))
	cmd, _, _ := taskCommand(esc)
	if !strings.HasPrefix(cmd, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -NonI`) {
		t.Fatalf("command %q", cmd)
	}
}

// A service whose binary sits in %SystemRoot% (Sysmon's own, say)
// installed locally on several hosts is a deployment: below medium. The
// same install on one host stays medium, and a copy on the same hosts
// that arrived through ADMIN$ is not let off.
func TestLocalInstallOnManyHostsIsDeployment(t *testing.T) {
	t0 := evtest.At(2026, 3, 11, 11, 0)
	install := func(host string, at time.Time) event.Event {
		return evtest.Evtx(at, host, "System", 7045, "ServiceName", "Sysmon64", "ImagePath", `C:\Windows\Sysmon64.exe`, "AccountName", "LocalSystem")
	}
	one := evtest.Run(New(cfg(t)), []event.Event{install("PC-001", t0)})
	if got := sev(one, "persistence.service"); got != event.SevMedium {
		t.Fatalf("one host: %q, want medium", got)
	}
	var evs []event.Event
	for i, h := range []string{"PC-001", "PC-002", "PC-003", "FS01"} {
		evs = append(evs, install(h, t0.Add(time.Duration(i)*time.Hour)))
	}
	many := evtest.Run(New(cfg(t)), evs)
	if got := sev(many, "persistence."); event.Rank(got) >= event.Rank(event.SevMedium) {
		t.Fatalf("four hosts: %q, want below medium", got)
	}
	for _, f := range many {
		if strings.HasPrefix(f.RuleID, "persistence.service") && !strings.Contains(f.Reason, "installed the same way on 4 hosts") {
			t.Errorf("reason does not name the deployment: %s", f.Reason)
		}
	}
	// Within the hour of the first install, so the baseline's own
	// "installed before" does not apply either.
	evs = append(evs, evtest.Sec(t0.Add(30*time.Minute-5*time.Second), "ERP01", 5145, "ShareName", `\\*\ADMIN$`, "RelativeTargetName", "Sysmon64.exe", "AccessMask", "0x2", "IpAddress", "10.10.1.12", "SubjectUserName", "ct-weber"),
		install("ERP01", t0.Add(30*time.Minute)))
	fs := evtest.Run(New(cfg(t)), evs)
	for _, f := range fs {
		if f.Host == "ERP01" && event.Rank(f.Severity) < event.Rank(event.SevMedium) {
			t.Errorf("install through ADMIN$ on ERP01 let off as a deployment: %s %s", f.Severity, f.Reason)
		}
	}
}
