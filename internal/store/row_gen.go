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
	m |= held(r.Time) << 0
	m |= held(r.Format) << 1
	m |= held(r.Host) << 2
	m |= held(r.Channel) << 3
	m |= held(r.Provider) << 4
	m |= held(r.EventID) << 5
	m |= held(r.RecordID) << 6
	m |= held(r.User) << 7
	m |= held(r.UserDomain) << 8
	m |= held(r.UserSID) << 9
	m |= held(r.SubjectUser) << 10
	m |= held(r.LogonID) << 11
	m |= held(r.SrcIP) << 12
	m |= held(r.DstIP) << 13
	m |= held(r.Protocol) << 14
	m |= held(r.Action) << 15
	m |= held(r.Process) << 16
	m |= held(r.ParentProcess) << 17
	m |= held(r.CommandLine) << 18
	m |= held(r.ScriptText) << 19
	m |= held(r.SessionID) << 20
	m |= held(r.Operator) << 21
	m |= held(r.Message) << 22
	m |= held(r.Keywords) << 23
	m |= held(r.SystemUserSID) << 24
	m |= held(r.Seq) << 25
	return m
}

// optionalValueFields is how many bits present can set.
const optionalValueFields = 26
