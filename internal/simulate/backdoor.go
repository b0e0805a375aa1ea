package simulate

import (
	"fmt"
	"strconv"
	"time"
)

// Backdoors that outlive a password reset and the blinding of Sysmon, as
// the attacker of comtech-lateral leaves them from the RMM session — SID
// history with a privileged SID, the DSRM administrator enabled for
// network logon, an accessibility binary replaced by a shell and its IFEO
// debugger set, Sysmon's driver unloaded and the service disabled — and
// their benign look-alikes in normal life: an ADMT domain migration
// (SID history from the old domain), the nightly DSRM password sync of
// KB961320, users opening the on-screen keyboard or magnifier at the logon
// screen, Windows servicing replacing the accessibility binaries, and
// Sysmon upgraded and reconfigured fleet-wide by the deployment tool.

// accessBins are the accessibility programs the logon screen can start.
var accessBins = []string{"sethc.exe", "utilman.exe", "osk.exe", "magnify.exe", "narrator.exe", "displayswitch.exe", "atbroker.exe"}

const (
	sysmonExe = `C:\Windows\Sysmon64.exe`
	ifeoKey   = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options\`
	tiWorker  = `C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.20348.2700_none_7ee0bdd1f3b0b1a6\TiWorker.exe`
)

// sysmon11 is a file created or overwritten.
func (g *gen) sysmon11(h *host, t time.Time, user string, p proc, target string) *entry {
	return g.emit(h, t, g.newRec(h, pSysmon, chSysmon, 11, 2, 4, 11, 0, 0x8000000000000000, h.sysmPID, sidSystem, f(
		"RuleName", "-", "UtcTime", t.UTC().Format("2006-01-02 15:04:05.000"), "ProcessGuid", p.guid, "ProcessId", strconv.Itoa(int(p.pid)),
		"Image", p.image, "TargetFilename", target, "CreationUtcTime", t.Add(-time.Duration(1+g.r.IntN(900))*24*time.Hour).UTC().Format("2006-01-02 15:04:05.000"), "User", user)))
}

// sysmon4 is Sysmon's service state record (Started, Stopped).
func (g *gen) sysmon4(h *host, t time.Time, state, version string) *entry {
	return g.emit(h, t, g.newRec(h, pSysmon, chSysmon, 4, 3, 4, 4, 0, 0x8000000000000000, h.sysmPID, sidSystem, f(
		"UtcTime", t.UTC().Format("2006-01-02 15:04:05.000"), "State", state, "Version", version, "SchemaVersion", "4.90")))
}

// sysmon16 is Sysmon's configuration change record.
func (g *gen) sysmon16(h *host, t time.Time, config string) *entry {
	return g.emit(h, t, g.newRec(h, pSysmon, chSysmon, 16, 3, 4, 16, 0, 0x8000000000000000, h.sysmPID, sidSystem, f(
		"UtcTime", t.UTC().Format("2006-01-02 15:04:05.000"), "Configuration", config,
		"ConfigurationFileHash", fmt.Sprintf("SHA256=%016X%016X%016X%016X", g.r.Uint64(), g.r.Uint64(), g.r.Uint64(), g.r.Uint64()))))
}

// sysmon255 is Sysmon's error record; the service writes it when its
// driver is gone.
func (g *gen) sysmon255(h *host, t time.Time, id, desc string) *entry {
	return g.emit(h, t, g.newRec(h, pSysmon, chSysmon, 255, 3, 2, 255, 0, 0x8000000000000000, h.sysmPID, sidSystem, f(
		"UtcTime", t.UTC().Format("2006-01-02 15:04:05.000"), "ID", id, "Description", desc)))
}

// service7040 is a service's start type changed.
func (g *gen) service7040(h *host, t time.Time, name, from, to string) *entry {
	r := g.newRec(h, pSCM, chSystem, 7040, 0, 4, 0, 0, 0x8080000000000000, h.svcPID-300, sidSystem, f(
		"param1", name, "param2", from, "param3", to, "param4", name))
	r.Qualifiers = 16384
	return g.emit(h, t, r)
}

// service7045k is a kernel driver installed.
func (g *gen) service7045k(h *host, t time.Time, name, image string) *entry {
	r := g.newRec(h, pSCM, chSystem, 7045, 0, 4, 0, 0, 0x8080000000000000, h.svcPID-300, sidSystem, f(
		"ServiceName", name, "ImagePath", image, "ServiceType", "kernel mode driver", "StartType", "boot start", "AccountName", ""))
	r.Qualifiers = 16384
	return g.emit(h, t, r)
}

// sid4765 is SID history added to an account (on a domain controller).
func (g *gen) sid4765(h *host, t time.Time, subj principal, target *account, srcName, srcSID string) *entry {
	return g.sec(h, t, 4765, 0, 13824, true, f(
		"SubjectUserSid", subj.sid, "SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "SubjectLogonId", subj.logonID,
		"TargetUserName", target.name, "TargetDomainName", domainNB, "TargetSid", target.sid,
		"SourceUserName", srcName, "SourceSid", srcSID, "PrivilegeList", "-", "SidHistory", srcSID))
}

// dsrm4794 is the DSRM administrator password set.
func (g *gen) dsrm4794(h *host, t time.Time, subj principal) *entry {
	return g.sec(h, t, 4794, 0, 13824, true, f(
		"SubjectUserSid", subj.sid, "SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "SubjectLogonId", subj.logonID,
		"Workstation", h.name, "Status", "0x0"))
}

// winlogon is the host's logon process, parent of what the logon screen
// starts.
func (h *host) winlogon() proc {
	return proc{pid: h.lsassPID - 88, image: `C:\Windows\System32\winlogon.exe`, cmdline: "winlogon.exe", guid: "{6F1A3C9E-0004-6543-0E00-000000000A00}"}
}

// backdoors: from the FS01 session, the attacker gives an ordinary
// account the domain's built-in Administrator in its SID history (on
// DC01), sets the DSRM password on DC02 over WinRM and lets that account
// log on over the network, and on FS01 sets cmd.exe as sethc's IFEO
// debugger and copies cmd.exe over utilman.exe. It returns the time after.
func (g *gen) backdoors(s *session, t time.Time, lbl func(h *host, kind, det, detail string, es ...*entry)) time.Time {
	co, src := g.co, s.h
	op := co.ops[0]
	// 1. SID history: the built-in Administrator's SID (RID 500) into
	// an ordinary staff account.
	dc1 := co.host("DC01")
	victim := co.staff[g.r.IntN(len(co.staff))]
	adminSID := co.domainSID + "-500"
	lbl(src, "lateral_command", "rmmsessions", "SID history tool run from the RMM session",
		g.rmmCommand(src, t, s, `C:\Windows\Temp\`+randLetters(g, 5)+`.exe "sid::patch" "sid::add /sam:`+victim.name+` /new:`+adminSID+`" exit`, false)...)
	who := op.acct.as(dc1.logonID(g.r))
	g.logon4624(dc1, t.Add(3*time.Second), who, 3, src.ip, src.name)
	lbl(dc1, "sid_history", "rule:sid-history-added", "Administrator's SID added to "+victim.name+"'s SID history",
		g.sid4765(dc1, t.Add(5*time.Second), who, victim, "Administrator", adminSID))
	g.logoff4634(dc1, t.Add(12*time.Second), who, 3)

	// 2. DSRM over WinRM to DC02: the password set, then network logon
	// allowed for the DSRM administrator.
	t = t.Add(time.Duration(60+g.r.IntN(90)) * time.Second)
	dc2 := co.host("DC02")
	lbl(src, "lateral_command", "rmmsessions", "DSRM change run over WinRM from the RMM session",
		g.rmmCommand(src, t, s, `Invoke-Command -ComputerName DC02 -ScriptBlock { ntdsutil "set dsrm password" "reset password on server null" `+randLetters(g, 12)+` q q; Set-ItemProperty HKLM:\System\CurrentControlSet\Control\Lsa -Name DsrmAdminLogonBehavior -Value 2 -Type DWord }`, false)...)
	who = op.acct.as(dc2.logonID(g.r))
	g.logon4624(dc2, t.Add(3*time.Second), who, 3, src.ip, src.name)
	wsm := proc{pid: dc2.pid(g.r), image: `C:\Windows\System32\wsmprovhost.exe`, cmdline: `C:\Windows\system32\wsmprovhost.exe -Embedding`, guid: guid(g.r)}
	nt := proc{pid: dc2.pid(g.r), image: `C:\Windows\System32\ntdsutil.exe`, cmdline: `"C:\Windows\system32\ntdsutil.exe" "set dsrm password" "reset password on server null" ******** q q`, guid: guid(g.r)}
	lbl(dc2, "dsrm", "rule:dsrm-password-set", "ntdsutil run over WinRM", g.process4688(dc2, t.Add(5*time.Second), who, nt, wsm), g.sysmon1(dc2, t.Add(5*time.Second), domainNB+`\`+op.acct.name, nt, wsm))
	lbl(dc2, "dsrm", "rule:dsrm-password-set", "DSRM administrator password set", g.dsrm4794(dc2, t.Add(6*time.Second), who))
	lbl(dc2, "dsrm", "rule:dsrm-password-set", "DSRM administrator allowed to log on over the network",
		g.sysmon13(dc2, t.Add(8*time.Second), domainNB+`\`+op.acct.name, wsm, `HKLM\System\CurrentControlSet\Control\Lsa\DsrmAdminLogonBehavior`, "DWORD (0x00000002)"))
	g.logoff4634(dc2, t.Add(15*time.Second), who, 3)

	// 3. Accessibility backdoors on FS01: cmd.exe as sethc's debugger,
	// and cmd.exe copied over utilman.exe.
	t = t.Add(time.Duration(60+g.r.IntN(90)) * time.Second)
	regCmd := `reg add "` + ifeoKey + `sethc.exe" /v Debugger /t REG_SZ /d "C:\Windows\System32\cmd.exe" /f`
	ents := g.rmmCommand(src, t, s, regCmd, false)
	lbl(src, "lateral_command", "rmmsessions", "IFEO debugger set from the RMM session", ents...)
	reg := proc{pid: src.pid(g.r), image: `C:\Windows\System32\reg.exe`, guid: guid(g.r)}
	lbl(src, "accessibility_backdoor", "persistence", "cmd.exe set as sethc.exe's debugger",
		g.sysmon13(src, t.Add(2*time.Second), `NT AUTHORITY\SYSTEM`, reg, ifeoKey+`sethc.exe\Debugger`, `C:\Windows\System32\cmd.exe`))
	t = t.Add(time.Duration(20+g.r.IntN(40)) * time.Second)
	cp := `takeown /f C:\Windows\System32\utilman.exe; icacls C:\Windows\System32\utilman.exe /grant administrators:F; cmd /c copy /y C:\Windows\System32\cmd.exe C:\Windows\System32\utilman.exe`
	lbl(src, "lateral_command", "rmmsessions", "utilman.exe replaced from the RMM session", g.rmmCommand(src, t, s, cp, false)...)
	c := proc{pid: src.pid(g.r), image: `C:\Windows\System32\cmd.exe`, cmdline: `"C:\Windows\system32\cmd.exe" /c copy /y C:\Windows\System32\cmd.exe C:\Windows\System32\utilman.exe`, guid: guid(g.r)}
	lbl(src, "accessibility_backdoor", "rule:accessibility-binary-replaced", "cmd.exe copied over utilman.exe",
		g.sysmon11(src, t.Add(3*time.Second), `NT AUTHORITY\SYSTEM`, c, `C:\Windows\System32\utilman.exe`))
	return t.Add(time.Duration(30+g.r.IntN(60)) * time.Second)
}

// logonScreenShell: connected through the tunnel, before logging on,
// the attacker presses Win+U; winlogon starts utilman.exe — now cmd.exe —
// as SYSTEM, which runs discovery.
func (g *gen) logonScreenShell(s *session, t time.Time, lbl func(h *host, kind, det, detail string, es ...*entry)) time.Time {
	h := s.h
	wl := h.winlogon()
	u := proc{pid: h.pid(g.r), image: `C:\Windows\System32\utilman.exe`, cmdline: `utilman.exe /debug`, guid: guid(g.r)}
	lbl(h, "accessibility_backdoor", "rule:accessibility-binary-replaced", "utilman.exe (a copy of cmd.exe) started by winlogon at the logon screen",
		g.sysmon1As(h, t, `NT AUTHORITY\SYSTEM`, u, wl, "cmd.exe"), g.process4688(h, t, h.system(), u, wl))
	ct := t.Add(time.Duration(5+g.r.IntN(10)) * time.Second)
	for _, q := range []struct{ img, cmd string }{{`C:\Windows\System32\whoami.exe`, `whoami /all`}, {`C:\Windows\System32\net.exe`, `net user`}, {`C:\Windows\System32\query.exe`, `query user`}} {
		p := proc{pid: h.pid(g.r), image: q.img, cmdline: q.cmd, guid: guid(g.r)}
		lbl(h, "accessibility_backdoor", "psrecon", "shell at the logon screen: "+q.cmd, g.process4688(h, ct, h.system(), p, u), g.sysmon1(h, ct, `NT AUTHORITY\SYSTEM`, p, u))
		ct = ct.Add(time.Duration(3+g.r.IntN(8)) * time.Second)
	}
	return ct.Add(time.Duration(10+g.r.IntN(20)) * time.Second)
}

// blindSysmon: before leaving, the attacker unloads Sysmon's driver and
// disables the service on FS01.
func (g *gen) blindSysmon(s *session, t time.Time, lbl func(h *host, kind, det, detail string, es ...*entry)) {
	h := s.h
	lbl(h, "lateral_command", "rmmsessions", "Sysmon switched off from the RMM session",
		g.rmmCommand(h, t, s, `fltmc unload SysmonDrv; sc.exe config Sysmon64 start= disabled`, false)...)
	ps := proc{pid: h.pid(g.r), image: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, guid: guid(g.r)}
	fl := proc{pid: h.pid(g.r), image: `C:\Windows\System32\fltMC.exe`, cmdline: `"C:\Windows\system32\fltMC.exe" unload SysmonDrv`, guid: guid(g.r)}
	pt := t.Add(3 * time.Second)
	lbl(h, "sysmon_off", "rule:sysmon-stopped-or-unloaded", "Sysmon driver unloaded", g.process4688(h, pt, h.system(), fl, ps), g.sysmon1(h, pt, `NT AUTHORITY\SYSTEM`, fl, ps))
	g.sysmon255(h, pt.Add(400*time.Millisecond), "DriverCommunication", "Failed to retrieve events - Last error: The I/O operation has been aborted because of either a thread exit or an application request.")
	sc := proc{pid: h.pid(g.r), image: `C:\Windows\System32\sc.exe`, cmdline: `"C:\Windows\system32\sc.exe" config Sysmon64 start= disabled`, guid: guid(g.r)}
	lbl(h, "sysmon_off", "rule:sysmon-stopped-or-unloaded", "Sysmon service disabled", g.process4688(h, pt.Add(2*time.Second), h.system(), sc, ps),
		g.service7040(h, pt.Add(2*time.Second+200*time.Millisecond), "Sysmon64", "auto start", "disabled"))
}

// backdoorLookalikes adds the day's benign look-alikes of the backdoors
// (see the file comment). They draw from their own random stream and
// are written only for the scenarios that measure these techniques
// (normal and comtech-lateral), so the committed demo case stays as it
// was.
func (g *gen) backdoorLookalikes(day time.Time) {
	if g.lb == nil {
		return
	}
	main := g.r
	g.r = g.lb
	defer func() { g.r = main }()
	co := g.co
	work := co.workday(day)
	dayN := int(day.Sub(co.start.In(co.loc)).Hours() / 24)
	// The nightly DSRM password sync from a domain account (KB961320),
	// a scheduled task on each domain controller (DC01 and DC02 are the
	// company's first two hosts).
	for _, h := range co.hosts[:2] {
		t := co.at(day, 2*60+30, g.r.IntN(50))
		if !g.inPeriod(t) {
			continue
		}
		sch := proc{pid: h.svcPID + 8, image: `C:\Windows\System32\svchost.exe`, cmdline: `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`, guid: "{6F1A3C9E-0002-6543-0C00-000000000A00}"}
		nt := proc{pid: h.pid(g.r), image: `C:\Windows\System32\ntdsutil.exe`, cmdline: `"C:\Windows\system32\ntdsutil.exe" "set dsrm password" "sync from domain account dsrm-sync" q q`, guid: guid(g.r)}
		g.process4688(h, t, h.system(), nt, sch)
		g.sysmon1(h, t, `NT AUTHORITY\SYSTEM`, nt, sch)
		g.dsrm4794(h, t.Add(time.Second), h.system())
	}
	// Patch Tuesday: Windows servicing replaces accessibility binaries
	// on every host.
	if day.Weekday() == time.Tuesday && day.Day() > 7 && day.Day() <= 14 {
		for _, h := range co.hosts {
			t := co.at(day, 3*60+g.r.IntN(120), g.r.IntN(60))
			if !g.inPeriod(t) {
				continue
			}
			ti := proc{pid: h.pid(g.r), image: tiWorker, guid: guid(g.r)}
			for _, i := range g.r.Perm(len(accessBins))[:2] {
				g.sysmon11(h, t, `NT AUTHORITY\SYSTEM`, ti, `C:\Windows\System32\`+accessBins[i])
				t = t.Add(time.Duration(200+g.r.IntN(800)) * time.Millisecond)
			}
		}
	}
	// Sysmon maintenance by the deployment tool: a new version early in
	// the period, the configuration pushed again every four weeks, each
	// time to a pilot ring (every fifth host) first and to the rest on
	// the next working day.
	if work && len(co.hosts) > 2 && dayN >= 4+28*g.sysmonPushes {
		for i, h := range co.hosts {
			if (i%5 == 0) != (g.sysmonWave == 0) {
				continue
			}
			t := co.at(day, 11*60+g.r.IntN(4*60), g.r.IntN(60))
			if g.inPeriod(t) {
				g.sysmonUpgrade(h, t, g.sysmonPushes == 0)
			}
		}
		if g.sysmonWave++; g.sysmonWave == 2 {
			g.sysmonWave = 0
			g.sysmonPushes++
		}
	}
	if !work {
		return
	}
	// A user opens the on-screen keyboard or the magnifier at the logon
	// screen (Win+U): winlogon starts utilman.exe, which starts the tool.
	if len(co.hosts) > 5 && g.r.IntN(4) == 0 {
		h := co.hosts[5+g.r.IntN(len(co.hosts)-5)]
		t := co.at(day, 7*60+g.r.IntN(90), g.r.IntN(60))
		if g.inPeriod(t) {
			u := proc{pid: h.pid(g.r), image: `C:\Windows\System32\utilman.exe`, cmdline: `utilman.exe /debug`, guid: guid(g.r)}
			g.process4688(h, t, h.system(), u, h.winlogon())
			g.sysmon1(h, t, `NT AUTHORITY\SYSTEM`, u, h.winlogon())
			tool := []string{"osk.exe", "magnify.exe", "narrator.exe"}[g.r.IntN(3)]
			p := proc{pid: h.pid(g.r), image: `C:\Windows\System32\` + tool, cmdline: `"C:\Windows\System32\` + tool + `"`, guid: guid(g.r)}
			t = t.Add(time.Duration(1+g.r.IntN(3)) * time.Second)
			g.process4688(h, t, h.system(), p, u)
			g.sysmon1(h, t, `NT AUTHORITY\SYSTEM`, p, u)
		}
	}
	// The domain migration: on one day, the in-house admin merges a
	// batch of accounts of the old domain with ADMT, carrying their old
	// SIDs in SID history.
	if g.migrationDay.IsZero() {
		g.migrationDay = co.start.In(co.loc).AddDate(0, 0, 3+g.r.IntN(max(1, int(co.end.Sub(co.start).Hours()/24)-5)))
	}
	if day.YearDay() == g.migrationDay.YearDay() && day.Year() == g.migrationDay.Year() {
		dc := co.hosts[0]
		t := co.at(day, 10*60+g.r.IntN(4*60), g.r.IntN(60))
		adm := co.itAdmin.as(dc.logonID(g.r))
		old := fmt.Sprintf("S-1-5-21-%d-%d-%d", 1000000000+g.r.IntN(2000000000), 1000000000+g.r.IntN(2000000000), 1000000000+g.r.IntN(2000000000))
		for _, i := range g.r.Perm(len(co.staff))[:min(len(co.staff), 6+g.r.IntN(7))] {
			if !g.inPeriod(t) {
				break
			}
			a := co.staff[i]
			g.sid4765(dc, t, adm, a, a.name, fmt.Sprintf("%s-%d", old, 1100+g.r.IntN(4000)))
			t = t.Add(time.Duration(2+g.r.IntN(20)) * time.Second)
		}
	}
}

// sysmonUpgrade: the deployment runner uninstalls Sysmon and installs
// the new version with the new configuration (full), or only pushes the
// configuration.
func (g *gen) sysmonUpgrade(h *host, t time.Time, full bool) {
	services := proc{pid: h.svcPID - 300, image: `C:\Windows\System32\services.exe`, cmdline: `C:\Windows\system32\services.exe`, guid: "{6F1A3C9E-0001-6543-0B00-000000000A00}"}
	runner := proc{pid: h.pid(g.r), image: deployImage, cmdline: deployImage, guid: guid(g.r)}
	files := `C:\Windows\DeployAgent\Runner\service-1\files\`
	g.process4688(h, t, h.system(), runner, services)
	cfg := files + `sysmonconfig.xml`
	if !full {
		p := proc{pid: h.pid(g.r), image: sysmonExe, cmdline: sysmonExe + ` -c ` + cfg, guid: guid(g.r)}
		g.process4688(h, t.Add(2*time.Second), h.system(), p, runner)
		g.sysmon1(h, t.Add(2*time.Second), `NT AUTHORITY\SYSTEM`, p, runner)
		g.sysmon16(h, t.Add(3*time.Second), cfg)
		return
	}
	u := proc{pid: h.pid(g.r), image: sysmonExe, cmdline: sysmonExe + ` -u force`, guid: guid(g.r)}
	g.process4688(h, t.Add(2*time.Second), h.system(), u, runner)
	g.sysmon1(h, t.Add(2*time.Second), `NT AUTHORITY\SYSTEM`, u, runner)
	g.sysmon4(h, t.Add(3*time.Second), "Stopped", "15.14")
	g.service7036(h, t.Add(4*time.Second), "Sysmon64", "stopped")
	i := proc{pid: h.pid(g.r), image: files + `Sysmon64.exe`, cmdline: files + `Sysmon64.exe -accepteula -i ` + cfg, guid: guid(g.r)}
	t = t.Add(8 * time.Second)
	g.process4688(h, t, h.system(), i, runner)
	g.service7045k(h, t.Add(time.Second), "SysmonDrv", "SysmonDrv.sys")
	g.service7045(h, t.Add(time.Second), "Sysmon64", sysmonExe, "LocalSystem")
	g.service7036(h, t.Add(2*time.Second), "Sysmon64", "running")
	g.sysmon4(h, t.Add(2*time.Second), "Started", "15.15")
	g.sysmon16(h, t.Add(3*time.Second), cfg)
}
