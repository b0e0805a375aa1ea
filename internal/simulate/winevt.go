package simulate

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/simulate/evtxw"
)

// provider is an event provider as Windows registers it.
type provider struct {
	name, guid, source string
	qualifiers         bool
}

var (
	pSecurity = provider{name: "Microsoft-Windows-Security-Auditing", guid: "{54849625-5478-4994-A5BA-3E3B0328C30D}"}
	pEventlog = provider{name: "Microsoft-Windows-Eventlog", guid: "{FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148}"}
	pSCM      = provider{name: "Service Control Manager", guid: "{555908D1-A6D7-4695-8E1E-26931D2012F4}", source: "Service Control Manager", qualifiers: true}
	pPSOp     = provider{name: "Microsoft-Windows-PowerShell", guid: "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}"}
	pWinPS    = provider{name: "PowerShell", qualifiers: true}
	pSysmon   = provider{name: "Microsoft-Windows-Sysmon", guid: "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"}
	pLSM      = provider{name: "Microsoft-Windows-TerminalServices-LocalSessionManager", guid: "{5D896912-022D-40AA-A3A8-4FA5515C76D7}"}
	pRCM      = provider{name: "Microsoft-Windows-TerminalServices-RemoteConnectionManager", guid: "{C76BAA63-AE81-421C-B425-340B4B24157F}"}
	pSC       = provider{name: scProvider, source: scProvider, qualifiers: true}
)

const (
	kwAuditSuccess uint64 = 0x8020000000000000
	kwAuditFailure uint64 = 0x8010000000000000
	kwClassic      uint64 = 0x80000000000000
	sidSystem             = "S-1-5-18"
)

