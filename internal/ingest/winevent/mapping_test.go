package winevent

import (
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
)

func rec(provider string, id int32, kv ...string) *binxml.Record {
	r := &binxml.Record{Provider: provider, EventID: id}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Fields = append(r.Fields, binxml.Field{Name: kv[i], Value: kv[i+1]})
	}
	return r
}

func TestMapping(t *testing.T) {
	cases := []struct {
		name string
		r    *binxml.Record
		want event.Event
	}{
		{"4624 network logon", rec(pSecurity, 4624,
			"SubjectUserName", "-", "SubjectDomainName", "-", "TargetUserSid", "S-1-5-21-1-2-3-1001",
			"TargetUserName", "svc-msp", "TargetDomainName", "CORP", "TargetLogonId", "0x1a2b", "LogonType", "3",
			"ProcessName", "-", "IpAddress", "10.8.0.5", "IpPort", "51234"),
			event.Event{User: "svc-msp", UserDomain: "CORP", UserSID: "S-1-5-21-1-2-3-1001", LogonType: event.Some[int32](3),
				LogonID: "0x1a2b", SrcIP: "10.8.0.5", SrcPort: event.Some[int32](51234), Action: "logon"}},
		{"4625 from ::1", rec(pSecurity, 4625, "TargetUserName", "admin", "IpAddress", "::1", "IpPort", "0", "LogonType", "10"),
			event.Event{User: "admin", SrcIP: "::1", SrcPort: event.Some[int32](0), LogonType: event.Some[int32](10), Action: "logon_failed"}}, // the port the record states, 0
		{"4732 member by DN", rec(pSecurity, 4732, "MemberName", `CN=Smith\, Bob,OU=IT,DC=corp`, "MemberSid", "S-1-5-21-9",
			"TargetUserName", "Administrators", "SubjectUserName", "msp-admin", "SubjectDomainName", "CORP", "SubjectLogonId", "0x5"),
			event.Event{User: "Smith, Bob", UserSID: "S-1-5-21-9", SubjectUser: `CORP\msp-admin`, LogonID: "0x5", Action: "group_member_added"}},
		{"4733 local member", rec(pSecurity, 4733, "MemberName", "-", "MemberSid", "S-1-5-21-9"),
			event.Event{User: "S-1-5-21-9", UserSID: "S-1-5-21-9", Action: "group_member_removed"}},
		{"5156 tcp", rec(pSecurity, 5156, "Application", `\device\harddiskvolume2\x.exe`, "SourceAddress", "10.0.0.2",
			"SourcePort", "50000", "DestAddress", "1.2.3.4", "DestPort", "443", "Protocol", "6"),
			event.Event{Process: `\device\harddiskvolume2\x.exe`, SrcIP: "10.0.0.2", SrcPort: event.Some[int32](50000), DstIP: "1.2.3.4",
				DstPort: event.Some[int32](443), Protocol: "tcp", Action: "connection_allowed"}},
		{"RDP 21", rec(pLSM, 21, "User", `CORP\alice`, "SessionID", "2", "Address", "192.168.1.20"),
			event.Event{User: "alice", UserDomain: "CORP", SessionID: "2", SrcIP: "192.168.1.20", Action: "rdp_logon"}},
		{"RDP 1149", rec(pRCM, 1149, "Param1", "alice", "Param2", "CORP", "Param3", "203.0.113.9"),
			event.Event{User: "alice", UserDomain: "CORP", SrcIP: "203.0.113.9", Action: "rdp_auth_success"}},
		{"PowerShell 400", rec(pPSClass, 400, "Data", "Available", "Data_2", "None",
			"Data_3", "\tNewEngineState=Available\r\n\tHostApplication=powershell.exe -nop -w hidden\r\n\tEngineVersion=5.1"),
			event.Event{CommandLine: "powershell.exe -nop -w hidden", Action: "engine_started"}},
		{"PowerShell 4103", rec(pPS, 4103, "ContextInfo", "        Severity = Informational\r\n        Host Application = powershell.exe -enc AAAA\r\n        User = CORP\\bob\r\n",
			"Payload", "CommandInvocation(Get-ADUser): \"Get-ADUser\""),
			event.Event{CommandLine: "powershell.exe -enc AAAA", User: "bob", UserDomain: "CORP",
				ScriptText: "CommandInvocation(Get-ADUser): \"Get-ADUser\"", Action: "pipeline_execution"}},
		{"4104", rec(pPS, 4104, "MessageNumber", "1", "ScriptBlockText", "Get-LocalUser"),
			event.Event{ScriptText: "Get-LocalUser", Action: "script_block"}},
		{"1102", rec(pEventlog, 1102, "SubjectUserName", "bob", "SubjectDomainName", "CORP"),
			event.Event{SubjectUser: `CORP\bob`, Action: "log_cleared"}},
		{"unmapped provider", rec("Some-Other-Provider", 4624, "TargetUserName", "x"), event.Event{}},
		{"unmapped id", rec(pSecurity, 4799, "TargetUserName", "x"), event.Event{}},
	}
	for _, c := range cases {
		var got event.Event
		applyMapping(c.r, &got)
		if got != c.want {
			t.Errorf("%s:\n got  %+v\n want %+v", c.name, got, c.want)
		}
	}
}

// TestTableWellFormed: every source expression names something and no
// (provider, id) pair is listed twice.
func TestTableWellFormed(t *testing.T) {
	seen := map[key]bool{}
	for _, m := range table {
		if m.provider == "" || len(m.ids) == 0 || m.action == "" {
			t.Errorf("incomplete row %+v", m)
		}
		for _, id := range m.ids {
			k := key{m.provider, id}
			if seen[k] {
				t.Errorf("%v listed twice", k)
			}
			seen[k] = true
		}
		for _, s := range m.sets {
			if s.col == "" || s.src == "" {
				t.Errorf("row %v: bad set %+v", m.ids, s)
			}
		}
	}
}
