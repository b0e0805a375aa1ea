package winevent

// The event-id mapping: which raw EventData/UserData field fills which typed
// column of event.Event. The table below is the single place to read and
// change it; Fields always keeps every raw value as well.
//
// Choices worth knowing:
//   - User is the account an event is about (the target): TargetUserName
//     for logons and account changes, the member for group changes, the
//     account that received privileges for 4672. SubjectUser is the actor,
//     written DOMAIN\name.
//   - Group membership (4728/4729/4732/4733/4756/4757): User is the member
//     (the CN of MemberName, or MemberSid when MemberName is "-", as for
//     local accounts); the group stays in Fields (TargetUserName,
//     TargetDomainName, TargetSid) and Action is group_member_added or
//     group_member_removed.
//   - "-" (Windows' "none") leaves a column empty; any other value is kept
//     as written (IpAddress "::1", "127.0.0.1", "::ffff:10.0.0.1").
//   - Values that carry DOMAIN\user (Sysmon User, RDP User, 4103 User) are
//     split into User and UserDomain.
//   - 5156 Protocol numbers become tcp/udp/icmp names; Sysmon's are names.
//   - Classic PowerShell 400/403/800 have unnamed Data strings holding
//     "Key=value" lines: HostApplication becomes CommandLine, and for 800
//     CommandLine becomes ScriptText and UserId the user. 4103's ContextInfo
//     "Host Application = …" becomes CommandLine, Payload ScriptText.
//   - Action names what happened in a word (logon, logon_failed,
//     user_created, log_cleared, process_created, rdp_logon, …), so rules
//     need not know event ids.
//   - Session ids of PowerShell (4104/4103) stay in Fields; SessionID is
//     filled for RDP sessions (LocalSessionManager SessionID, 4778/4779
//     SessionName).

import (
	"strings"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
)

// set fills one column from a source expression over the record's fields:
//
//	"A"          field A
//	"A|B"        the first of A, B that is present and not "-"
//	`D\U`        D\U (domain\user), or U alone when D is empty or "-"
//	"user:A"     the part of A after the last backslash (DOMAIN\user → user)
//	"domain:A"   the part of A before the last backslash
//	"cn:A"       the CN= value of a distinguished name in A (else A)
//	"kv:K"       value of the "K=value" line in any unnamed Data string
//	             (classic PowerShell 400/403/800)
//	"ctx:K"      value of the "K = value" line of ContextInfo (4103)
type set struct {
	col string // an event.Columns name
	src string
}

// mapping is one row of the event table: which provider and event ids it
// applies to, the columns it fills and the Action it records.
type mapping struct {
	provider string
	ids      []int32
	action   string
	sets     []set
}

// Provider names as they appear in System/Provider/@Name.
const (
	pSecurity = "Microsoft-Windows-Security-Auditing"
	pEventlog = "Microsoft-Windows-Eventlog"
	pEventLog = "EventLog"
	pSCM      = "Service Control Manager"
	pSysmon   = "Microsoft-Windows-Sysmon"
	pPS       = "Microsoft-Windows-PowerShell"
	pPSClass  = "PowerShell"
	pLSM      = "Microsoft-Windows-TerminalServices-LocalSessionManager"
	pRCM      = "Microsoft-Windows-TerminalServices-RemoteConnectionManager"
)

// Column sets shared by several events.
var (
	subject = []set{{"subject_user", `SubjectDomainName\SubjectUserName`}, {"logon_id", "SubjectLogonId"}}
	// account management: the target account, and who did it
	account = []set{
		{"user", "TargetUserName"}, {"user_domain", "TargetDomainName"}, {"user_sid", "TargetSid"},
		{"subject_user", `SubjectDomainName\SubjectUserName`}, {"logon_id", "SubjectLogonId"},
	}
	// group membership: User is the member (CN of MemberName, else its
	// SID); the group stays in Fields (TargetUserName, TargetDomainName,
	// TargetSid) and Action says what happened.
	member = []set{
		{"user", "cn:MemberName|MemberSid"}, {"user_sid", "MemberSid"},
		{"subject_user", `SubjectDomainName\SubjectUserName`}, {"logon_id", "SubjectLogonId"},
	}
	logon = []set{
		{"user", "TargetUserName"}, {"user_domain", "TargetDomainName"}, {"user_sid", "TargetUserSid"},
		{"subject_user", `SubjectDomainName\SubjectUserName`}, {"logon_type", "LogonType"},
		{"logon_id", "TargetLogonId"}, {"src_ip", "IpAddress"}, {"src_port", "IpPort"},
		{"process", "ProcessName"},
	}
	rdpSession = []set{
		{"user", "user:User"}, {"user_domain", "domain:User"}, {"src_ip", "Address"}, {"session_id", "SessionID"},
	}
	sysmonProc = []set{
		{"process", "Image"}, {"user", "user:User"}, {"user_domain", "domain:User"},
	}
)

