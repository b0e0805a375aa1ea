package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Opt is a number that may be absent. Columns where 0 is a real value
// (logon type 0 is the system logon, a transfer of 0 bytes, port 0) use it,
// so the store can tell "not said" (NULL) from 0.
type Opt[T int32 | int64] struct {
	V     T
	Valid bool
}

// Some is a present value.
func Some[T int32 | int64](v T) Opt[T] { return Opt[T]{V: v, Valid: true} }

// Kind is a column's type.
type Kind uint8

// The column kinds. Strings map "" to NULL; numbers of plain (non-Opt)
// fields map 0 to NULL where their column is nullable; Opt fields map
// !Valid to NULL; times map the zero time to NULL and are stored in
// microseconds.
const (
	KindString Kind = iota + 1
	KindInt32
	KindInt64
	KindTime
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt32:
		return "int32"
	case KindInt64:
		return "int64"
	case KindTime:
		return "time"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Value is one column's value of one event: Str for strings, Int for
// numbers, Time for times; Null when the event has none.
type Value struct {
	Null bool
	Str  string
	Int  int64
	Time time.Time
}

// Column describes one typed column of Event: everything the store, the
// column scan, the rule environment, the declarative formats, the goldens
// and the timelines need to know of it. Build them with the constructors
// below, which give Get and Set from one accessor.
type Column struct {
	Name     string // the store's (snake_case) name
	Kind     Kind
	Nullable bool
	// Var is the rule variable, Name unless that clashes with a helper
	// (provider() is a helper, so the provider column is event_provider).
	Var string
	// Field is the Event field's name (the generated rule env copies it).
	Field string
	// Opt says the Event field is an Opt (presence kept in Go).
	Opt bool
	// IP says the values are addresses, which Get normalises (NormIP).
	IP bool
	// Dict says the values repeat within one evidence file, so the store
	// dictionary-encodes them.
	Dict bool
	// Bounds says the store keeps min/max statistics: for values nearly
	// constant within a part and for numbers (time above all: scans prune
	// row groups by it); free text and per-row values skip them (computing
	// them was 6% of an ingest, and they let a reader skip nothing).
	Bounds bool
	// Mappable says a declarative format may map, const or rewrite it.
	Mappable bool
	// Repeats says many events share a value (not nearly unique per
	// event like times, ids, offsets, ports and byte counts): the hunt may
	// remember a rule's answer keyed by it.
	Repeats bool
	Doc     string

	// Get reads the column (normalised: IPs in canonical form).
	Get func(*Event) Value
	// Set writes it (a Null value clears it).
	Set func(*Event, Value)
}

// SetString parses s by the column's kind and sets it: "" clears, a
// number (decimal, or hex with 0x) that does not parse is an error naming
// the column, a time is RFC 3339.
func (c *Column) SetString(ev *Event, s string) error {
	if s == "" {
		c.Set(ev, Value{Null: true})
		return nil
	}
	switch c.Kind {
	case KindString:
		c.Set(ev, Value{Str: s})
	case KindInt32, KindInt64:
		bits := 64
		if c.Kind == KindInt32 {
			bits = 32
		}
		n, err := parseInt(strings.TrimSpace(s), bits)
		if err != nil {
			return fmt.Errorf("%s: %q is not an integer", c.Name, s)
		}
		c.Set(ev, Value{Int: n})
	case KindTime:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("%s: %q is not an RFC 3339 time", c.Name, s)
		}
		c.Set(ev, Value{Time: t.UTC()})
	}
	return nil
}

// parseInt reads decimal, or hex with 0x (Windows writes ids both ways);
// never octal: a log's "010" is ten.
func parseInt(s string, bits int) (int64, error) {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return strconv.ParseInt(s[2:], 16, bits)
	}
	return strconv.ParseInt(s, 10, bits)
}

