// Code generated from event.Columns by TestRowGenerated (go test ./internal/store -run RowGenerated -update); DO NOT EDIT.

package store

import "github.com/spoor-dfir/spoor/internal/event"

// eventRow is the Parquet row of an event (see schemaOf for the same schema built at run time).
type eventRow struct {
	Time            int64  `parquet:"time,optional,timestamp(microsecond)"`
	Format          string `parquet:"format,optional,dict"`
	Host            string `parquet:"host,optional,dict"`
	Channel         string `parquet:"channel,optional,dict"`
	Provider        string `parquet:"provider,optional,dict"`
	EventID         int32  `parquet:"event_id,optional"`
	RecordID        int64  `parquet:"record_id,optional"`
	User            string `parquet:"user,optional,dict"`
	UserDomain      string `parquet:"user_domain,optional,dict"`
	UserSID         string `parquet:"user_sid,optional,dict"`
	SubjectUser     string `parquet:"subject_user,optional,dict"`
	LogonType       *int32 `parquet:"logon_type,optional"`
	LogonID         string `parquet:"logon_id,optional"`
	SrcIP           string `parquet:"src_ip,optional,dict"`
	SrcPort         *int32 `parquet:"src_port,optional"`
	DstIP           string `parquet:"dst_ip,optional,dict"`
	DstPort         *int32 `parquet:"dst_port,optional"`
	Protocol        string `parquet:"protocol,optional,dict"`
	Action          string `parquet:"action,optional,dict"`
	BytesOut        *int64 `parquet:"bytes_out,optional"`
	BytesIn         *int64 `parquet:"bytes_in,optional"`
	Process         string `parquet:"process,optional,dict"`
	ParentProcess   string `parquet:"parent_process,optional,dict"`
	CommandLine     string `parquet:"command_line,optional"`
	ScriptText      string `parquet:"script_text,optional"`
	SessionID       string `parquet:"session_id,optional"`
	Operator        string `parquet:"operator,optional,dict"`
	Message         string `parquet:"message,optional"`
	Level           *int32 `parquet:"level,optional"`
	Keywords        string `parquet:"keywords,optional,dict"`
	Task            *int32 `parquet:"task,optional"`
	Opcode          *int32 `parquet:"opcode,optional"`
	SystemProcessID *int64 `parquet:"system_process_id,optional"`
	SystemThreadID  *int64 `parquet:"system_thread_id,optional"`
	SystemUserSID   string `parquet:"system_user_sid,optional,dict"`
	Evidence        string `parquet:"evidence,dict"`
	Offset          int64  `parquet:"offset"`
	Seq             int32  `parquet:"seq,optional"`
	Fields          string `parquet:"fields"`
}

// fill sets r from ev; Opt values are copied into a (never reallocated) and pointed at.
func (r *eventRow) fill(ev *event.Event, fields string, a *arena) {
	r.Time = micros(ev.Time)
	r.Format = ev.Format
	r.Host = ev.Host
	r.Channel = ev.Channel
	r.Provider = ev.Provider
	r.EventID = ev.EventID
	r.RecordID = ev.RecordID
	r.User = ev.User
	r.UserDomain = ev.UserDomain
	r.UserSID = ev.UserSID
	r.SubjectUser = ev.SubjectUser
	r.LogonType = a.i32(ev.LogonType)
	r.LogonID = ev.LogonID
	r.SrcIP = event.NormIP(ev.SrcIP)
	r.SrcPort = a.i32(ev.SrcPort)
	r.DstIP = event.NormIP(ev.DstIP)
	r.DstPort = a.i32(ev.DstPort)
	r.Protocol = ev.Protocol
	r.Action = ev.Action
	r.BytesOut = a.i64(ev.BytesOut)
	r.BytesIn = a.i64(ev.BytesIn)
	r.Process = ev.Process
	r.ParentProcess = ev.ParentProcess
	r.CommandLine = ev.CommandLine
	r.ScriptText = ev.ScriptText
	r.SessionID = ev.SessionID
	r.Operator = ev.Operator
	r.Message = ev.Message
	r.Level = a.i32(ev.Level)
	r.Keywords = ev.Keywords
	r.Task = a.i32(ev.Task)
	r.Opcode = a.i32(ev.Opcode)
	r.SystemProcessID = a.i64(ev.SystemProcessID)
	r.SystemThreadID = a.i64(ev.SystemThreadID)
	r.SystemUserSID = ev.SystemUserSID
	r.Evidence = ev.Evidence
	r.Offset = ev.Offset
	r.Seq = ev.Seq
	r.Fields = fields
}

// present has bit k set when the k-th optional value field of r (its zero value is NULL) holds a value.
func (r *eventRow) present() uint64 {
	var m uint64
	if r.Time != 0 {
		m |= 1 << 0
	}
	if r.Format != "" {
		m |= 1 << 1
	}
	if r.Host != "" {
		m |= 1 << 2
	}
	if r.Channel != "" {
		m |= 1 << 3
	}
	if r.Provider != "" {
		m |= 1 << 4
	}
	if r.EventID != 0 {
		m |= 1 << 5
	}
	if r.RecordID != 0 {
		m |= 1 << 6
	}
	if r.User != "" {
		m |= 1 << 7
	}
	if r.UserDomain != "" {
		m |= 1 << 8
	}
	if r.UserSID != "" {
		m |= 1 << 9
	}
	if r.SubjectUser != "" {
		m |= 1 << 10
	}
	if r.LogonID != "" {
		m |= 1 << 11
	}
	if r.SrcIP != "" {
		m |= 1 << 12
	}
	if r.DstIP != "" {
		m |= 1 << 13
	}
	if r.Protocol != "" {
		m |= 1 << 14
	}
	if r.Action != "" {
		m |= 1 << 15
	}
	if r.Process != "" {
		m |= 1 << 16
	}
	if r.ParentProcess != "" {
		m |= 1 << 17
	}
	if r.CommandLine != "" {
		m |= 1 << 18
	}
	if r.ScriptText != "" {
		m |= 1 << 19
	}
	if r.SessionID != "" {
		m |= 1 << 20
	}
	if r.Operator != "" {
		m |= 1 << 21
	}
	if r.Message != "" {
		m |= 1 << 22
	}
	if r.Keywords != "" {
		m |= 1 << 23
	}
	if r.SystemUserSID != "" {
		m |= 1 << 24
	}
	if r.Seq != 0 {
		m |= 1 << 25
	}
	return m
}

// optionalValueFields is how many bits present can set.
const optionalValueFields = 26