// table is the per-event-id mapping: the one place that says which raw
// field fills which typed column. Fields not named here stay only in
// Event.Fields.
var table = []mapping{
	// Logons (Security)
	{pSecurity, []int32{4624}, "logon", logon},
	{pSecurity, []int32{4625}, "logon_failed", logon},
	{pSecurity, []int32{4634}, "logoff", logon},
	{pSecurity, []int32{4647}, "logoff", logon},
	{pSecurity, []int32{4648}, "explicit_credentials", []set{
		{"user", "TargetUserName"}, {"user_domain", "TargetDomainName"},
		{"subject_user", `SubjectDomainName\SubjectUserName`}, {"logon_id", "SubjectLogonId"},
		{"src_ip", "IpAddress"}, {"src_port", "IpPort"}, {"process", "ProcessName"},
	}},
	{pSecurity, []int32{4672}, "special_privileges", []set{
		{"user", "SubjectUserName"}, {"user_domain", "SubjectDomainName"}, {"user_sid", "SubjectUserSid"},
		{"logon_id", "SubjectLogonId"},
	}},
	{pSecurity, []int32{4776}, "credential_validation", []set{{"user", "TargetUserName"}}},
	{pSecurity, []int32{4768}, "kerberos_tgt", []set{
		{"user", "TargetUserName"}, {"user_domain", "TargetDomainName"}, {"user_sid", "TargetSid"},
		{"src_ip", "IpAddress"}, {"src_port", "IpPort"},
	}},
	{pSecurity, []int32{4769}, "kerberos_service_ticket", []set{
		{"user", "TargetUserName"}, {"user_domain", "TargetDomainName"},
		{"src_ip", "IpAddress"}, {"src_port", "IpPort"},
	}},
	{pSecurity, []int32{4778}, "session_reconnected", []set{
		{"user", "AccountName"}, {"user_domain", "AccountDomain"}, {"logon_id", "LogonID"},
		{"src_ip", "ClientAddress"}, {"session_id", "SessionName"},
	}},
	{pSecurity, []int32{4779}, "session_disconnected", []set{
		{"user", "AccountName"}, {"user_domain", "AccountDomain"}, {"logon_id", "LogonID"},
		{"src_ip", "ClientAddress"}, {"session_id", "SessionName"},
	}},
	// Accounts and groups (Security)
	{pSecurity, []int32{4720}, "user_created", account},
	{pSecurity, []int32{4722}, "user_enabled", account},
	{pSecurity, []int32{4723}, "password_change", account},
	{pSecurity, []int32{4724}, "password_reset", account},
	{pSecurity, []int32{4725}, "user_disabled", account},
	{pSecurity, []int32{4726}, "user_deleted", account},
	{pSecurity, []int32{4738}, "user_changed", account},
	{pSecurity, []int32{4740}, "user_locked_out", account},
	{pSecurity, []int32{4728, 4732, 4756}, "group_member_added", member},
	{pSecurity, []int32{4729, 4733, 4757}, "group_member_removed", member},
	{pSecurity, []int32{5136}, "directory_object_modified", []set{
		{"subject_user", `SubjectDomainName\SubjectUserName`}, {"logon_id", "SubjectLogonId"},
	}},
	// Processes, services, tasks, shares, network (Security)
	{pSecurity, []int32{4688}, "process_created", []set{
		{"process", "NewProcessName"}, {"parent_process", "ParentProcessName"}, {"command_line", "CommandLine"},
		{"user", "TargetUserName|SubjectUserName"}, {"user_domain", "TargetDomainName|SubjectDomainName"},
		{"subject_user", `SubjectDomainName\SubjectUserName`}, {"logon_id", "SubjectLogonId"},
	}},
	{pSecurity, []int32{4697}, "service_installed", []set{
		{"process", "ServiceFileName"}, {"user", "ServiceAccount"},
		{"subject_user", `SubjectDomainName\SubjectUserName`}, {"logon_id", "SubjectLogonId"},
	}},
	{pSecurity, []int32{4698}, "task_created", []set{
		{"subject_user", `SubjectDomainName\SubjectUserName`}, {"logon_id", "SubjectLogonId"},
	}},
	{pSecurity, []int32{5140, 5145}, "share_access", []set{
		{"user", "SubjectUserName"}, {"user_domain", "SubjectDomainName"}, {"user_sid", "SubjectUserSid"},
		{"subject_user", `SubjectDomainName\SubjectUserName`}, {"logon_id", "SubjectLogonId"},
		{"src_ip", "IpAddress"}, {"src_port", "IpPort"},
	}},
	{pSecurity, []int32{5156}, "connection_allowed", []set{
		{"process", "Application"}, {"src_ip", "SourceAddress"}, {"src_port", "SourcePort"},
		{"dst_ip", "DestAddress"}, {"dst_port", "DestPort"}, {"protocol", "Protocol"},
	}},
	// Log tampering and coverage
	{pSecurity, []int32{1100}, "logging_stopped", nil},
	{pEventlog, []int32{1100}, "logging_stopped", nil},
	{pEventlog, []int32{1102}, "log_cleared", subject},
	{pSecurity, []int32{1102}, "log_cleared", subject},
	{pEventlog, []int32{104}, "log_cleared", subject},
	{pEventLog, []int32{6005}, "eventlog_started", nil},
	{pEventLog, []int32{6006}, "eventlog_stopped", nil},
	// Services (System)
	{pSCM, []int32{7045}, "service_installed", []set{
		{"process", "ImagePath"}, {"user", "AccountName"},
	}},
	// PowerShell
	{pPS, []int32{4104}, "script_block", []set{{"script_text", "ScriptBlockText"}}},
	{pPS, []int32{4103}, "pipeline_execution", []set{
		{"script_text", "Payload"}, {"command_line", "ctx:Host Application"},
		{"user", "user:ctx:User"}, {"user_domain", "domain:ctx:User"},
	}},
	{pPSClass, []int32{400}, "engine_started", []set{{"command_line", "kv:HostApplication"}}},
	{pPSClass, []int32{403}, "engine_stopped", []set{{"command_line", "kv:HostApplication"}}},
	{pPSClass, []int32{800}, "pipeline_execution", []set{
		{"command_line", "kv:HostApplication"}, {"script_text", "kv:CommandLine"},
		{"user", "user:kv:UserId"}, {"user_domain", "domain:kv:UserId"},
	}},
	// Sysmon
	{pSysmon, []int32{1}, "process_created", append([]set{
		{"parent_process", "ParentImage"}, {"command_line", "CommandLine"}, {"logon_id", "LogonId"},
	}, sysmonProc...)},
	{pSysmon, []int32{3}, "network_connection", append([]set{
		{"src_ip", "SourceIp"}, {"src_port", "SourcePort"}, {"dst_ip", "DestinationIp"},
		{"dst_port", "DestinationPort"}, {"protocol", "Protocol"},
	}, sysmonProc...)},
	{pSysmon, []int32{11}, "file_created", sysmonProc},
	{pSysmon, []int32{12, 13, 14}, "registry_event", sysmonProc},
	{pSysmon, []int32{22}, "dns_query", sysmonProc},
	// Remote Desktop
	{pLSM, []int32{21}, "rdp_logon", rdpSession},
	{pLSM, []int32{22}, "rdp_shell_start", rdpSession},
	{pLSM, []int32{23}, "rdp_logoff", rdpSession},
	{pLSM, []int32{24}, "rdp_disconnect", rdpSession},
	{pLSM, []int32{25}, "rdp_reconnect", rdpSession},
	{pRCM, []int32{1149}, "rdp_auth_success", []set{
		{"user", "Param1"}, {"user_domain", "Param2"}, {"src_ip", "Param3"},
	}},
}