// Text renders the column's value as text, "" for NULL: numbers in
// decimal, times in RFC 3339 (UTC, nanoseconds as needed).
func (c *Column) Text(ev *Event) string {
	v := c.Get(ev)
	if v.Null {
		return ""
	}
	switch c.Kind {
	case KindString:
		return v.Str
	case KindTime:
		return v.Time.Format(time.RFC3339Nano)
	}
	return strconv.FormatInt(v.Int, 10)
}

// column flags, for the table below.
const (
	fDict = 1 << iota
	fBounds
	fMap
	fRequired
	fRepeats
)

func flags(c Column, f int) Column {
	c.Dict, c.Bounds, c.Mappable, c.Repeats = f&fDict != 0, f&fBounds != 0, f&fMap != 0, f&fRepeats != 0
	c.Nullable = f&fRequired == 0
	if c.Var == "" {
		c.Var = c.Name
	}
	return c
}

func str(name, field, doc string, f int, p func(*Event) *string) Column {
	return flags(Column{Name: name, Field: field, Kind: KindString, Doc: doc,
		Get: func(e *Event) Value { s := *p(e); return Value{Str: s, Null: s == ""} },
		Set: func(e *Event, v Value) { *p(e) = v.Str },
	}, f)
}

// ipStr is a string column of IP addresses, normalised when read (see
// NormIP), so the store, the goldens and the timelines all hold the
// canonical form.
func ipStr(name, field, doc string, f int, p func(*Event) *string) Column {
	c := str(name, field, doc, f, p)
	c.IP = true
	c.Get = func(e *Event) Value { s := NormIP(*p(e)); return Value{Str: s, Null: s == ""} }
	return c
}

// numKind is the column kind of a Go number type.
func numKind[T int32 | int64]() Kind {
	var zero T
	if _, ok := any(zero).(int32); ok {
		return KindInt32
	}
	return KindInt64
}

// num is a plain number column: 0 is NULL (used where no real value is 0).
func num[T int32 | int64](name, field, doc string, f int, p func(*Event) *T) Column {
	return flags(Column{Name: name, Field: field, Kind: numKind[T](), Doc: doc,
		Get: func(e *Event) Value { n := *p(e); return Value{Int: int64(n), Null: n == 0 && f&fRequired == 0} },
		Set: func(e *Event, v Value) { *p(e) = T(v.Int) },
	}, f)
}

// opt is an Opt number column: absent is NULL, 0 is 0.
func opt[T int32 | int64](name, field, doc string, f int, p func(*Event) *Opt[T]) Column {
	return flags(Column{Name: name, Field: field, Kind: numKind[T](), Doc: doc, Opt: true,
		Get: func(e *Event) Value { o := *p(e); return Value{Int: int64(o.V), Null: !o.Valid} },
		Set: func(e *Event, v Value) {
			if v.Null {
				*p(e) = Opt[T]{}
				return
			}
			*p(e) = Some(T(v.Int))
		},
	}, f)
}

