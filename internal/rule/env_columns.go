// Code generated from event.Columns by TestEnvColumnsGenerated (go test ./internal/rule -run Generated -update); DO NOT EDIT.

package rule

import (
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

// columnsEnv holds the typed event columns as condition variables.
type columnsEnv struct {
	Time            time.Time `expr:"time"`
	Format          string    `expr:"format"`
	Host            string    `expr:"host"`
	Channel         string    `expr:"channel"`
	Provider        string    `expr:"event_provider"`
	EventID         int32     `expr:"event_id"`
	RecordID        int64     `expr:"record_id"`
	User            string    `expr:"user"`
	UserDomain      string    `expr:"user_domain"`
	UserSID         string    `expr:"user_sid"`
	SubjectUser     string    `expr:"subject_user"`
	LogonType       int32     `expr:"logon_type"`
	LogonID         string    `expr:"logon_id"`
	SrcIP           string    `expr:"src_ip"`
	SrcPort         int32     `expr:"src_port"`
	DstIP           string    `expr:"dst_ip"`
	DstPort         int32     `expr:"dst_port"`
	Protocol        string    `expr:"protocol"`
	Action          string    `expr:"action"`
	BytesOut        int64     `expr:"bytes_out"`
	BytesIn         int64     `expr:"bytes_in"`
	Process         string    `expr:"process"`
	ParentProcess   string    `expr:"parent_process"`
	CommandLine     string    `expr:"command_line"`
	ScriptText      string    `expr:"script_text"`
	SessionID       string    `expr:"session_id"`
	Operator        string    `expr:"operator"`
	Message         string    `expr:"message"`
	Level           int32     `expr:"level"`
	Keywords        string    `expr:"keywords"`
	Task            int32     `expr:"task"`
	Opcode          int32     `expr:"opcode"`
	SystemProcessID int64     `expr:"system_process_id"`
	SystemThreadID  int64     `expr:"system_thread_id"`
	SystemUserSID   string    `expr:"system_user_sid"`
	Evidence        string    `expr:"evidence"`
	Offset          int64     `expr:"offset"`
	Seq             int32     `expr:"seq"`
}

// setColumns copies the event's columns (an absent number is 0,
// addresses in canonical form).
func (e *columnsEnv) setColumns(ev *event.Event) {
	e.Time = ev.Time
	e.Format = ev.Format
	e.Host = ev.Host
	e.Channel = ev.Channel
	e.Provider = ev.Provider
	e.EventID = ev.EventID
	e.RecordID = ev.RecordID
	e.User = ev.User
	e.UserDomain = ev.UserDomain
	e.UserSID = ev.UserSID
	e.SubjectUser = ev.SubjectUser
	e.LogonType = ev.LogonType.V
	e.LogonID = ev.LogonID
	e.SrcIP = event.NormIP(ev.SrcIP)
	e.SrcPort = ev.SrcPort.V
	e.DstIP = event.NormIP(ev.DstIP)
	e.DstPort = ev.DstPort.V
	e.Protocol = ev.Protocol
	e.Action = ev.Action
	e.BytesOut = ev.BytesOut.V
	e.BytesIn = ev.BytesIn.V
	e.Process = ev.Process
	e.ParentProcess = ev.ParentProcess
	e.CommandLine = ev.CommandLine
	e.ScriptText = ev.ScriptText
	e.SessionID = ev.SessionID
	e.Operator = ev.Operator
	e.Message = ev.Message
	e.Level = ev.Level.V
	e.Keywords = ev.Keywords
	e.Task = ev.Task.V
	e.Opcode = ev.Opcode.V
	e.SystemProcessID = ev.SystemProcessID.V
	e.SystemThreadID = ev.SystemThreadID.V
	e.SystemUserSID = ev.SystemUserSID
	e.Evidence = ev.Evidence
	e.Offset = ev.Offset
	e.Seq = ev.Seq
}