type key struct {
	provider string
	id       int32
}

// target is a mapping with its columns resolved (cols[i] is sets[i].col).
type target struct {
	*mapping
	cols []*event.Column
}

// index is table keyed by (provider, event id), built once.
var index = func() map[key]*target {
	m := make(map[key]*target, 2*len(table))
	for i := range table {
		t := &target{mapping: &table[i]}
		for _, st := range table[i].sets {
			j, ok := event.ColumnIndex(st.col)
			if !ok {
				panic("winevent: the mapping names no event column " + st.col)
			}
			t.cols = append(t.cols, &event.Columns[j])
		}
		for _, id := range table[i].ids {
			m[key{table[i].provider, id}] = t
		}
	}
	return m
}()

// applyMapping fills ev's typed columns from r according to the table.
func applyMapping(r *binxml.Record, ev *event.Event) {
	m := index[key{r.Provider, r.EventID}]
	if m == nil {
		return
	}
	ev.Action = m.action
	for i, s := range m.sets {
		v := eval(r, s.src)
		if v == "" {
			continue
		}
		if s.col == "protocol" {
			v = protocol(v)
		}
		// A number that does not parse stays only in Fields.
		_ = m.cols[i].SetString(ev, v)
	}
}

// protocol names the IANA protocol numbers Windows writes in 5156.
func protocol(s string) string {
	switch s {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "58":
		return "icmpv6"
	}
	return strings.ToLower(s)
}