// Columns is the one table of the event's typed columns, in store order.
// Everything that lists columns derives from it: the store schema and the
// column scan (internal/store), the rule environment and its README table
// (internal/rule, generated), rule test events, declarative formats
// (Mappable), the Windows event mapping targets, timelines, hunt memo keys
// and the ingest goldens. Adding a column is one line here, its Event
// field (Field names it) and its producers; then regenerate the store's
// row and the rule environment (go test ./internal/store ./internal/rule
// -run Generated -update), which their tests check. Source is not a
// column: it is the store's partition.
var Columns = []Column{
	{Name: "time", Field: "Time", Kind: KindTime, Nullable: true, Var: "time", Bounds: true,
		Doc: "when it happened (UTC; stored as a microsecond timestamp)",
		Get: func(e *Event) Value { return Value{Time: e.Time, Null: e.Time.IsZero()} },
		Set: func(e *Event, v Value) { e.Time = v.Time }},
	str("format", "Format", "the evidence format, e.g. evtx, pfirewall, fortigate, anydesk-trace", fDict|fBounds|fRepeats, func(e *Event) *string { return &e.Format }),
	str("host", "Host", "the host's one name (see README: One host, one name)", fDict|fBounds|fMap|fRepeats, func(e *Event) *string { return &e.Host }),
	str("channel", "Channel", "Windows event channel, e.g. Security", fDict|fBounds|fMap|fRepeats, func(e *Event) *string { return &e.Channel }),
	withVar(str("provider", "Provider", "event provider, e.g. Microsoft-Windows-Security-Auditing", fDict|fBounds|fMap|fRepeats, func(e *Event) *string { return &e.Provider }), "event_provider"),
	num("event_id", "EventID", "Windows event id (NULL for sources without one; no real record has 0)", fBounds|fMap|fRepeats, func(e *Event) *int32 { return &e.EventID }),
	num("record_id", "RecordID", "EVTX record id (NULL when the source has none)", fBounds|fMap, func(e *Event) *int64 { return &e.RecordID }),
	str("user", "User", "the account the event is about (target)", fDict|fMap|fRepeats, func(e *Event) *string { return &e.User }),
	str("user_domain", "UserDomain", "the target account's domain", fDict|fMap|fRepeats, func(e *Event) *string { return &e.UserDomain }),
	str("user_sid", "UserSID", "the target account's SID", fDict|fMap|fRepeats, func(e *Event) *string { return &e.UserSID }),
	str("subject_user", "SubjectUser", "the account that did it (actor), DOMAIN\\name or name", fDict|fMap|fRepeats, func(e *Event) *string { return &e.SubjectUser }),
	opt("logon_type", "LogonType", "Windows logon type (0 is the system logon)", fBounds|fMap|fRepeats, func(e *Event) *Opt[int32] { return &e.LogonType }),
	str("logon_id", "LogonID", "logon session id, e.g. 0x3e7", fMap, func(e *Event) *string { return &e.LogonID }),
	ipStr("src_ip", "SrcIP", "source address (canonical: IPv4-mapped IPv6 as IPv4)", fDict|fMap|fRepeats, func(e *Event) *string { return &e.SrcIP }),
	opt("src_port", "SrcPort", "source port", fBounds|fMap, func(e *Event) *Opt[int32] { return &e.SrcPort }),
	ipStr("dst_ip", "DstIP", "destination address (canonical)", fDict|fMap|fRepeats, func(e *Event) *string { return &e.DstIP }),
	opt("dst_port", "DstPort", "destination port", fBounds|fMap|fRepeats, func(e *Event) *Opt[int32] { return &e.DstPort }),
	str("protocol", "Protocol", "network protocol, lower case (tcp, udp, icmp)", fDict|fMap|fRepeats, func(e *Event) *string { return &e.Protocol }),
	str("action", "Action", "what happened, one word (logon, allow, deny, connect, …)", fDict|fMap|fRepeats, func(e *Event) *string { return &e.Action }),
	opt("bytes_out", "BytesOut", "bytes sent", fBounds|fMap, func(e *Event) *Opt[int64] { return &e.BytesOut }),
	opt("bytes_in", "BytesIn", "bytes received", fBounds|fMap, func(e *Event) *Opt[int64] { return &e.BytesIn }),
	str("process", "Process", "image path of the process", fDict|fMap|fRepeats, func(e *Event) *string { return &e.Process }),
	str("parent_process", "ParentProcess", "image path of its parent", fDict|fMap|fRepeats, func(e *Event) *string { return &e.ParentProcess }),
	str("command_line", "CommandLine", "process command line", fMap|fRepeats, func(e *Event) *string { return &e.CommandLine }),
	str("script_text", "ScriptText", "PowerShell script block text", fMap|fRepeats, func(e *Event) *string { return &e.ScriptText }),
	str("session_id", "SessionID", "RMM or RDP session id", fMap, func(e *Event) *string { return &e.SessionID }),
	str("operator", "Operator", "RMM operator (technician) name", fDict|fMap|fRepeats, func(e *Event) *string { return &e.Operator }),
	str("message", "Message", "rendered message or the source line", fMap|fRepeats, func(e *Event) *string { return &e.Message }),
	opt("level", "Level", "EVTX System/Level (0 LogAlways … 5 Verbose)", fBounds, func(e *Event) *Opt[int32] { return &e.Level }),
	str("keywords", "Keywords", "EVTX System/Keywords, hex (0x8020000000000000: audit success)", fDict|fBounds, func(e *Event) *string { return &e.Keywords }),
	opt("task", "Task", "EVTX System/Task (event category)", fBounds, func(e *Event) *Opt[int32] { return &e.Task }),
	opt("opcode", "Opcode", "EVTX System/Opcode", fBounds, func(e *Event) *Opt[int32] { return &e.Opcode }),
	opt("system_process_id", "SystemProcessID", "EVTX System/Execution/@ProcessID: the process that logged the event", fBounds, func(e *Event) *Opt[int64] { return &e.SystemProcessID }),
	opt("system_thread_id", "SystemThreadID", "EVTX System/Execution/@ThreadID", 0, func(e *Event) *Opt[int64] { return &e.SystemThreadID }),
	str("system_user_sid", "SystemUserSID", "EVTX System/Security/@UserID: the SID the event was logged under", fDict, func(e *Event) *string { return &e.SystemUserSID }),
	str("evidence", "Evidence", "evidence file, relative to the PATH it was found under", fDict|fBounds|fRequired|fRepeats, func(e *Event) *string { return &e.Evidence }),
	num("offset", "Offset", "record id (EVTX), line number (text) or byte offset in the evidence file", fBounds|fRequired, func(e *Event) *int64 { return &e.Offset }),
	num("seq", "Seq", "the event's number among those one record yields (NULL for the first): with source, evidence and offset the event's key", fBounds, func(e *Event) *int32 { return &e.Seq }),
}

