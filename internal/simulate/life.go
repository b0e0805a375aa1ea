package simulate

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// gen holds the state of one generation run.
type gen struct {
	r         *rand.Rand
	co        *company
	c         *collector
	fgSession uint64
	newRID    int
	sessEnd   map[*session]time.Time
	hired     bool
	// la draws the benign look-alikes (lateral.go), apart from r so
	// they leave the rest of normal life as it was.
	la *rand.Rand
	// lb draws the backdoors' benign look-alikes (backdoor.go); nil in
	// the scenarios that do not measure them.
	lb           *rand.Rand
	migrationDay time.Time
	sysmonPushes int // Sysmon rollouts done (backdoor.go)
	sysmonWave   int // 0: the pilot ring next, 1: the rest
}

// inPeriod reports whether t lies in the generated period.
func (g *gen) inPeriod(t time.Time) bool { return !t.Before(g.co.start) && t.Before(g.co.end) }

// jit returns d ± up to j.
func (g *gen) jit(d, j time.Duration) time.Duration {
	if j <= 0 {
		return d
	}
	return d - j + time.Duration(g.r.Int64N(int64(2*j)))
}

// days calls fn for each local calendar day touching the period.
func (g *gen) days(fn func(day time.Time)) {
	loc := g.co.loc
	s := g.co.start.In(loc)
	day := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc)
	for !day.After(g.co.end.In(loc)) {
		fn(day)
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	}
}

// routine outbound destinations: (ip, port, host name, service).
type dest struct {
	ip, name string
	port     int
}

var (
	dWinUpdate = dest{"13.107.4.50", "download.windowsupdate.com", 443}
	dDefender  = dest{"20.54.89.106", "wdcp.microsoft.com", 443}
	dOutlook   = dest{"52.97.146.162", "outlook.office365.com", 443}
	dTeams     = dest{"52.112.95.9", "teams.microsoft.com", 443}
	dLogin     = dest{"20.190.159.2", "login.microsoftonline.com", 443}
	dSharePt   = dest{"13.107.136.9", "breisgaumedtec.sharepoint.com", 443}
	dBackup    = dest{backupIP, "vcc.backupcloud-eu.example", 6180}
	dRelay     = dest{relayIP, "comtech-it.screenconnect.com", 8041}
)

var svcUpdates = `C:\Windows\System32\svchost.exe`

// life writes normal activity for the whole period.
func (g *gen) life() {
	co := g.co
	g.days(func(day time.Time) {
		work := co.workday(day)
		for _, h := range co.hosts {
			g.hostRoutine(h, day)
			if work && h.role == roleClient {
				g.staffDay(h, day)
			}
		}
		g.backupNight(day)
		g.lookalikes(day)
		g.backdoorLookalikes(day)
		if work {
			g.adminDay(day)
			g.maintenanceDay(day)
			g.remoteSupportDay(day)
		}
	})
}

