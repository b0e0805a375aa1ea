package simulate

import (
	"fmt"
	"strings"
	"time"
)

// Attacker addresses come from TEST-NET-3 (RFC 5737) and are never used
// by normal life, so they are first-seen by construction.
const (
	atkSrcA   = "203.0.113.66"
	atkSrcB   = "203.0.113.91"
	c2IP      = "203.0.113.77"
	exfilIP   = "203.0.113.145"
	beaconGap = 5 * time.Minute
)

// softwareInventory is the long recon script whose 4104 is split into
// several parts (same ScriptBlockId, MessageNumber/MessageTotal).
var softwareInventory = `# Inventory helper
$ErrorActionPreference = 'SilentlyContinue'
$keys = @(
    'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
)
$apps = foreach ($k in $keys) {
    Get-ItemProperty -Path $k | Where-Object { $_.DisplayName } |
        Select-Object DisplayName, DisplayVersion, Publisher, InstallDate, InstallLocation
}
$apps = $apps | Sort-Object DisplayName -Unique
$av = Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct
$svc = Get-Service | Where-Object { $_.Status -eq 'Running' } | Select-Object Name, DisplayName
$report = [ordered]@{
    Computer = $env:COMPUTERNAME
    Domain   = $env:USERDNSDOMAIN
    Apps     = $apps
    AV       = $av | Select-Object displayName, productState
    Services = $svc
}
` + strings.Repeat("# ------------------------------------------------------------------\n", 40) + `
foreach ($a in $apps) {
    '{0};{1};{2};{3}' -f $a.DisplayName, $a.DisplayVersion, $a.Publisher, $a.InstallDate
}
$report | ConvertTo-Json -Depth 3 -Compress
`

// reconStep is one command of an attack session.
type reconStep struct {
	cmd       string
	kind      string // discovery kind, for the label's detail
	multipart bool
}

// attackSessions is the story of the comtech scenario: three RMM sessions
// in the last week before the end, out of the usual pattern.
func (g *gen) attackSessions() []*session {
	co := g.co
	endLocal := co.end.In(co.loc)
	day := func(back int) time.Time {
		d := time.Date(endLocal.Year(), endLocal.Month(), endLocal.Day()-back, 0, 0, 0, 0, co.loc)
		return d
	}
	// The period ends on a Monday morning: back 2 is Saturday, 1 Sunday,
	// 4 the Thursday before. For other end days, walk back to the last
	// weekend.
	sat := 2
	for day(sat).Weekday() != time.Saturday {
		sat++
	}
	plan := []struct {
		day   time.Time
		min   int
		host  string
		op    string
		src   string
		steps []reconStep
	}{
		{day(sat + 2), 20*60 + 35 + g.r.IntN(15), "FS01", "ct-mueller", atkSrcA, []reconStep{
			{cmd: "Get-SmbShare | Select-Object Name,Path,Description", kind: "shares"},
			{cmd: "net view \\\\FS01 /all", kind: "shares"},
			{cmd: "net localgroup administrators", kind: "groups"},
			{cmd: "Get-ChildItem -Path \\\\FS01\\Abteilungen -Directory | Select-Object FullName", kind: "shares"},
		}},
		{day(sat), 23*60 + 5 + g.r.IntN(20), "DC01", "ct-weber", atkSrcB, []reconStep{
			{cmd: "Get-ADUser -Filter * -Properties LastLogonDate,Enabled,MemberOf | Select-Object SamAccountName,Enabled,LastLogonDate", kind: "accounts"},
			{cmd: "net user /domain", kind: "accounts"},
			{cmd: "Get-ADGroupMember -Identity 'Domain Admins' -Recursive | Select-Object SamAccountName", kind: "groups"},
			{cmd: "net group \"Domain Admins\" /domain", kind: "groups"},
			{cmd: "Get-ADComputer -Filter * -Properties OperatingSystem | Select-Object Name,OperatingSystem", kind: "remote_systems"},
		}},
		{day(sat - 1), 2*60 + 20 + g.r.IntN(30), "ERP01", "ct-weber", atkSrcB, []reconStep{
			{cmd: "Get-WmiObject -Class Win32_Product | Select-Object Name,Version,Vendor", kind: "software"},
			{cmd: "reg query HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall /s /v DisplayName", kind: "software"},
			{cmd: softwareInventory, kind: "software", multipart: true},
			{cmd: "Get-SmbShare; Get-LocalUser | Select-Object Name,Enabled,LastLogon", kind: "shares,accounts"},
		}},
	}
	var out []*session
	for _, p := range plan {
		h := co.host(p.host)
		t := co.at(p.day, p.min, g.r.IntN(60))
		if !g.inPeriod(t) {
			continue
		}
		s := g.rmmSession(h, t, p.op, p.src)
		s.label = g.c.label(&Label{Kind: "rmm_session", Host: h.name, Time: t, SessionID: s.id, Detection: "rmmsessions",
			Detail: fmt.Sprintf("ScreenConnect session by %s from %s", p.op, p.src)})
		mark(s.label, s.startEnts...)
		ct := t
		for _, st := range p.steps {
			ct = ct.Add(time.Duration(40+g.r.IntN(150)) * time.Second)
			for _, e := range g.rmmCommand(h, ct, s, st.cmd, st.multipart) {
				l := g.c.label(&Label{Kind: "recon_command", Host: h.name, Time: e.t, SessionID: s.id, Detection: "psrecon", Detail: st.kind + ": " + firstLine(st.cmd)})
				mark(l, e)
			}
		}
		s.start = t
		out = append(out, s)
		// keep the session open: scenarios may add to it; closed in finish.
		s.startEnts = nil
		s.h = h
		g.sessEnd[s] = ct.Add(time.Duration(2+g.r.IntN(5)) * time.Minute)
	}
	return out
}