func withVar(c Column, v string) Column { c.Var = v; return c }

// ColumnIndex finds a column of Columns by its store name.
func ColumnIndex(name string) (int, bool) {
	for i := range Columns {
		if Columns[i].Name == name {
			return i, true
		}
	}
	return -1, false
}

// NormIP returns an address in net/netip's canonical text, an
// IPv4-mapped IPv6 address as IPv4 (::ffff:10.0.0.1 → 10.0.0.1), zones
// kept; a value that is not an address is returned unchanged, so nothing
// the evidence said is lost.
func NormIP(s string) string {
	// Only IPv6 text (which always has a colon) can have another
	// canonical form: net/netip parses IPv4 only in its canonical dotted
	// form. The store normalises both addresses of every event, so IPv4
	// and non-addresses return here, without parsing or allocating.
	if strings.IndexByte(s, ':') < 0 {
		return s
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	a = a.Unmap()
	if t := a.String(); t != s {
		return t
	}
	return s
}

// ColumnsJSON renders an event as one JSON object: source, then every
// column of cols in order (null where the store writes NULL), then the
// raw fields in their order. Golden files hold events in this form.
func ColumnsJSON(cols []Column, ev *Event) []byte {
	var b bytes.Buffer
	put := func(k string, raw []byte) {
		if b.Len() == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.Write(jsonString(k))
		b.WriteByte(':')
		b.Write(raw)
	}
	put("source", jsonString(ev.Source))
	for i := range cols {
		c := &cols[i]
		v := c.Get(ev)
		switch {
		case v.Null && c.Nullable:
			put(c.Name, []byte("null"))
		case c.Kind == KindString:
			put(c.Name, jsonString(v.Str))
		case c.Kind == KindTime:
			put(c.Name, jsonString(v.Time.UTC().Format(time.RFC3339Nano)))
		default:
			put(c.Name, strconv.AppendInt(nil, v.Int, 10))
		}
	}
	f, err := MarshalFields(ev.FieldDict())
	if err != nil || len(f) == 0 {
		f = []byte("null")
	}
	put("fields", f)
	b.WriteByte('}')
	return b.Bytes()
}

// jsonString quotes s as JSON without HTML escaping (goldens show <, >
// and & as the evidence wrote them).
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