// hostRoutine: updates, Defender, relay keep-alive, service churn, the
// occasional failed logon: every host, every day.
func (g *gen) hostRoutine(h *host, day time.Time) {
	co := g.co
	upd := co.at(day, 3*60+g.r.IntN(20*60), g.r.IntN(60))
	if g.inPeriod(upd) {
		g.outbound(h, upd, dWinUpdate, svcUpdates, h.svcPID, 30*time.Second+time.Duration(g.r.IntN(200))*time.Second, 2000+g.r.Int64N(20000), 200000+g.r.Int64N(30000000), true)
		g.service7036(h, upd.Add(2*time.Second), "Windows Modules Installer", "running")
		g.service7036(h, upd.Add(time.Duration(5+g.r.IntN(30))*time.Minute), "Windows Modules Installer", "stopped")
	}
	for i := 0; i < 1; i++ {
		t := co.at(day, g.r.IntN(24*60), g.r.IntN(60))
		if g.inPeriod(t) {
			g.outbound(h, t, dDefender, `C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe`, h.svcPID+40, time.Duration(1+g.r.IntN(5))*time.Second, 3000+g.r.Int64N(4000), 8000+g.r.Int64N(90000), false)
		}
	}
	// ScreenConnect keeps a control connection to ComTech's relay; the
	// firewall logs it when it is re-established.
	for m := g.r.IntN(12 * 60); m < 24*60; m += 12*60 + g.r.IntN(60) {
		t := co.at(day, m, g.r.IntN(60))
		if g.inPeriod(t) {
			g.fortigate(flow{src: h, sport: h.ephemeral(g.r), dst: dRelay.ip, dport: dRelay.port, start: t, dur: time.Duration(11*3600+g.r.IntN(3600)) * time.Second, sent: 90000 + g.r.Int64N(40000), rcv: 120000 + g.r.Int64N(50000), service: "tcp/8041"})
		}
	}
	if h.server() && g.r.IntN(3) == 0 {
		t := co.at(day, g.r.IntN(24*60), g.r.IntN(60))
		if g.inPeriod(t) {
			svc := []string{"Print Spooler", "Windows Update", "Background Intelligent Transfer Service", "Windows Defender Antivirus Network Inspection Service"}[g.r.IntN(4)]
			g.service7036(h, t, svc, "stopped")
			g.service7036(h, t.Add(time.Duration(2+g.r.IntN(20))*time.Second), svc, "running")
		}
	}
	if h.role == roleDC && g.r.IntN(4) == 0 && len(co.staff) > 0 {
		// A phone or mapped drive with a stale password.
		u := co.staff[g.r.IntN(len(co.staff))]
		src := co.hosts[len(co.hosts)-1-g.r.IntN(len(co.staff))]
		t := co.at(day, 6*60+g.r.IntN(14*60), g.r.IntN(60))
		for i := 0; i < 1+g.r.IntN(3) && g.inPeriod(t); i++ {
			g.failed4625(h, t, u.name, 3, src.ip, src.name, "0xC000006A")
			t = t.Add(time.Duration(10+g.r.IntN(300)) * time.Second)
		}
	}
}

// outbound records one routine connection from h on the host (5156,
// sometimes Sysmon 3 and pfirewall) and on the perimeter.
func (g *gen) outbound(h *host, t time.Time, d dest, image string, pid uint32, dur time.Duration, sent, rcv int64, sysmon bool) {
	sport := h.ephemeral(g.r)
	g.wfp5156(h, t, pid, `\device\harddiskvolume2`+strings.ToLower(image[2:]), h.ip, sport, d.ip, d.port)
	if sysmon {
		g.sysmon3(h, t, `NT AUTHORITY\SYSTEM`, proc{pid: pid, image: image, guid: fmt.Sprintf("{6F1A3C9E-%04X-6543-1200-000000000%03X}", pid%0xffff, pid%0xfff)}, h.ip, sport, d.ip, d.name, d.port)
	}
	if g.r.IntN(3) == 0 {
		g.pfw(h, t, "ALLOW", h.ip, d.ip, sport, d.port, "SEND", pid)
	}
	service := "HTTPS"
	if d.port != 443 {
		service = "tcp/" + strconv.Itoa(d.port)
	}
	g.fortigate(flow{src: h, sport: sport, dst: d.ip, dport: d.port, start: t, dur: dur, sent: sent, rcv: rcv, service: service})
}

