package analyzers_test

import (
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers"
	"github.com/spoor-dfir/spoor/analyzers/internal/evtest"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/incident"
)

// FuzzAnalyzers feeds hostile field values (log content is attacker
// controlled) through every analyzer and the correlation: nothing may
// panic, whatever the strings, ids and times.
func FuzzAnalyzers(f *testing.F) {
	f.Add("DC01", "net user /domain", "session_start", "s1", "ct-x", "203.0.113.9", int64(0), int32(4104), "3", "2")
	f.Add("", "", "command", "", "", "", int64(-1<<62), int32(4720), "", "")
	f.Add("PC.example", "powershell -enc AAAA", "session_end", "x", "%%", "::1", int64(1<<62), int32(5136), "0", "99999999999")
	f.Add("ERP01", `<Task><Exec><Command>cmd.exe</Command><Arguments>/C x &gt; C:\Windows\Temp\a.tmp</Arguments></Exec></Task>`, "SetValue", `\AbCdEfGh`, "svc", "127.0.0.1", int64(1), int32(4698), "10", "0x1fffff")
	f.Add("ERP01", `%SystemRoot%\x.exe`, "SetValue", "samr", "svc", "10.0.0.1", int64(2), int32(7045), "0x2", "0x10")
	f.Add("FS01", `CommandLineEventConsumer="x"`, "Command Line", "srvsvc", `IIS APPPOOL\x`, "127.0.0.1", int64(3), int32(5145), "10", "10")
	cfg, err := caseconf.Parse("case.yaml", []byte("timezone: Europe/Berlin\nproviders:\n  - name: P\n    accounts: [\"ct-*\"]\n    operators: [\"ct-*\"]\n"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host, text, action, session, op, ip string, sec int64, id int32, n, total string) {
		at := time.Unix(sec%(1<<40), 0)
		kv := []string{"ScriptBlockText", text, "ScriptBlockId", session, "MessageNumber", n, "MessageTotal", total,
			"TargetUserName", op, "TargetSid", session, "MemberSid", session, "MemberName", text, "SubjectUserName", op,
			"UserAccountControl", text, "ObjectDN", text, "AttributeLDAPDisplayName", "member", "AttributeValue", text, "OperationType", "%%14674",
			"Channel", text, "Initiated", "true", "SourceIp", ip, "DestinationIp", ip, "DestinationPort", n, "Direction", "%%14593",
			"Param1", op, "Param3", ip,
			"ServiceName", op, "ImagePath", text, "TaskName", session, "TaskContent", text, "TargetObject", text, "Details", text, "EventType", action,
			"ShareName", text, "RelativeTargetName", session, "AccessMask", n, "IpAddress", ip, "CONSUMER", text, "PossibleCause", text, "Type", action,
			"GrantedAccess", n, "TargetImage", text, "SourceImage", op, "CallerProcessName", text, "LogonType", n, "ParentProcessName", op,
			"NewProcessName", text, "ProcessId", n, "NewProcessId", total, "ParentCommandLine", text, "User", op, "Address", ip}
		var evs []event.Event
		for _, ch := range []string{"Security", "Microsoft-Windows-PowerShell/Operational", "Windows PowerShell", "Microsoft-Windows-Sysmon/Operational", "System", "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational",
			"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", "Microsoft-Windows-TaskScheduler/Operational", "Microsoft-Windows-WMI-Activity/Operational"} {
			ev := evtest.Evtx(at, host, ch, id, kv...)
			ev.CommandLine, ev.ScriptText, ev.ParentProcess, ev.User, ev.SrcIP, ev.DstIP = text, text, op, op, ip, ip
			ev.RecordID = int64(id) * sec
			evs = append(evs, ev)
		}
		evs = append(evs, evtest.RMM(at, host, action, session, op, ip, text), evtest.Flow(at, ip, ip, id, sec))
		var all []event.Finding
		for _, a := range analyzers.All(cfg) {
			all = append(all, evtest.Run(a, evs)...)
		}
		for i := range all {
			all[i].ID = string(rune('a' + i%26))
		}
		incident.Correlate(cfg, all)
	})
}
