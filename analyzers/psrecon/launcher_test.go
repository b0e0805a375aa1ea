package psrecon

import (
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/internal/evtest"
	"github.com/spoor-dfir/spoor/internal/event"
)

// proc4688 is a process creation with its parent and account, as Windows
// 10 writes it.
func proc4688(t time.Time, host, image, parent, cmd, dom, user string) event.Event {
	ev := evtest.Sec(t, host, 4688, "NewProcessName", image, "ParentProcessName", parent, "CommandLine", cmd,
		"SubjectDomainName", dom, "SubjectUserName", user)
	ev.CommandLine, ev.ParentProcess, ev.Process = cmd, parent, image
	return ev
}

// One discovery command or a bare shell in office hours is info or low
// for an admin; who started it changes that.
func TestLauncherWeighsOneCommand(t *testing.T) {
	t0 := evtest.At(2026, 11, 11, 10, 15) // Wednesday morning
	cmd := `C:\Windows\System32\cmd.exe`
	cases := []struct {
		name string
		ev   event.Event
		want string
		rule string
	}{
		{"web shell: w3wp runs net user as an app pool", proc4688(t0, "WEB01", `C:\Windows\System32\net.exe`, `c:\windows\system32\inetsrv\w3wp.exe`, `net user`, "IIS APPPOOL", "DefaultAppPool"), event.SevHigh, "psrecon.remote_exec"},
		{"web shell: app pool account, parent cmd", proc4688(t0, "WEB01", `C:\Windows\System32\whoami.exe`, cmd, `whoami`, "IIS APPPOOL", "intranet"), event.SevHigh, "psrecon.remote_exec"},
		{"WinRM: winrshost runs ipconfig", proc4688(t0, "FS01", `C:\Windows\System32\cmd.exe`, `C:\Windows\System32\winrshost.exe`, `cmd /C ipconfig`, "CORP", "bob"), event.SevHigh, "psrecon.remote_exec"},
		{"WinRM: hostname from wsmprovhost", proc4688(t0, "FS01", `C:\Windows\System32\HOSTNAME.EXE`, `C:\Windows\System32\wsmprovhost.exe`, `"C:\Windows\system32\HOSTNAME.EXE"`, "CORP", "bob"), event.SevHigh, "psrecon.remote_exec"},
		{"wmiexec shape", proc4688(t0, "FS01", cmd, `C:\Windows\System32\wbem\WmiPrvSE.exe`, `cmd.exe /Q /c whoami 1> \\127.0.0.1\ADMIN$\__1699999999.12 2>&1`, "CORP", "bob"), event.SevHigh, "psrecon.remote_exec"},
		{"dcomexec shape without a parent name", proc4688(t0, "FS01", cmd, ``, `cmd.exe /Q /c cd \ 1> \\127.0.0.1\ADMIN$\__1699999999 2>&1`, "CORP", "bob"), event.SevHigh, "psrecon.remote_exec"},
		{"renamed PsExec service binary runs a shell", proc4688(t0, "ERP01", cmd, `C:\Windows\wupdsvc.exe`, `cmd.exe`, "NT AUTHORITY", "SYSTEM"), event.SevMedium, "psrecon.remote_exec"},
		{"renamed PsExec service binary runs discovery", proc4688(t0, "ERP01", `C:\Windows\System32\systeminfo.exe`, `C:\Windows\wupdsvc.exe`, `systeminfo`, "NT AUTHORITY", "SYSTEM"), event.SevHigh, "psrecon.remote_exec"},
		{"sticky keys replaced by cmd", proc4688(t0, "PC-001", cmd, `C:\Windows\System32\sethc.exe`, `cmd.exe`, "NT AUTHORITY", "SYSTEM"), event.SevHigh, "psrecon.remote_exec"},
		{"Word runs PowerShell", proc4688(t0, "PC-001", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, `powershell -w hidden -c "whoami"`, "CORP", "anna"), event.SevHigh, "psrecon.remote_exec"},
		{"admin's own cmd: whoami", proc4688(t0, "PC-001", `C:\Windows\System32\whoami.exe`, cmd, `whoami`, "CORP", "itadmin"), event.SevInfo, "psrecon.command"},
		{"admin's own console starts a shell", proc4688(t0, "PC-001", cmd, `C:\Windows\explorer.exe`, `cmd.exe`, "CORP", "itadmin"), "", ""},
	}
	// Each case as the hunt shows it too: raw fields left as stored text
	// (read without the dict, and asked MayHold before the account).
	n := len(cases)
	for _, c := range cases[:n] {
		raw := c.ev
		text, err := event.MarshalFields(raw.Fields)
		if err != nil {
			t.Fatal(err)
		}
		raw.Fields, raw.RawFields = nil, string(text)
		c.name, c.ev = c.name+" (stored text)", raw
		cases = append(cases, c)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := evtest.Run(New(caseCfg(t)), []event.Event{c.ev})
			if c.want == "" {
				if len(fs) != 0 {
					t.Fatalf("want nothing, got %s %s", fs[0].Severity, fs[0].Reason)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("want 1 finding, got %d", len(fs))
			}
			if fs[0].Severity != c.want || fs[0].RuleID != c.rule {
				t.Errorf("%s %s, want %s %s: %s", fs[0].Severity, fs[0].RuleID, c.want, c.rule, fs[0].Reason)
			}
			if c.rule == "psrecon.remote_exec" && !strings.Contains(fs[0].Reason, "started by") && !strings.Contains(fs[0].Reason, "administrative share") {
				t.Errorf("reason does not name the launcher: %s", fs[0].Reason)
			}
		})
	}
}