// staffDay: a user's office day on their PC, the file server and the ERP.
func (g *gen) staffDay(h *host, day time.Time) {
	co, u := g.co, h.user
	if g.r.IntN(20) == 0 { // away
		return
	}
	arrive := co.at(day, u.arrive+g.r.IntN(40)-20, g.r.IntN(60))
	leave := co.at(day, u.leave+g.r.IntN(40)-20, g.r.IntN(60))
	if !g.inPeriod(arrive) || !g.inPeriod(leave) {
		return
	}
	dc := co.hosts[g.r.IntN(2)]
	if g.r.IntN(12) == 0 {
		g.failed4625(h, arrive.Add(-20*time.Second), u.name, 2, "127.0.0.1", h.name, "0xC000006A")
	}
	lid := h.logonID(g.r)
	who := u.as(lid)
	g.logon4624(dc, arrive.Add(-time.Second), u.as(dc.logonID(g.r)), 3, h.ip, "")
	g.logon4624(h, arrive, who, 2, "", h.name)
	explorer := proc{pid: h.pid(g.r), image: `C:\Windows\explorer.exe`, cmdline: `C:\Windows\Explorer.EXE`, guid: guid(g.r)}
	userinit := proc{pid: h.pid(g.r), image: `C:\Windows\System32\userinit.exe`, cmdline: `C:\Windows\system32\userinit.exe`, guid: guid(g.r)}
	g.process4688(h, arrive.Add(2*time.Second), who, explorer, userinit)
	g.sysmon1(h, arrive.Add(2*time.Second), domainNB+`\`+u.name, explorer, userinit)
	apps := []proc{
		{image: `C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`, cmdline: `"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE" `},
		{image: `C:\Users\` + u.name + `\AppData\Local\Microsoft\Teams\current\Teams.exe`, cmdline: `"C:\Users\` + u.name + `\AppData\Local\Microsoft\Teams\current\Teams.exe" --process-start-reason=AutoStart`},
		{image: `C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`, cmdline: `"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --profile-directory=Default`},
		{image: `C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE`, cmdline: `"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE" "\\FS01\Abteilungen\Qualitaet\Pruefplan.xlsx"`},
	}
	t := arrive.Add(30 * time.Second)
	for i, a := range apps {
		if i == 3 && g.r.IntN(2) == 0 {
			continue
		}
		a.pid, a.guid = h.pid(g.r), guid(g.r)
		t = t.Add(time.Duration(5+g.r.IntN(600)) * time.Second)
		g.process4688(h, t, who, a, explorer)
		if g.r.IntN(2) == 0 {
			g.sysmon1(h, t, domainNB+`\`+u.name, a, explorer)
		}
		d := []dest{dOutlook, dTeams, dLogin, dSharePt}[i]
		g.outbound(h, t.Add(3*time.Second), d, a.image, a.pid, time.Duration(60+g.r.IntN(3000))*time.Second, 20000+g.r.Int64N(900000), 50000+g.r.Int64N(8000000), g.r.IntN(3) == 0)
	}
	// Mapped drives: the file server sees a network logon; half the staff
	// also work in the ERP.
	fs := co.host("FS01")
	fsWho := u.as(fs.logonID(g.r))
	g.logon4624(fs, arrive.Add(40*time.Second), fsWho, 3, h.ip, h.name)
	g.logoff4634(fs, leave.Add(-10*time.Second), fsWho, 3)
	if u.arrive%2 == 0 {
		erp := co.host("ERP01")
		eWho := u.as(erp.logonID(g.r))
		et := arrive.Add(time.Duration(300+g.r.IntN(3600)) * time.Second)
		g.logon4624(erp, et, eWho, 3, h.ip, h.name)
		g.logoff4634(erp, et.Add(time.Duration(600+g.r.IntN(6*3600))*time.Second), eWho, 3)
	}
	// Lunch: screen locked, then unlocked (logon type 7).
	lunch := co.at(day, 12*60+g.r.IntN(60), g.r.IntN(60))
	if lunch.After(arrive) && lunch.Before(leave) {
		uw := u.as(h.logonID(g.r))
		g.logon4624(h, lunch.Add(time.Duration(20+g.r.IntN(25))*time.Minute), uw, 7, "", h.name)
		g.logoff4634(h, lunch.Add(time.Duration(50+g.r.IntN(5))*time.Minute), uw, 7)
	}
	g.logoff4634(h, leave, who, 2)
}

// backupNight: the backup service account's nightly job (off hours, every
// day, by design) and the upload to the backup cloud.
func (g *gen) backupNight(day time.Time) {
	co := g.co
	b := co.host("BACKUP01")
	start := co.at(day, 22*60+g.r.IntN(5), g.r.IntN(60))
	if !g.inPeriod(start) {
		return
	}
	who := co.svcBackup.as(b.logonID(g.r))
	g.logon4624(b, start, who, 5, "", "")
	g.special4672(b, start, who)
	for i, name := range []string{"FS01", "ERP01", "DC01"} {
		t := start.Add(time.Duration(i*10+g.r.IntN(5)) * time.Minute)
		tgt := co.host(name)
		g.explicit4648(b, t, who, co.svcBackup, tgt.fqdn(), `C:\Program Files\Veeam\Backup and Replication\Backup\Veeam.Backup.Manager.exe`, b.svcPID+120)
		tw := co.svcBackup.as(tgt.logonID(g.r))
		g.logon4624(tgt, t.Add(time.Second), tw, 3, b.ip, "BACKUP01")
		g.special4672(tgt, t.Add(time.Second), tw)
		g.logoff4634(tgt, t.Add(time.Duration(15+g.r.IntN(60))*time.Minute), tw, 3)
	}
	g.logoff4634(b, start.Add(90*time.Minute), who, 5)
	up := co.at(day, 25*60+g.r.IntN(30), g.r.IntN(60)) // 01:xx the next morning
	if g.inPeriod(up) {
		g.outbound(b, up, dBackup, `C:\Program Files\Veeam\Backup and Replication\Backup\Veeam.Backup.Manager.exe`, b.svcPID+120,
			time.Duration(3600+g.r.IntN(3600))*time.Second, 2_000_000_000+g.r.Int64N(4_000_000_000), 20_000_000+g.r.Int64N(20_000_000), true)
	}
}

// adminCommands are in-house admin PowerShell in office hours: mostly
// harmless, some of it discovery-like (one account, one group) on purpose.
var adminCommands = []string{
	"Get-ADUser -Identity %s -Properties LockedOut,LastLogonDate",
	"Unlock-ADAccount -Identity %s",
	"Get-ADGroupMember -Identity 'GG-Qualitaet'",
	"Get-Service -Name Spooler,LanmanServer | Select-Object Name,Status",
	"Get-ADComputer -Identity PC-003 -Properties OperatingSystem",
	"Get-SmbOpenFile | Where-Object ClientUserName -like '*%s*'",
	"Get-EventLog -LogName System -Newest 20 -EntryType Error",
}

// adminDay: the in-house admin on the domain controller.
func (g *gen) adminDay(day time.Time) {
	co := g.co
	if g.r.IntN(3) == 0 || len(co.staff) == 0 {
		return
	}
	dc := co.host("DC01")
	src := co.hosts[5] // her own PC
	t := co.at(day, 9*60+g.r.IntN(6*60), g.r.IntN(60))
	if !g.inPeriod(t) {
		return
	}
	who := co.itAdmin.as(dc.logonID(g.r))
	g.rdp1149(dc, t, co.itAdmin.name, src.ip)
	g.logon4624(dc, t.Add(2*time.Second), who, 10, src.ip, src.name)
	g.special4672(dc, t.Add(2*time.Second), who)
	g.lsm(dc, t.Add(4*time.Second), 21, co.itAdmin.name, src.ip, 2+g.r.IntN(3))
	u := co.staff[g.r.IntN(len(co.staff))]
	n := 1 + g.r.IntN(2)
	for i := 0; i < n; i++ {
		cmd := adminCommands[g.r.IntN(len(adminCommands))]
		if strings.Contains(cmd, "%s") {
			cmd = fmt.Sprintf(cmd, u.name)
		}
		t = t.Add(time.Duration(60+g.r.IntN(600)) * time.Second)
		g.psInteractive(dc, t, who, co.itAdmin, cmd)
	}
	if g.r.IntN(4) == 0 { // helpdesk: password reset
		t = t.Add(time.Duration(60+g.r.IntN(300)) * time.Second)
		g.userAcct(dc, t, 4724, u, who)
		g.userAcct(dc, t.Add(time.Second), 4738, u, who, t.In(time.UTC).Format("1/2/2006 3:04:05 PM"))
	}
	if !g.hired && g.r.IntN(10) == 0 { // a new colleague: account and department group
		g.hired = true
		g.newRID += 1 + g.r.IntN(5)
		nu := &account{name: "l.neumann", display: "Lea Neumann", sid: fmt.Sprintf("%s-%d", co.domainSID, g.newRID)}
		t = t.Add(time.Duration(60+g.r.IntN(300)) * time.Second)
		g.psInteractive(dc, t, who, co.itAdmin, "New-ADUser -Name 'Lea Neumann' -SamAccountName l.neumann -Path 'OU=Users,OU=Breisgau,DC=corp,DC=breisgau-medtec,DC=de' -Enabled $true")
		t = t.Add(20 * time.Second)
		g.userAcct(dc, t, 4720, nu, who)
		g.userAcct(dc, t.Add(100*time.Millisecond), 4722, nu, who)
		g.userAcct(dc, t.Add(200*time.Millisecond), 4724, nu, who)
		g.userAcct(dc, t.Add(300*time.Millisecond), 4738, nu, who, t.In(time.UTC).Format("1/2/2006 3:04:05 PM"))
		g.groupAdd(dc, t.Add(30*time.Second), 4728, nu, "GG-Vertrieb", co.domainSID+"-1131", who)
	}
	if g.r.IntN(6) == 0 { // universal distribution group maintenance
		t = t.Add(time.Duration(60+g.r.IntN(300)) * time.Second)
		g.groupAdd(dc, t, 4756, u, "UG-Alle-Mitarbeiter", co.domainSID+"-1120", who)
	}
	end := t.Add(time.Duration(5+g.r.IntN(30)) * time.Minute)
	g.lsm(dc, end, 23, co.itAdmin.name, "", 2)
	g.logoff4634(dc, end, who, 10)
}

// psInteractive: an admin typing a command in a console: process, engine
// start, script block, pipeline record.
func (g *gen) psInteractive(h *host, t time.Time, who principal, a *account, cmd string) {
	ps := proc{pid: h.pid(g.r), image: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, cmdline: `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" `, guid: guid(g.r)}
	parent := proc{pid: h.pid(g.r), image: `C:\Windows\explorer.exe`, cmdline: `C:\Windows\Explorer.EXE`, guid: guid(g.r)}
	rs := strings.ToLower(strings.Trim(guid(g.r), "{}"))
	g.process4688(h, t, who, ps, parent)
	g.sysmon1(h, t, domainNB+`\`+a.name, ps, parent)
	g.classic400(h, t.Add(800*time.Millisecond), ps.pid, ps.cmdline, rs)
	ct := t.Add(time.Duration(5+g.r.IntN(60)) * time.Second)
	g.scriptBlock(h, ct, ps.pid, a.sid, cmd, "", 0)
	cmdlet := strings.Fields(cmd)[0]
	g.module4103(h, ct.Add(50*time.Millisecond), ps.pid, a.sid, domainNB+`\`+a.name, cmdlet, "", ps.cmdline, rs)
	g.classic800(h, ct.Add(60*time.Millisecond), ps.pid, domainNB+`\`+a.name, ps.cmdline, rs, cmd, cmdlet)
}

// maintenanceCommands are ComTech's usual RMM commands.
var maintenanceCommands = []string{
	"Get-Service | Where-Object {$_.StartType -eq 'Automatic' -and $_.Status -ne 'Running'}",
	"Get-HotFix | Sort-Object InstalledOn -Descending | Select-Object -First 5",
	"Get-Volume | Select-Object DriveLetter,SizeRemaining,Size",
	"Restart-Service -Name Spooler -Force",
	"Get-WinEvent -LogName System -MaxEvents 30 | Where-Object Level -le 2",
	"Get-CimInstance Win32_OperatingSystem | Select-Object LastBootUpTime",
	"Get-ScheduledTask -TaskPath '\\ComTech\\' | Get-ScheduledTaskInfo",
}

// maintenanceDay: a usual ComTech technician's weekday RMM session to one
// to three servers, and sometimes an RDP session over the VPN.
func (g *gen) maintenanceDay(day time.Time) {
	co := g.co
	var usual []*operator
	for _, o := range co.ops {
		if o.usual {
			usual = append(usual, o)
		}
	}
	if g.r.IntN(20) < 11 {
		op := usual[g.r.IntN(len(usual))]
		t := co.at(day, 9*60+g.r.IntN(6*60+30), g.r.IntN(60))
		servers := co.hosts[:5]
		for _, i := range g.r.Perm(len(servers))[:1+g.r.IntN(3)] {
			if !g.inPeriod(t) {
				break
			}
			h := servers[i]
			s := g.rmmSession(h, t, op.scName, op.vpnIP)
			ct := t
			for k := 0; k < 1+g.r.IntN(3); k++ {
				ct = ct.Add(time.Duration(60+g.r.IntN(400)) * time.Second)
				g.rmmCommand(h, ct, s, maintenanceCommands[g.r.IntN(len(maintenanceCommands))], false)
			}
			if g.r.IntN(8) == 0 { // a tool pushed to the server
				ct = ct.Add(time.Duration(30+g.r.IntN(120)) * time.Second)
				file := []string{"ComTech-Tools.zip", "VeeamAgentWindows_6.1.2.msi", "wsusoffline-hotfix.cab"}[g.r.IntN(3)]
				g.audit(ct, "file_transfer", s.id, s.op, s.src, h.name, file)
				g.scEvent(h, ct.Add(time.Second), 201, "Transferred files with action 'Transfer': "+file)
			}
			end := ct.Add(time.Duration(3+g.r.IntN(30)) * time.Minute)
			g.rmmEnd(s, end)
			t = end.Add(time.Duration(2+g.r.IntN(20)) * time.Minute)
		}
		if g.r.IntN(12) == 0 && g.inPeriod(t) { // agent update installs a service
			b := co.host("BACKUP01")
			g.service7045(b, t, "VeeamDeploySvc", `"C:\Program Files\Common Files\Veeam\Backup and Replication\Deployment Service\Veeam.Backup.Service.Deployment.exe"`, "LocalSystem")
		}
	}
	if g.r.IntN(10) < 3 {
		op := usual[g.r.IntN(len(usual))]
		h := co.hosts[g.r.IntN(5)]
		t := co.at(day, 8*60+30+g.r.IntN(7*60), g.r.IntN(60))
		if g.inPeriod(t) {
			g.rdpSession(h, t, op, time.Duration(10+g.r.IntN(50))*time.Minute)
		}
	}
}

// rdpSession: a provider technician's RDP session through the VPN tunnel.
func (g *gen) rdpSession(h *host, t time.Time, op *operator, dur time.Duration) principal {
	sport := 50000 + g.r.IntN(10000)
	g.pfsense(t.Add(-time.Second), "ovpns1", "pass", "in", op.vpnIP, h.ip, sport, 3389)
	who := op.acct.as(h.logonID(g.r))
	g.rdp1149(h, t, op.acct.name, op.vpnIP)
	g.logon4624(h, t.Add(2*time.Second), who, 10, op.vpnIP, "CT-NB-"+strings.ToUpper(op.acct.name[9:]))
	g.special4672(h, t.Add(2*time.Second), who)
	sess := 2 + g.r.IntN(4)
	g.lsm(h, t.Add(3*time.Second), 21, op.acct.name, op.vpnIP, sess)
	if g.r.IntN(3) == 0 { // disconnected, reconnected
		g.lsm(h, t.Add(dur/2), 24, op.acct.name, op.vpnIP, sess)
		g.lsm(h, t.Add(dur/2+time.Minute), 25, op.acct.name, op.vpnIP, sess)
	}
	mmc := proc{pid: h.pid(g.r), image: `C:\Windows\System32\mmc.exe`, cmdline: `"C:\Windows\system32\mmc.exe" "C:\Windows\system32\services.msc" `, guid: guid(g.r)}
	g.process4688(h, t.Add(time.Minute), who, mmc, proc{pid: h.pid(g.r), image: `C:\Windows\explorer.exe`})
	g.lsm(h, t.Add(dur), 23, op.acct.name, "", sess)
	g.logoff4634(h, t.Add(dur), who, 10)
	return who
}

// session is an open ScreenConnect session.
type session struct {
	id, op, src string
	h           *host
	start       time.Time
	label       *Label
	startEnts   []*entry
}

// rmmSession opens a ScreenConnect session: audit export and the client's
// Application event.
func (g *gen) rmmSession(h *host, t time.Time, op, src string) *session {
	s := &session{id: uuid(g.r), op: op, src: src, h: h, start: t}
	s.startEnts = append(s.startEnts, g.audit(t, "session_start", s.id, op, src, h.name, ""))
	s.startEnts = append(s.startEnts, g.scEvent(h, t.Add(time.Second), 100, op+" connected"))
	return s
}

func (g *gen) rmmEnd(s *session, t time.Time) []*entry {
	return []*entry{g.scEvent(s.h, t, 101, s.op+" disconnected"), g.audit(t.Add(time.Second), "session_end", s.id, s.op, s.src, s.h.name, "")}
}

// rmmCommand runs one command through the RMM agent and returns every
// record it leaves: the audit line, the client's "Executed command"
// event, process creations (parent: the ScreenConnect client service) and
// for PowerShell the engine, script-block and module records.
func (g *gen) rmmCommand(h *host, t time.Time, s *session, cmd string, multipart bool) []*entry {
	var out []*entry
	out = append(out, g.audit(t, "command", s.id, s.op, s.src, h.name, cmd))
	out = append(out, g.scEvent(h, t.Add(time.Second), 200, "Executed command of length: "+strconv.Itoa(len(cmd))))
	sys := h.system()
	svc := proc{pid: h.scPID, image: scServiceExe, cmdline: `"` + scServiceExe + `" "?e=Access&y=Guest&h=comtech-it.screenconnect.com&p=8041&s=` + strings.Trim(guid(g.r), "{}") + `&k=BgIAAACkAABSU0ExAAgAAAEAAQ"`, guid: "{6F1A3C9E-0B44-6543-1200-000000000A00}"}
	pt := t.Add(2 * time.Second)
	if strings.HasPrefix(cmd, "net ") || strings.HasPrefix(cmd, "reg ") || strings.HasPrefix(cmd, "wevtutil ") {
		c := proc{pid: h.pid(g.r), image: `C:\Windows\System32\cmd.exe`, cmdline: `C:\Windows\system32\cmd.exe /c ` + cmd, guid: guid(g.r)}
		out = append(out, g.process4688(h, pt, sys, c, svc), g.sysmon1(h, pt, `NT AUTHORITY\SYSTEM`, c, svc))
		exe := strings.Fields(cmd)[0] + ".exe"
		n := proc{pid: h.pid(g.r), image: `C:\Windows\System32\` + exe, cmdline: cmd, guid: guid(g.r)}
		out = append(out, g.process4688(h, pt.Add(40*time.Millisecond), sys, n, c), g.sysmon1(h, pt.Add(40*time.Millisecond), `NT AUTHORITY\SYSTEM`, n, c))
		if exe == "net.exe" {
			n1 := proc{pid: h.pid(g.r), image: `C:\Windows\System32\net1.exe`, cmdline: `C:\Windows\system32\net1 ` + strings.TrimPrefix(cmd, "net "), guid: guid(g.r)}
			out = append(out, g.process4688(h, pt.Add(60*time.Millisecond), sys, n1, n), g.sysmon1(h, pt.Add(60*time.Millisecond), `NT AUTHORITY\SYSTEM`, n1, n))
		}
		return out
	}
	ps := proc{pid: h.pid(g.r), image: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, guid: guid(g.r),
		cmdline: `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\Windows\TEMP\ScreenConnect\` + scVersion + `\` + uuid(g.r) + `run.ps1"`}
	rs := strings.ToLower(strings.Trim(guid(g.r), "{}"))
	out = append(out, g.process4688(h, pt, sys, ps, svc), g.sysmon1(h, pt, `NT AUTHORITY\SYSTEM`, ps, svc))
	out = append(out, g.classic400(h, pt.Add(700*time.Millisecond), ps.pid, ps.cmdline, rs))
	partLen := 0
	if multipart {
		partLen = (len(cmd) + 2) / 3
	}
	out = append(out, g.scriptBlock(h, pt.Add(900*time.Millisecond), ps.pid, sidSystem, cmd, "", partLen)...)
	cmdlet := strings.Fields(cmd)[0]
	if multipart {
		cmdlet = "Get-ItemProperty"
	}
	out = append(out, g.module4103(h, pt.Add(950*time.Millisecond), ps.pid, sidSystem, `NT AUTHORITY\SYSTEM`, cmdlet, "", ps.cmdline, rs))
	out = append(out, g.classic800(h, pt.Add(960*time.Millisecond), ps.pid, `NT AUTHORITY\SYSTEM`, ps.cmdline, rs, firstLine(cmd), cmdlet))
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimRight(s[:i], "\r")
	}
	return s
}

// remoteSupportDay: TeamViewer helpdesk on clients and the backup server,
// AnyDesk by the ERP vendor on ERP01 — in office hours.
func (g *gen) remoteSupportDay(day time.Time) {
	co := g.co
	for _, h := range co.hosts {
		switch {
		case h.tvHost && g.r.IntN(7) == 0:
			t := co.at(day, 8*60+30+g.r.IntN(7*60), g.r.IntN(60))
			end := t.Add(time.Duration(5+g.r.IntN(25)) * time.Minute)
			if g.inPeriod(t) && g.inPeriod(end) {
				local := "Administrator"
				if h.user != nil {
					local = h.user.name
				}
				g.teamviewer(h, t, end, "1284559031", "ComTech IT Helpdesk", local)
			}
		case h.anydesk && (day.Weekday() == time.Tuesday || g.r.IntN(5) == 0):
			t := co.at(day, 9*60+g.r.IntN(6*60), g.r.IntN(60))
			end := t.Add(time.Duration(10+g.r.IntN(50)) * time.Minute)
			if g.inPeriod(t) && g.inPeriod(end) {
				g.anydeskSession(h, t, end)
			}
		}
	}
}

func (g *gen) anydeskSession(h *host, t, end time.Time) {
	g.adTrace(h, t, "info", "main", "8", "anynet.relay_conn", "Accept request from 731624905 (ERP-Partner Sued Support).")
	g.adTrace(h, t.Add(120*time.Millisecond), "info", "main", "8", "anynet.any_socket", "Logged in from "+erpVendor+":"+strconv.Itoa(40000+g.r.IntN(20000))+" on relay 4f1a9c27.")
	g.adTrace(h, t.Add(300*time.Millisecond), "info", "main", "24", "app.backend_session", "Incoming session request: ERP-Partner Sued Support (731624905)")
	g.adTrace(h, t.Add(2*time.Second), "info", "main", "24", "app.svc_session", "Accepting the connect request.")
	g.adTrace(h, t.Add(2100*time.Millisecond), "info", "main", "24", "app.svc_session", "Authenticated with permanent token.")
	g.adConnection(h, t, "Token", "ERP-Partner_Sued", "731624905")
	g.adTrace(h, end, "info", "main", "24", "app.backend_session", "Session stopped.")
}