// eval computes a source expression (see set) over r's fields. "-" (the
// Windows placeholder for "none") counts as absent.
func eval(r *binxml.Record, src string) string {
	if strings.IndexByte(src, '|') >= 0 {
		for rest := src; rest != ""; {
			var alt string
			alt, rest, _ = strings.Cut(rest, "|")
			if v := eval(r, alt); v != "" {
				return v
			}
		}
		return ""
	}
	if i := strings.IndexByte(src, ':'); i > 0 {
		op, arg := src[:i], src[i+1:]
		switch op {
		case "user", "domain":
			v := eval(r, arg)
			j := strings.LastIndexByte(v, '\\')
			if op == "user" {
				return v[j+1:]
			}
			if j < 0 {
				return ""
			}
			return v[:j]
		case "cn":
			return cn(eval(r, arg))
		case "kv":
			return classicKV(r, arg)
		case "ctx":
			return contextInfo(field(r, "ContextInfo"), arg)
		}
	}
	if i := strings.IndexByte(src, '\\'); i > 0 {
		d, u := clean(field(r, src[:i])), clean(field(r, src[i+1:]))
		switch {
		case u == "":
			return ""
		case d == "":
			return u
		}
		return d + `\` + u
	}
	return clean(field(r, src))
}

func clean(s string) string {
	s = strings.TrimSpace(s)
	if s == "-" {
		return ""
	}
	return s
}

// field returns a top-level field of r as a string.
func field(r *binxml.Record, name string) string {
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			switch v := r.Fields[i].Value.(type) {
			case string:
				return v
			case []string:
				return strings.Join(v, "\n")
			}
			return ""
		}
	}
	return ""
}

// cn extracts the common name from a distinguished name ("CN=Bob,OU=…").
func cn(dn string) string {
	if len(dn) > 3 && strings.EqualFold(dn[:3], "CN=") {
		rest := dn[3:]
		// commas inside the CN are escaped as "\,"
		for i := 0; i < len(rest); i++ {
			switch rest[i] {
			case '\\':
				i++
			case ',':
				return strings.ReplaceAll(rest[:i], `\,`, ",")
			}
		}
		return strings.ReplaceAll(rest, `\,`, ",")
	}
	return dn
}

// classicKV reads "Key=value" lines from the unnamed Data strings of the
// classic PowerShell events (400/403/800), whose details are one text blob.
func classicKV(r *binxml.Record, k string) string {
	for i := range r.Fields {
		if !strings.HasPrefix(r.Fields[i].Name, "Data") {
			continue
		}
		s, _ := r.Fields[i].Value.(string)
		if v, ok := lineValue(s, k, "="); ok {
			return v
		}
	}
	return ""
}

// contextInfo reads a "Key = value" line of a 4103 ContextInfo.
func contextInfo(s, k string) string {
	v, _ := lineValue(s, k, "=")
	return v
}

func lineValue(s, k, sep string) (string, bool) {
	for len(s) > 0 {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, k) {
			continue
		}
		rest := strings.TrimSpace(line[len(k):])
		if strings.HasPrefix(rest, sep) {
			return strings.TrimSpace(rest[len(sep):]), true
		}
	}
	return "", false
}