// f builds a data list from name/value pairs.
func f(kv ...string) []evtxw.Field {
	out := make([]evtxw.Field, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, evtxw.Field{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// newRec fills the System part of a record.
func (g *gen) newRec(h *host, p provider, channel string, eid uint16, version, level uint8, task uint16, opcode uint8, kw uint64, pid uint32, userSID string, data []evtxw.Field) *evtxw.Record {
	r := &evtxw.Record{
		Provider: p.name, ProviderGUID: p.guid, EventSourceName: p.source,
		EventID: eid, HasQualifiers: p.qualifiers, Version: version, Level: level,
		Task: task, Opcode: opcode, Keywords: kw, Channel: channel, Computer: h.fqdn(),
		UserSID: userSID, ProcessID: pid, ThreadID: uint32(100 + 4*g.r.IntN(3000)), Data: data,
	}
	if p.name == pPSOp.name {
		r.ActivityID = guid(g.r)
	}
	return r
}

// emit adds a record to the host's channel file.
func (g *gen) emit(h *host, t time.Time, r *evtxw.Record) *entry {
	return g.c.add(evtxRel(h.name, r.Channel), t, r, "")
}

// sec emits a Security audit record (lsass writes them).
func (g *gen) sec(h *host, t time.Time, eid uint16, version uint8, task uint16, ok bool, data []evtxw.Field) *entry {
	kw := kwAuditSuccess
	if !ok {
		kw = kwAuditFailure
	}
	return g.emit(h, t, g.newRec(h, pSecurity, chSecurity, eid, version, 0, task, 0, kw, h.lsassPID, "", data))
}

// principal is who did something, as Security events name it.
type principal struct {
	sid, name, domain, logonID string
}

func (h *host) system() principal {
	return principal{sidSystem, h.name + "$", domainNB, "0x3E7"}
}

func (a *account) as(logonID string) principal {
	return principal{a.sid, a.name, domainNB, logonID}
}

// logon4624 is a successful logon.
func (g *gen) logon4624(h *host, t time.Time, who principal, logonType int, srcIP, workstation string) *entry {
	proc, procName, lp, auth := "0x"+strconv.FormatUint(uint64(h.lsassPID), 16), `C:\Windows\System32\lsass.exe`, "Kerberos", "Kerberos"
	subj := h.system()
	ipPort := "0"
	switch logonType {
	case 2, 7, 11:
		lp, auth = "User32 ", "Negotiate"
		procName = `C:\Windows\System32\svchost.exe`
		proc = "0x" + strconv.FormatUint(uint64(h.svcPID), 16)
		srcIP = "127.0.0.1"
	case 10:
		lp, auth = "User32 ", "Negotiate"
		procName = `C:\Windows\System32\svchost.exe`
		proc = "0x" + strconv.FormatUint(uint64(h.svcPID), 16)
		ipPort = "0"
	case 3:
		subj = principal{"S-1-0-0", "-", "-", "0x0"}
		proc, procName = "0x0", "-"
		ipPort = strconv.Itoa(49152 + g.r.IntN(16000))
	case 5:
		lp, auth = "Advapi  ", "Negotiate"
		procName = `C:\Windows\System32\services.exe`
		srcIP = "-"
		ipPort = "-"
	}
	if srcIP == "" {
		srcIP = "-"
		ipPort = "-"
	}
	if workstation == "" {
		workstation = "-"
	}
	elevated := "%%1843"
	if who.sid == sidSystem {
		elevated = "%%1842"
	}
	return g.sec(h, t, 4624, 2, 12544, true, f(
		"SubjectUserSid", subj.sid, "SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "SubjectLogonId", subj.logonID,
		"TargetUserSid", who.sid, "TargetUserName", who.name, "TargetDomainName", who.domain, "TargetLogonId", who.logonID,
		"LogonType", strconv.Itoa(logonType), "LogonProcessName", lp, "AuthenticationPackageName", auth,
		"WorkstationName", workstation, "LogonGuid", guid(g.r), "TransmittedServices", "-", "LmPackageName", "-", "KeyLength", "0",
		"ProcessId", proc, "ProcessName", procName, "IpAddress", srcIP, "IpPort", ipPort,
		"ImpersonationLevel", "%%1833", "RestrictedAdminMode", "-", "TargetOutboundUserName", "-", "TargetOutboundDomainName", "-",
		"VirtualAccount", "%%1843", "TargetLinkedLogonId", "0x0", "ElevatedToken", elevated))
}

// special4672 is the special-privileges record that follows an admin logon.
func (g *gen) special4672(h *host, t time.Time, who principal) *entry {
	return g.sec(h, t, 4672, 0, 12548, true, f(
		"SubjectUserSid", who.sid, "SubjectUserName", who.name, "SubjectDomainName", who.domain, "SubjectLogonId", who.logonID,
		"PrivilegeList", "SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeRestorePrivilege\r\n\t\t\tSeTakeOwnershipPrivilege\r\n\t\t\tSeDebugPrivilege\r\n\t\t\tSeSystemEnvironmentPrivilege\r\n\t\t\tSeLoadDriverPrivilege\r\n\t\t\tSeImpersonatePrivilege\r\n\t\t\tSeDelegateSessionUserImpersonatePrivilege\r\n\t\t\tSeEnableDelegationPrivilege"))
}

func (g *gen) logoff4634(h *host, t time.Time, who principal, logonType int) *entry {
	return g.sec(h, t, 4634, 0, 12545, true, f(
		"TargetUserSid", who.sid, "TargetUserName", who.name, "TargetDomainName", who.domain, "TargetLogonId", who.logonID,
		"LogonType", strconv.Itoa(logonType)))
}

func (g *gen) failed4625(h *host, t time.Time, user string, logonType int, srcIP, workstation, subStatus string) *entry {
	return g.sec(h, t, 4625, 0, 12544, false, f(
		"SubjectUserSid", "S-1-0-0", "SubjectUserName", "-", "SubjectDomainName", "-", "SubjectLogonId", "0x0",
		"TargetUserSid", "S-1-0-0", "TargetUserName", user, "TargetDomainName", domainNB,
		"Status", "0xC000006D", "FailureReason", "%%2313", "SubStatus", subStatus,
		"LogonType", strconv.Itoa(logonType), "LogonProcessName", "NtLmSsp ", "AuthenticationPackageName", "NTLM",
		"WorkstationName", workstation, "TransmittedServices", "-", "LmPackageName", "-", "KeyLength", "0",
		"ProcessId", "0x0", "ProcessName", "-", "IpAddress", srcIP, "IpPort", strconv.Itoa(49152+g.r.IntN(16000))))
}

func (g *gen) explicit4648(h *host, t time.Time, subj principal, target *account, server, procName string, pid uint32) *entry {
	return g.sec(h, t, 4648, 0, 12544, true, f(
		"SubjectUserSid", subj.sid, "SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "SubjectLogonId", subj.logonID,
		"LogonGuid", "{00000000-0000-0000-0000-000000000000}", "TargetUserName", target.name, "TargetDomainName", domainNB,
		"TargetLogonGuid", "{00000000-0000-0000-0000-000000000000}", "TargetServerName", server, "TargetInfo", server,
		"ProcessId", fmt.Sprintf("0x%x", pid), "ProcessName", procName, "IpAddress", "-", "IpPort", "-"))
}

// proc is a process for 4688 and Sysmon 1.
type proc struct {
	pid     uint32
	image   string
	cmdline string
	guid    string
}

// process4688 and sysmon1 record one process creation.
func (g *gen) process4688(h *host, t time.Time, subj principal, p, parent proc) *entry {
	return g.sec(h, t, 4688, 2, 13312, true, f(
		"SubjectUserSid", subj.sid, "SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "SubjectLogonId", subj.logonID,
		"NewProcessId", fmt.Sprintf("0x%x", p.pid), "NewProcessName", p.image, "TokenElevationType", "%%1936",
		"ProcessId", fmt.Sprintf("0x%x", parent.pid), "CommandLine", p.cmdline,
		"TargetUserSid", "S-1-0-0", "TargetUserName", "-", "TargetDomainName", "-", "TargetLogonId", "0x0",
		"ParentProcessName", parent.image, "MandatoryLabel", "S-1-16-16384"))
}

var imageMeta = map[string][5]string{ // file version, description, product, company, original name
	"powershell.exe": {"10.0.20348.1 (WinBuild.160101.0800)", "Windows PowerShell", "Microsoft® Windows® Operating System", "Microsoft Corporation", "PowerShell.EXE"},
	"cmd.exe":        {"10.0.20348.1 (WinBuild.160101.0800)", "Windows Command Processor", "Microsoft® Windows® Operating System", "Microsoft Corporation", "Cmd.Exe"},
	"net.exe":        {"10.0.20348.1 (WinBuild.160101.0800)", "Net Command", "Microsoft® Windows® Operating System", "Microsoft Corporation", "net.exe"},
	"net1.exe":       {"10.0.20348.1 (WinBuild.160101.0800)", "Net Command", "Microsoft® Windows® Operating System", "Microsoft Corporation", "net1.exe"},
	"reg.exe":        {"10.0.20348.1 (WinBuild.160101.0800)", "Registry Console Tool", "Microsoft® Windows® Operating System", "Microsoft Corporation", "reg.exe"},
	"wevtutil.exe":   {"10.0.20348.1 (WinBuild.160101.0800)", "Eventing Command Line Utility", "Microsoft® Windows® Operating System", "Microsoft Corporation", "wevtutil.exe"},
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '\\'); i >= 0 {
		return strings.ToLower(p[i+1:])
	}
	return strings.ToLower(p)
}

func (g *gen) sysmon1(h *host, t time.Time, user string, p, parent proc) *entry {
	return g.sysmon1As(h, t, user, p, parent, baseName(p.image))
}

// sysmon1As is sysmon1 with the PE metadata of the image meta names: a
// copy of cmd.exe under another name still says Cmd.Exe.
func (g *gen) sysmon1As(h *host, t time.Time, user string, p, parent proc, meta string) *entry {
	m, ok := imageMeta[meta]
	if !ok {
		m = [5]string{"-", "-", "-", "-", "-"}
	}
	hash := fmt.Sprintf("SHA256=%016X%016X%016X%016X", g.r.Uint64(), g.r.Uint64(), g.r.Uint64(), g.r.Uint64())
	return g.emit(h, t, g.newRec(h, pSysmon, chSysmon, 1, 5, 4, 1, 0, 0x8000000000000000, h.sysmPID, sidSystem, f(
		"RuleName", "-", "UtcTime", t.UTC().Format("2006-01-02 15:04:05.000"), "ProcessGuid", p.guid, "ProcessId", strconv.Itoa(int(p.pid)),
		"Image", p.image, "FileVersion", m[0], "Description", m[1], "Product", m[2], "Company", m[3], "OriginalFileName", m[4],
		"CommandLine", p.cmdline, "CurrentDirectory", `C:\Windows\system32\`, "User", user,
		"LogonGuid", "{6F1A3C9E-0000-0000-E703-000000000000}", "LogonId", "0x3e7", "TerminalSessionId", "0", "IntegrityLevel", "System",
		"Hashes", hash, "ParentProcessGuid", parent.guid, "ParentProcessId", strconv.Itoa(int(parent.pid)),
		"ParentImage", parent.image, "ParentCommandLine", parent.cmdline, "ParentUser", user)))
}

func (g *gen) sysmon3(h *host, t time.Time, user string, p proc, srcIP string, srcPort int, dstIP, dstHost string, dstPort int) *entry {
	return g.emit(h, t, g.newRec(h, pSysmon, chSysmon, 3, 5, 4, 3, 0, 0x8000000000000000, h.sysmPID, sidSystem, f(
		"RuleName", "-", "UtcTime", t.UTC().Format("2006-01-02 15:04:05.000"), "ProcessGuid", p.guid, "ProcessId", strconv.Itoa(int(p.pid)),
		"Image", p.image, "User", user, "Protocol", "tcp", "Initiated", "true", "SourceIsIpv6", "false",
		"SourceIp", srcIP, "SourceHostname", h.fqdn(), "SourcePort", strconv.Itoa(srcPort), "SourcePortName", "-",
		"DestinationIsIpv6", "false", "DestinationIp", dstIP, "DestinationHostname", dstHost,
		"DestinationPort", strconv.Itoa(dstPort), "DestinationPortName", portName(dstPort))))
}

func portName(p int) string {
	switch p {
	case 443:
		return "https"
	case 80:
		return "http"
	case 445:
		return "microsoft-ds"
	}
	return "-"
}

// wfp5156 is a permitted connection (Windows Filtering Platform).
func (g *gen) wfp5156(h *host, t time.Time, pid uint32, app, src string, sport int, dst string, dport int) *entry {
	return g.sec(h, t, 5156, 1, 12810, true, f(
		"ProcessID", strconv.Itoa(int(pid)), "Application", app, "Direction", "%%14593",
		"SourceAddress", src, "SourcePort", strconv.Itoa(sport), "DestAddress", dst, "DestPort", strconv.Itoa(dport),
		"Protocol", "6", "FilterRTID", "0", "LayerName", "%%14611", "LayerRTID", "48",
		"RemoteUserID", "S-1-0-0", "RemoteMachineID", "S-1-0-0"))
}

// acctMgmt emits 4720/4722/4724/4738 style user-account records.
func (g *gen) userAcct(h *host, t time.Time, eid uint16, target *account, subj principal, extra ...string) *entry {
	data := f("TargetUserName", target.name, "TargetDomainName", domainNB, "TargetSid", target.sid,
		"SubjectUserSid", subj.sid, "SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "SubjectLogonId", subj.logonID)
	switch eid {
	case 4720, 4738:
		data = append(data, f("PrivilegeList", "-", "SamAccountName", target.name, "DisplayName", target.display,
			"UserPrincipalName", target.name+"@"+domainDNS, "HomeDirectory", "-", "HomePath", "-", "ScriptPath", "-",
			"ProfilePath", "-", "UserWorkstations", "-", "PasswordLastSet", "%%1794", "AccountExpires", "%%1794",
			"PrimaryGroupId", "513", "AllowedToDelegateTo", "-", "OldUacValue", "0x0", "NewUacValue", "0x15",
			"UserAccountControl", "\r\n\t\t%%2080\r\n\t\t%%2082\r\n\t\t%%2084", "UserParameters", "-", "SidHistory", "-", "LogonHours", "%%1793")...)
		if eid == 4738 {
			data = append(f("Dummy", "-"), data...)
			for i := range data {
				switch data[i].Name {
				case "SamAccountName", "DisplayName", "UserPrincipalName", "PasswordLastSet", "AccountExpires", "PrimaryGroupId", "UserAccountControl", "OldUacValue", "NewUacValue", "LogonHours":
					data[i].Value = "-"
				}
			}
			for i := range data {
				if data[i].Name == "PasswordLastSet" && len(extra) > 0 {
					data[i].Value = extra[0]
				}
			}
		}
	}
	return g.sec(h, t, eid, 0, 13824, true, data)
}

// groupAdd emits 4728 (global), 4732 (local) or 4756 (universal).
func (g *gen) groupAdd(h *host, t time.Time, eid uint16, member *account, group, groupSID string, subj principal) *entry {
	dom := domainNB
	if eid == 4732 {
		dom = "Builtin"
	}
	return g.sec(h, t, eid, 0, 13826, true, f(
		"MemberName", "CN="+member.display+",OU=Users,OU=Breisgau,DC=corp,DC=breisgau-medtec,DC=de", "MemberSid", member.sid,
		"TargetUserName", group, "TargetDomainName", dom, "TargetSid", groupSID,
		"SubjectUserSid", subj.sid, "SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "SubjectLogonId", subj.logonID,
		"PrivilegeList", "-"))
}

// clear1102 is the Security log's own "log cleared" record.
func (g *gen) clear1102(h *host, t time.Time, subj principal) *entry {
	r := g.newRec(h, pEventlog, chSecurity, 1102, 0, 4, 104, 0, 0x4020000000000000, h.lsassPID, "", nil)
	r.UserData = &evtxw.UserData{Element: "LogFileCleared", Namespace: "http://manifests.microsoft.com/win/2004/08/windows/eventlog",
		Fields: f("SubjectUserSid", subj.sid, "SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "SubjectLogonId", subj.logonID)}
	return g.emit(h, t, r)
}

// clear104 is System's record of another log being cleared.
func (g *gen) clear104(h *host, t time.Time, subj principal, channel string) *entry {
	r := g.newRec(h, pEventlog, chSystem, 104, 0, 4, 104, 0, 0x8000000000000000, h.lsassPID, subj.sid, nil)
	r.UserData = &evtxw.UserData{Element: "LogFileCleared", Namespace: "http://manifests.microsoft.com/win/2004/08/windows/eventlog",
		Fields: f("SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "Channel", channel, "BackupPath", "")}
	return g.emit(h, t, r)
}

func (g *gen) service7045(h *host, t time.Time, name, image, account string) *entry {
	r := g.newRec(h, pSCM, chSystem, 7045, 0, 4, 0, 0, 0x8080000000000000, h.svcPID-300, sidSystem, f(
		"ServiceName", name, "ImagePath", image, "ServiceType", "user mode service", "StartType", "auto start", "AccountName", account))
	r.Qualifiers = 16384
	return g.emit(h, t, r)
}

func (g *gen) service7036(h *host, t time.Time, name, state string) *entry {
	r := g.newRec(h, pSCM, chSystem, 7036, 0, 4, 0, 0, 0x8080000000000000, h.svcPID-300, "", f(
		"param1", name, "param2", state, "Binary", ""))
	r.Qualifiers = 16384
	return g.emit(h, t, r)
}

// scriptBlock emits 4104 records for text, split like PowerShell does
// when a block is too long for one event.
func (g *gen) scriptBlock(h *host, t time.Time, pid uint32, userSID, text, path string, partLen int) []*entry {
	id := strings.ToLower(strings.Trim(guid(g.r), "{}"))
	var parts []string
	if partLen <= 0 || len(text) <= partLen {
		parts = []string{text}
	} else {
		for s := text; s != ""; {
			n := min(partLen, len(s))
			parts = append(parts, s[:n])
			s = s[n:]
		}
	}
	level := uint8(5)
	if isSuspicious(text) {
		level = 3 // PowerShell itself logs suspicious blocks as warnings
	}
	var out []*entry
	for i, p := range parts {
		r := g.newRec(h, pPSOp, chPSOp, 4104, 1, level, 2, 15, 0, pid, userSID, f(
			"MessageNumber", strconv.Itoa(i+1), "MessageTotal", strconv.Itoa(len(parts)), "ScriptBlockText", p,
			"ScriptBlockId", id, "Path", path))
		out = append(out, g.emit(h, t.Add(time.Duration(i)*time.Millisecond), r))
	}
	return out
}

// isSuspicious mimics PowerShell's own short list that raises 4104 to
// warning; recon cmdlets are not on it.
func isSuspicious(s string) bool {
	return strings.Contains(s, "GetProcAddress") || strings.Contains(s, "VirtualAlloc")
}

// module4103 is a module-logging record for one cmdlet invocation.
func (g *gen) module4103(h *host, t time.Time, pid uint32, userSID, user, cmdlet, params, hostApp, runspace string) *entry {
	ctx := fmt.Sprintf("        Severity = Informational\r\n        Host Name = ConsoleHost\r\n        Host Version = 5.1.20348.2849\r\n        Host ID = %s\r\n        Host Application = %s\r\n        Engine Version = 5.1.20348.2849\r\n        Runspace ID = %s\r\n        Pipeline ID = 1\r\n        Command Name = %s\r\n        Command Type = Cmdlet\r\n        Script Name = \r\n        Command Path = \r\n        Sequence Number = %d\r\n        User = %s\r\n        Connected User = \r\n        Shell ID = Microsoft.PowerShell\r\n",
		strings.ToLower(strings.Trim(guid(g.r), "{}")), hostApp, runspace, cmdlet, 16+g.r.IntN(40), user)
	payload := fmt.Sprintf("CommandInvocation(%s): \"%s\"\r\n", cmdlet, cmdlet)
	if params != "" {
		payload += params
	}
	r := g.newRec(h, pPSOp, chPSOp, 4103, 1, 4, 106, 20, 0, pid, userSID, f(
		"ContextInfo", ctx, "UserData", "", "Payload", payload))
	return g.emit(h, t, r)
}

// classic400 and classic800 are the Windows PowerShell log's engine start
// and pipeline records (three unnamed strings each).
func (g *gen) classic400(h *host, t time.Time, pid uint32, hostApp, runspace string) *entry {
	detail := fmt.Sprintf("\tNewEngineState=Available\r\n\tPreviousEngineState=None\r\n\r\n\tSequenceNumber=13\r\n\r\n\tHostName=ConsoleHost\r\n\tHostVersion=5.1.20348.2849\r\n\tHostId=%s\r\n\tHostApplication=%s\r\n\tEngineVersion=5.1.20348.2849\r\n\tRunspaceId=%s\r\n\tPipelineId=\r\n\tCommandName=\r\n\tCommandType=\r\n\tScriptName=\r\n\tCommandPath=\r\n\tCommandLine=",
		strings.ToLower(strings.Trim(guid(g.r), "{}")), hostApp, runspace)
	r := g.newRec(h, pWinPS, chWinPS, 400, 0, 4, 4, 0, kwClassic, pid, "", f("", "Available", "", "None", "", detail))
	return g.emit(h, t, r)
}

func (g *gen) classic800(h *host, t time.Time, pid uint32, user, hostApp, runspace, cmdline, cmdlet string) *entry {
	detail := fmt.Sprintf("\tDetailSequence=1\r\n\tDetailTotal=1\r\n\r\n\tSequenceNumber=17\r\n\r\n\tUserId=%s\r\n\tHostName=ConsoleHost\r\n\tHostVersion=5.1.20348.2849\r\n\tHostId=%s\r\n\tHostApplication=%s\r\n\tEngineVersion=5.1.20348.2849\r\n\tRunspaceId=%s\r\n\tPipelineId=1\r\n\tScriptName=\r\n\tCommandLine=%s",
		user, strings.ToLower(strings.Trim(guid(g.r), "{}")), hostApp, runspace, cmdline)
	r := g.newRec(h, pWinPS, chWinPS, 800, 0, 4, 8, 0, kwClassic, pid, "", f("", cmdline, "", detail,
		"", fmt.Sprintf("CommandInvocation(%s): \"%s\"\r\n", cmdlet, cmdlet)))
	return g.emit(h, t, r)
}

// rdp emits the TerminalServices records of an RDP logon (1149 on the
// listener, 21 on session creation) and returns them.
func (g *gen) rdp1149(h *host, t time.Time, user, ip string) *entry {
	r := g.newRec(h, pRCM, chRCM, 1149, 0, 4, 0, 0, 0x4000000000000000, 1000+4*uint32(g.r.IntN(200)), "S-1-5-20", nil)
	r.UserData = &evtxw.UserData{Element: "EventXML", Namespace: "Event_NS", Fields: f("Param1", user, "Param2", domainNB, "Param3", ip)}
	return g.emit(h, t, r)
}

func (g *gen) lsm(h *host, t time.Time, eid uint16, user, ip string, session int) *entry {
	r := g.newRec(h, pLSM, chLSM, eid, 0, 4, 0, 0, 0x1000000000000000, 1000+4*uint32(g.r.IntN(200)), sidSystem, nil)
	fields := f("User", domainNB+`\`+user, "SessionID", strconv.Itoa(session), "Address", ip)
	if eid == 23 { // logoff names no address
		fields = fields[:2]
	}
	r.UserData = &evtxw.UserData{Element: "EventXML", Namespace: "Event_NS", Fields: fields}
	return g.emit(h, t, r)
}

// scEvent is a ScreenConnect client Application event: one unnamed string.
func (g *gen) scEvent(h *host, t time.Time, eid uint16, msg string) *entry {
	r := g.newRec(h, pSC, chApp, eid, 0, 4, 0, 0, kwClassic, h.scPID, "", f("", msg))
	return g.emit(h, t, r)
}

// task4698 (created), 4702 (updated) and 4699 (deleted) record a
// scheduled task; TaskContent is the task's XML definition.
func (g *gen) task46xx(h *host, t time.Time, eid uint16, subj principal, name, content string) *entry {
	field := "TaskContent"
	if eid == 4702 {
		field = "TaskContentNew"
	}
	return g.sec(h, t, eid, 0, 12804, true, f(
		"SubjectUserSid", subj.sid, "SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "SubjectLogonId", subj.logonID,
		"TaskName", name, field, content))
}

// taskXML is a minimal task definition with one exec action, escaped as
// Windows writes it into 4698.
func taskXML(author, runAs, command, args string, hidden bool) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	h := "false"
	if hidden {
		h = "true"
	}
	return `<?xml version="1.0" encoding="UTF-16"?>` + "\r\n" +
		`<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">` + "\r\n" +
		`  <RegistrationInfo><Author>` + esc.Replace(author) + `</Author></RegistrationInfo>` + "\r\n" +
		`  <Principals><Principal id="Author"><UserId>` + esc.Replace(runAs) + `</UserId><RunLevel>HighestAvailable</RunLevel></Principal></Principals>` + "\r\n" +
		`  <Settings><Hidden>` + h + `</Hidden><Enabled>true</Enabled></Settings>` + "\r\n" +
		`  <Actions Context="Author"><Exec><Command>` + esc.Replace(command) + `</Command><Arguments>` + esc.Replace(args) + `</Arguments></Exec></Actions>` + "\r\n" +
		`</Task>`
}

// share5145 is a detailed file-share access (write) from a remote host.
func (g *gen) share5145(h *host, t time.Time, subj principal, srcIP, share, localPath, rel string) *entry {
	return g.sec(h, t, 5145, 0, 12811, true, f(
		"SubjectUserSid", subj.sid, "SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "SubjectLogonId", subj.logonID,
		"ObjectType", "File", "IpAddress", srcIP, "IpPort", strconv.Itoa(49152+g.r.IntN(10000)), "ShareName", share, "ShareLocalPath", localPath,
		"RelativeTargetName", rel, "AccessMask", "0x2", "AccessList", "%%4417\r\n\t\t\t\t", "AccessReason", "-"))
}

// sysmon13 is a registry value set.
func (g *gen) sysmon13(h *host, t time.Time, user string, p proc, key, details string) *entry {
	return g.emit(h, t, g.newRec(h, pSysmon, chSysmon, 13, 2, 4, 13, 0, 0x8000000000000000, h.sysmPID, sidSystem, f(
		"RuleName", "-", "EventType", "SetValue", "UtcTime", t.UTC().Format("2006-01-02 15:04:05.000"), "ProcessGuid", p.guid,
		"ProcessId", strconv.Itoa(int(p.pid)), "Image", p.image, "TargetObject", key, "Details", details, "User", user)))
}

// sysmon10 is a process opening another (here: LSASS).
func (g *gen) sysmon10(h *host, t time.Time, src, tgt proc, access, srcUser string) *entry {
	return g.emit(h, t, g.newRec(h, pSysmon, chSysmon, 10, 3, 4, 10, 0, 0x8000000000000000, h.sysmPID, sidSystem, f(
		"RuleName", "-", "UtcTime", t.UTC().Format("2006-01-02 15:04:05.000"), "SourceProcessGUID", src.guid, "SourceProcessId", strconv.Itoa(int(src.pid)),
		"SourceThreadId", strconv.Itoa(int(src.pid)+4), "SourceImage", src.image, "TargetProcessGUID", tgt.guid, "TargetProcessId", strconv.Itoa(int(tgt.pid)),
		"TargetImage", tgt.image, "GrantedAccess", access, "CallTrace", `C:\Windows\SYSTEM32\ntdll.dll+9d204|C:\Windows\System32\KERNELBASE.dll+2c13e|C:\Windows\System32\comsvcs.dll+2a4e0|UNKNOWN(0000000000000000)`,
		"SourceUser", srcUser, "TargetUser", `NT AUTHORITY\SYSTEM`)))
}

// enum4799 is a group's membership enumerated (by net1.exe, say).
func (g *gen) enum4799(h *host, t time.Time, subj principal, group, groupSID, caller string, pid uint32) *entry {
	return g.sec(h, t, 4799, 0, 13826, true, f(
		"TargetUserName", group, "TargetDomainName", "Builtin", "TargetSid", groupSID,
		"SubjectUserSid", subj.sid, "SubjectUserName", subj.name, "SubjectDomainName", subj.domain, "SubjectLogonId", subj.logonID,
		"CallerProcessId", fmt.Sprintf("0x%x", pid), "CallerProcessName", caller))
}