// closeSessions writes the end of each attack session.
func (g *gen) closeSessions(ss []*session) {
	for _, s := range ss {
		end := g.sessEnd[s]
		mark(s.label, g.rmmEnd(s, end)...)
		e := end.Add(time.Second)
		s.label.End = &e
	}
}

// persistence: inside the Saturday-night session on DC01 the attacker uses
// the provider account to create a user, put it in Domain Admins and
// Administrators, then clears the logs.
func (g *gen) persistence(s *session) {
	co, h := g.co, s.h
	op := co.ops[2] // ct-admin-weber
	t := g.sessEnd[s].Add(30 * time.Second)
	lbl := func(kind, det, detail string, es ...*entry) {
		for _, e := range es {
			l := g.c.label(&Label{Kind: kind, Host: h.name, Time: e.t, SessionID: s.id, Detection: det, Detail: detail})
			mark(l, e)
		}
	}
	cmd := "$p = ConvertTo-SecureString $env:T -AsPlainText -Force; Start-Process powershell.exe -Credential (New-Object PSCredential('CORP\\ct-admin-weber',$p)) -ArgumentList '-File C:\\Windows\\TEMP\\u.ps1'"
	lbl("new_admin", "newadmin", "runas provider account", g.rmmCommand(h, t, s, cmd, false)...)
	t = t.Add(4 * time.Second)
	sys := h.system()
	who := op.acct.as(h.logonID(g.r))
	lbl("new_admin", "newadmin", "explicit credentials of provider account", g.explicit4648(h, t, sys, op.acct, "localhost", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, h.scPID+4))
	lbl("new_admin", "newadmin", "logon of provider account", g.logon4624(h, t.Add(time.Second), who, 2, "", h.name), g.special4672(h, t.Add(time.Second), who))
	g.newRID += 1 + g.r.IntN(5)
	nu := &account{name: "svc-sqlmon", display: "svc-sqlmon", sid: fmt.Sprintf("%s-%d", co.domainSID, g.newRID)}
	t = t.Add(20 * time.Second)
	script := "New-ADUser -Name 'svc-sqlmon' -SamAccountName 'svc-sqlmon' -AccountPassword $pw -Enabled $true -PasswordNeverExpires $true\r\nAdd-ADGroupMember -Identity 'Domain Admins' -Members 'svc-sqlmon'\r\nAdd-LocalGroupMember -Group 'Administrators' -Member 'CORP\\svc-sqlmon'"
	lbl("new_admin", "newadmin", "account creation script", g.scriptBlock(h, t, h.scPID+4, op.acct.sid, script, `C:\Windows\TEMP\u.ps1`, 0)...)
	t = t.Add(2 * time.Second)
	lbl("new_admin", "newadmin", "user created", g.userAcct(h, t, 4720, nu, who))
	lbl("new_admin", "newadmin", "user enabled", g.userAcct(h, t.Add(100*time.Millisecond), 4722, nu, who))
	lbl("new_admin", "newadmin", "password set", g.userAcct(h, t.Add(200*time.Millisecond), 4724, nu, who))
	lbl("new_admin", "newadmin", "user changed", g.userAcct(h, t.Add(300*time.Millisecond), 4738, nu, who, t.Format("1/2/2006 3:04:05 PM")))
	lbl("new_admin", "newadmin", "added to Domain Admins", g.groupAdd(h, t.Add(time.Second), 4728, nu, "Domain Admins", co.domainSID+"-512", who))
	lbl("new_admin", "newadmin", "added to Administrators", g.groupAdd(h, t.Add(2*time.Second), 4732, nu, "Administrators", "S-1-5-32-544", who))
	t = t.Add(40 * time.Second)
	lbl("log_clear", "coverage", "clear Windows PowerShell log", g.rmmCommand(h, t, s, "wevtutil cl \"Windows PowerShell\"", false)...)
	lbl("log_clear", "coverage", "Windows PowerShell log cleared", g.clear104(h, t.Add(3*time.Second), who, "Windows PowerShell"))
	t = t.Add(30 * time.Second)
	lbl("log_clear", "coverage", "clear Security log", g.rmmCommand(h, t, s, "wevtutil cl Security", false)...)
	lbl("log_clear", "coverage", "Security log cleared", g.clear1102(h, t.Add(3*time.Second), who))
	g.logoff4634(h, t.Add(10*time.Second), who, 2)
	g.sessEnd[s] = t.Add(time.Duration(1+g.r.IntN(3)) * time.Minute)
}