// mmc is DCOM only when COM started it (-Embedding); an admin's console
// that opens a prompt is not remote execution.
func TestMMCNeedsEmbedding(t *testing.T) {
	t0 := evtest.At(2026, 11, 11, 10, 15)
	mk := func(pcmd string) event.Event {
		ev := evtest.Evtx(t0, "FS01", "Microsoft-Windows-Sysmon/Operational", 1, "Image", `C:\Windows\System32\ipconfig.exe`, "CommandLine", "ipconfig /all",
			"ParentImage", `C:\Windows\System32\mmc.exe`, "ParentCommandLine", pcmd, "User", `CORP\bob`)
		return ev
	}
	if fs := evtest.Run(New(caseCfg(t)), []event.Event{mk(`C:\Windows\system32\mmc.exe -Embedding`)}); len(fs) != 1 || fs[0].Severity != event.SevHigh {
		t.Errorf("DCOM mmc: %+v", fs)
	}
	if fs := evtest.Run(New(caseCfg(t)), []event.Event{mk(`"C:\Windows\system32\mmc.exe" "C:\Windows\system32\compmgmt.msc"`)}); len(fs) != 1 || event.Rank(fs[0].Severity) >= event.Rank(event.SevMedium) {
		t.Errorf("admin mmc: %+v", fs)
	}
}

// Credential access seen only in Sysmon 10 and enumeration seen only in
// 4798/4799.
func TestLsassAccessAndSecurityEnumeration(t *testing.T) {
	t0 := evtest.At(2026, 11, 11, 10, 15)
	sysmon := "Microsoft-Windows-Sysmon/Operational"
	fs := evtest.Run(New(caseCfg(t)), []event.Event{
		evtest.Evtx(t0, "FS01", sysmon, 10, "SourceImage", `C:\Users\bob\AppData\Local\Temp\x.exe`, "TargetImage", `C:\Windows\system32\lsass.exe`, "GrantedAccess", "0x1010", "SourceUser", `CORP\bob`),
		evtest.Evtx(t0, "FS01", sysmon, 10, "SourceImage", `C:\Windows\system32\svchost.exe`, "TargetImage", `C:\Windows\system32\lsass.exe`, "GrantedAccess", "0x1410"),
		evtest.Evtx(t0, "FS01", sysmon, 10, "SourceImage", `C:\Users\bob\x.exe`, "TargetImage", `C:\Windows\system32\lsass.exe`, "GrantedAccess", "0x1000"),
	})
	if len(fs) != 1 || fs[0].Severity != event.SevHigh || !strings.Contains(fs[0].Summary, `Temp\x.exe opened lsass.exe`) {
		t.Fatalf("lsass: %+v", fs)
	}
	fs = evtest.Run(New(caseCfg(t)), []event.Event{
		evtest.Sec(t0, "DC01", 4799, "TargetUserName", "Administrators", "SubjectUserName", "mallory", "CallerProcessName", `C:\Windows\System32\net1.exe`),
		evtest.Sec(t0.Add(time.Second), "DC01", 4798, "TargetUserName", "bob", "SubjectUserName", "mallory", "CallerProcessName", `C:\Windows\System32\net1.exe`),
		evtest.Sec(t0.Add(2*time.Second), "DC01", 4798, "TargetUserName", "anna", "SubjectUserName", "itadmin", "CallerProcessName", `C:\Windows\System32\mmc.exe`),
	})
	if len(fs) != 1 || fs[0].RuleID != "psrecon.burst" || !strings.Contains(fs[0].Details.Keys()[0], "commands") {
		t.Fatalf("4798/4799 by net1: %+v", fs)
	}
	if k, _ := fs[0].Details.Get("kinds"); k != "accounts,groups" {
		t.Errorf("kinds %v", k)
	}
}

// Remote enumeration seen only in 5145: one source opens samr, lsarpc and
// srvsvc on a server within a minute (off hours: high); a client's logon
// pair (lsarpc, samr) on a DC is nothing.
func TestPipeEnumeration(t *testing.T) {
	t0 := evtest.At(2026, 11, 14, 23, 10) // Saturday night
	pipe := func(d time.Duration, host, src, name string) event.Event {
		ev := evtest.Sec(t0.Add(d), host, 5145, "ShareName", `\\*\IPC$`, "RelativeTargetName", name, "IpAddress", src, "SubjectUserName", "ct-admin-x", "AccessMask", "0x3")
		ev.SrcIP = src
		return ev
	}
	fs := evtest.Run(New(caseCfg(t)), []event.Event{
		pipe(0, "ERP01", "10.10.0.20", "lsarpc"), pipe(2*time.Second, "ERP01", "10.10.0.20", "samr"), pipe(5*time.Second, "ERP01", "10.10.0.20", "srvsvc"),
		pipe(0, "DC01", "10.10.1.7", "lsarpc"), pipe(time.Second, "DC01", "10.10.1.7", "samr"), pipe(2*time.Second, "DC01", "10.10.1.7", "netlogon"),
	})
	if len(fs) != 1 || fs[0].Host != "ERP01" || fs[0].Severity != event.SevHigh || len(fs[0].Refs) != 3 {
		for _, f := range fs {
			t.Logf("%s %s %s %s", f.Severity, f.Host, f.Summary, f.Reason)
		}
		t.Fatalf("want one high finding on ERP01 with the three opens, got %d", len(fs))
	}
	if k, _ := fs[0].Details.Get("kinds"); k != "accounts,shares" {
		t.Errorf("kinds %v", k)
	}
}
