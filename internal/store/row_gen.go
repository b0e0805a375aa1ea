// Code generated from event.Columns by TestRowGenerated (go test ./internal/store -run RowGenerated -update); DO NOT EDIT.

package store

import "github.com/spoor-dfir/spoor/internal/event"

// eventRow is the Parquet row of an event (see schemaOf for the same schema built at run time).
type eventRow struct {
	Time            *int64  `parquet:"time,optional,timestamp(microsecond)"`
	Format          *string `parquet:"format,optional,dict"`
	Host            *string `parquet:"host,optional,dict"`
	Channel         *string `parquet:"channel,optional,dict"`
	Provider        *string `parquet:"provider,optional,dict"`
	EventID         *int32  `parquet:"event_id,optional"`
	RecordID        *int64  `parquet:"record_id,optional"`
	User            *string `parquet:"user,optional,dict"`
	UserDomain      *string `parquet:"user_domain,optional,dict"`
	UserSID         *string `parquet:"user_sid,optional,dict"`
	SubjectUser     *string `parquet:"subject_user,optional,dict"`
	LogonType       *int32  `parquet:"logon_type,optional"`
	LogonID         *string `parquet:"logon_id,optional"`
	SrcIP           *string `parquet:"src_ip,optional,dict"`
	SrcPort         *int32  `parquet:"src_port,optional"`
	DstIP           *string `parquet:"dst_ip,optional,dict"`
	DstPort         *int32  `parquet:"dst_port,optional"`
	Protocol        *string `parquet:"protocol,optional,dict"`
	Action          *string `parquet:"action,optional,dict"`
	BytesOut        *int64  `parquet:"bytes_out,optional"`
	BytesIn         *int64  `parquet:"bytes_in,optional"`
	Process         *string `parquet:"process,optional,dict"`
	ParentProcess   *string `parquet:"parent_process,optional,dict"`
	CommandLine     *string `parquet:"command_line,optional"`
	ScriptText      *string `parquet:"script_text,optional"`
	SessionID       *string `parquet:"session_id,optional"`
	Operator        *string `parquet:"operator,optional,dict"`
	Message         *string `parquet:"message,optional"`
	Level           *int32  `parquet:"level,optional"`
	Keywords        *string `parquet:"keywords,optional,dict"`
	Task            *int32  `parquet:"task,optional"`
	Opcode          *int32  `parquet:"opcode,optional"`
	SystemProcessID *int64  `parquet:"system_process_id,optional"`
	SystemThreadID  *int64  `parquet:"system_thread_id,optional"`
	SystemUserSID   *string `parquet:"system_user_sid,optional,dict"`
	Evidence        string  `parquet:"evidence,dict"`
	Offset          int64   `parquet:"offset"`
	Seq             *int32  `parquet:"seq,optional"`
	Fields          string  `parquet:"fields"`
}

// fill sets r from ev; nullable values are copied into a and pointed at (nil: NULL).
func (r *eventRow) fill(ev *event.Event, fields string, a *arena) {
	r.Time = a.n64(micros(ev.Time))
	r.Format = a.s(ev.Format)
	r.Host = a.s(ev.Host)
	r.Channel = a.s(ev.Channel)
	r.Provider = a.s(ev.Provider)
	r.EventID = a.n32(ev.EventID)
	r.RecordID = a.n64(ev.RecordID)
	r.User = a.s(ev.User)
	r.UserDomain = a.s(ev.UserDomain)
	r.UserSID = a.s(ev.UserSID)
	r.SubjectUser = a.s(ev.SubjectUser)
	r.LogonType = a.i32(ev.LogonType)
	r.LogonID = a.s(ev.LogonID)
	r.SrcIP = a.s(event.NormIP(ev.SrcIP))
	r.SrcPort = a.i32(ev.SrcPort)
	r.DstIP = a.s(event.NormIP(ev.DstIP))
	r.DstPort = a.i32(ev.DstPort)
	r.Protocol = a.s(ev.Protocol)
	r.Action = a.s(ev.Action)
	r.BytesOut = a.i64(ev.BytesOut)
	r.BytesIn = a.i64(ev.BytesIn)
	r.Process = a.s(ev.Process)
	r.ParentProcess = a.s(ev.ParentProcess)
	r.CommandLine = a.s(ev.CommandLine)
	r.ScriptText = a.s(ev.ScriptText)
	r.SessionID = a.s(ev.SessionID)
	r.Operator = a.s(ev.Operator)
	r.Message = a.s(ev.Message)
	r.Level = a.i32(ev.Level)
	r.Keywords = a.s(ev.Keywords)
	r.Task = a.i32(ev.Task)
	r.Opcode = a.i32(ev.Opcode)
	r.SystemProcessID = a.i64(ev.SystemProcessID)
	r.SystemThreadID = a.i64(ev.SystemThreadID)
	r.SystemUserSID = a.s(ev.SystemUserSID)
	r.Evidence = ev.Evidence
	r.Offset = ev.Offset
	r.Seq = a.n32(ev.Seq)
	r.Fields = fields
}