// exfil: the file server, touched in the weekday-evening session, starts
// beaconing to a new address, and a night later uploads several hundred
// MB to another one.
func (g *gen) exfil(s *session, night time.Time) {
	co, h := g.co, s.h
	implant := proc{pid: h.pid(g.r), image: `C:\Windows\System32\rundll32.exe`, cmdline: `rundll32.exe C:\ProgramData\USOShared\usosvc.dll,Start`, guid: guid(g.r)}
	t := g.sessEnd[s].Add(-time.Minute)
	svc := proc{pid: h.scPID, image: scServiceExe, guid: "{6F1A3C9E-0B44-6543-1200-000000000A00}"}
	for _, e := range []*entry{g.process4688(h, t, h.system(), implant, svc), g.sysmon1(h, t, `NT AUTHORITY\SYSTEM`, implant, svc)} {
		mark(g.c.label(&Label{Kind: "execution", Host: h.name, Time: t, SessionID: s.id, Detection: "rmmsessions", Detail: "implant started by the RMM agent"}), e)
	}
	for bt := t.Add(2 * time.Minute); bt.Before(co.end); bt = bt.Add(g.jit(beaconGap, 4*time.Second)) {
		sport := h.ephemeral(g.r)
		l := g.c.label(&Label{Kind: "beacon", Host: h.name, Time: bt, Detection: "outbound", Detail: "beacon to " + c2IP})
		mark(l, g.sysmon3(h, bt, `NT AUTHORITY\SYSTEM`, implant, h.ip, sport, c2IP, "-", 443),
			g.fortigate(flow{src: h, sport: sport, dst: c2IP, dport: 443, start: bt, dur: time.Duration(1+g.r.IntN(2)) * time.Second, sent: 480 + g.r.Int64N(120), rcv: 1100 + g.r.Int64N(600)}))
	}
	t = co.at(night, 4*60+g.r.IntN(30), g.r.IntN(60))
	var total int64
	for i := 0; i < 3; i++ {
		sport := h.ephemeral(g.r)
		sent := 180_000_000 + g.r.Int64N(80_000_000)
		total += sent
		dur := time.Duration(sent/700_000) * time.Second
		end := t.Add(dur)
		l := g.c.label(&Label{Kind: "exfil", Host: h.name, Time: t, End: &end, Detection: "outbound", Detail: fmt.Sprintf("upload of %d bytes to %s", sent, exfilIP)})
		mark(l, g.sysmon3(h, t, `NT AUTHORITY\SYSTEM`, implant, h.ip, sport, exfilIP, "-", 443),
			g.pfw(h, t, "ALLOW", h.ip, exfilIP, sport, 443, "SEND", implant.pid),
			g.fortigate(flow{src: h, sport: sport, dst: exfilIP, dport: 443, start: t, dur: dur, sent: sent, rcv: 2_000_000 + g.r.Int64N(1_000_000)}))
		t = end.Add(time.Duration(5+g.r.IntN(60)) * time.Second)
	}
	_ = total
}
