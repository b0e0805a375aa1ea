// Package event defines the one schema every part of spoor shares: the
// normalised Event that ingesters produce and the store keeps, and the
// Finding that rules and analyzers produce from events.
//
// Data flows one way (evidence → ingest → store → hunt → findings →
// timeline/report); every package may import this one, and this one imports
// nothing of spoor's.
package event

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/asciifold"
)

// Sources of events: the Hive partition value under events/source=….
const (
	SourceEVTX     = "evtx"
	SourceFirewall = "firewall"
	SourceRMM      = "rmm"
)

// Event is one row of the event store. Typed columns (described by the
// Columns table) are filled where the source says so; everything the source said is kept in Fields, in its
// original order, so no raw value is lost by normalisation.
type Event struct {
	Time          time.Time // UTC
	Source        string    // evtx | firewall | rmm
	Format        string    // e.g. evtx, pfirewall, fortigate, anydesk-trace
	Host          string
	Channel       string
	Provider      string
	EventID       int32
	RecordID      int64
	User          string // the account the event is about (target)
	UserDomain    string
	UserSID       string
	SubjectUser   string     // the account that did it (actor), DOMAIN\name or name
	LogonType     Opt[int32] // 0 is the system logon: presence kept
	LogonID       string
	SrcIP         string
	SrcPort       Opt[int32]
	DstIP         string
	DstPort       Opt[int32]
	Protocol      string
	Action        string
	BytesOut      Opt[int64]
	BytesIn       Opt[int64]
	Process       string
	ParentProcess string
	CommandLine   string
	ScriptText    string
	SessionID     string
	Operator      string
	Message       string
	// The EVTX System values beside those above (filled by the Windows
	// event ingesters where the source has them).
	Level           Opt[int32]
	Keywords        string
	Task            Opt[int32]
	Opcode          Opt[int32]
	SystemProcessID Opt[int64]
	SystemThreadID  Opt[int64]
	SystemUserSID   string
	Evidence        string // evidence file, relative to the PATH it was found under
	Offset          int64  // record id (EVTX), line number (text) or byte offset
	// Seq numbers the events one record yields beyond its first (a
	// TeamViewer connection row is a session start and a session end):
	// 0 for the first, so (Source, Evidence, Offset, Seq) is unique.
	Seq int32
	// Fields holds every raw field of the event in source order. Values
	// are strings, numbers, or nested *ordereddict.Dict for structured data.
	Fields *ordereddict.Dict
	// RawFields is the fields as the store keeps them (a JSON object, keys
	// in source order) when a scan left them undecoded, or a parser wrote
	// them in that form: building the dict costs more than everything else
	// in a hunt (and in an EVTX ingest), and most events are read for one
	// or two raw fields or none. Field, HasField and FieldDict read it, and
	// the store writes it as it is, when Fields is nil.
	RawFields string
}

// Field returns the raw field name as a string, or "" if absent.
func (e *Event) Field(name string) string {
	if e.Fields == nil {
		if e.RawFields != "" {
			v, _ := LookupField(e.RawFields, name)
			return v
		}
		return ""
	}
	v, ok := e.Fields.Get(name)
	if !ok || v == nil {
		return ""
	}
	switch s := v.(type) {
	case string:
		return s
	default:
		return String(v)
	}
}

// HasField reports whether the event has the raw field name (even empty).
func (e *Event) HasField(name string) bool {
	if e.Fields == nil {
		if e.RawFields != "" {
			_, ok := LookupField(e.RawFields, name)
			return ok
		}
		return false
	}
	_, ok := e.Fields.Get(name)
	return ok
}

// MayHold reports whether a raw field value of e may hold word, ASCII
// letters folded; false means none does. word must be letters, digits
// and spaces, which the stored text writes as themselves unless a \u
// escape spells them: without one in the text, a value holding word
// shows it there. One look through the text answers for every field: an
// analyzer asks it before reading fields (each a search of the text) for
// a word that is rarely there.
func (e *Event) MayHold(word string) bool {
	if e.Fields != nil {
		return true
	}
	return strings.Contains(e.RawFields, `\u`) || asciifold.Contains(e.RawFields, word)
}

// FieldDict returns the raw fields as a dict: Fields, or RawFields decoded
// afresh on each call (nil when the event has neither, or RawFields does
// not parse). Callers that walk every field use it; single lookups should
// use Field.
func (e *Event) FieldDict() *ordereddict.Dict {
	if e.Fields != nil || e.RawFields == "" {
		return e.Fields
	}
	d, err := UnmarshalFieldsString(e.RawFields)
	if err != nil {
		return nil
	}
	return d
}

// Key identifies one stored event: its source (the store partition),
// evidence file, offset in it, and Seq. The source is needed: one
// ScreenConnect record is stored both as an EVTX event and as an RMM
// event, with the same evidence and offset; Seq tells the events of one
// record apart.
type Key struct {
	Source   string
	Evidence string
	Offset   int64
	Seq      int32
}

// KeyOf is the event's key.
func KeyOf(e *Event) Key { return Key{e.Source, e.Evidence, e.Offset, e.Seq} }

// Ref points back from a finding to one exact event in the evidence; its
// Key joins it to exactly that event's row.
type Ref struct {
	Time     time.Time `json:"time"`
	Source   string    `json:"source"`
	Evidence string    `json:"evidence"`
	Offset   int64     `json:"offset"`
	Seq      int32     `json:"seq,omitempty"`
	RecordID int64     `json:"record_id,omitempty"`
	EventID  int32     `json:"event_id,omitempty"`
	Host     string    `json:"host,omitempty"`
}

// RefOf builds the reference to an event.
func RefOf(e *Event) Ref {
	return Ref{Time: e.Time, Source: e.Source, Evidence: e.Evidence, Offset: e.Offset, Seq: e.Seq, RecordID: e.RecordID, EventID: e.EventID, Host: e.Host}
}

// Key is the referenced event's key.
func (r Ref) Key() Key { return Key{r.Source, r.Evidence, r.Offset, r.Seq} }

// Severity levels, ordered. Compare with Rank.
const (
	SevInfo     = "info"
	SevLow      = "low"
	SevMedium   = "medium"
	SevHigh     = "high"
	SevCritical = "critical"
)

// Severities lists the levels from lowest to highest.
var Severities = []string{SevInfo, SevLow, SevMedium, SevHigh, SevCritical}

// Rank orders severities: info=0 … critical=4; unknown is -1.
func Rank(sev string) int {
	for i, s := range Severities {
		if s == sev {
			return i
		}
	}
	return -1
}

// Finding is one thing a rule or analyzer flagged. It explains itself:
// Summary says what was seen, Reason why it is unusual (with the baseline
// in numbers), Refs the exact events behind it.
type Finding struct {
	// ID is stable for the same evidence (derived from rule, host, time
	// and the first event), so re-hunts and reports stay byte-identical.
	ID         string
	Time       time.Time // first event (UTC)
	End        time.Time // last event; equal to Time for single-event findings
	RuleID     string
	Title      string
	Severity   string
	Tags       []string // ATT&CK, e.g. attack.t1087
	Host       string
	User       string
	Summary    string
	Reason     string
	Analyzer   string // rule | offhours | rmmsessions | psrecon | newadmin | outbound | coverage
	IncidentID string
	SessionID  string
	// Details carries structured numbers (baseline, counts, scores) as
	// ordered key/value pairs; kept ordered so output is deterministic.
	Details *ordereddict.Dict
	Refs    []Ref
	// SeverityOriginal is the severity the rule or analyzer gave, set when
	// context triage judged the finding (Severity is then its verdict);
	// Triage says why it was demoted, kept or raised. A demoted finding is
	// kept, never deleted.
	SeverityOriginal string `json:",omitempty"`
	Triage           string `json:",omitempty"`
	// Shape is the normalised shape of the event behind a single-event
	// rule's finding (image, parent, command line with GUIDs, numbers and
	// temporary names masked): triage compares it with the baseline.
	Shape string `json:",omitempty"`
}

// Incident joins findings on the same host and identity, close in time,
// into one story with a short narrative (session → commands → effects).
type Incident struct {
	ID        string
	Start     time.Time
	End       time.Time
	Severity  string // the highest of its findings
	Title     string
	Hosts     []string
	Users     []string
	SessionID string
	Narrative string   // a few sentences, plain text
	Findings  []string // Finding.ID, in time order
}

// appendTime appends t as encoding/json writes a time (RFC 3339 with
// nanoseconds, trailing zeros dropped), the year within 0–9999. Stored
// times are UTC: those are written digit by digit (the layout
// interpreter of AppendFormat was a third of writing the references);
// any other zone through AppendFormat.
func appendTime(b []byte, t time.Time) []byte {
	if _, off := t.Zone(); off != 0 {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	pad := func(b []byte, v, width int) []byte {
		var tmp [9]byte
		for i := width - 1; i >= 0; i-- {
			tmp[i] = byte('0' + v%10)
			v /= 10
		}
		return append(b, tmp[:width]...)
	}
	b = pad(b, y, 4)
	b = append(b, '-')
	b = pad(b, int(mo), 2)
	b = append(b, '-')
	b = pad(b, d, 2)
	b = append(b, 'T')
	b = pad(b, h, 2)
	b = append(b, ':')
	b = pad(b, mi, 2)
	b = append(b, ':')
	b = pad(b, sec, 2)
	if ns := t.Nanosecond(); ns != 0 {
		width := 9
		for ns%10 == 0 {
			ns /= 10
			width--
		}
		b = append(b, '.')
		b = pad(b, ns, width)
	}
	return append(b, 'Z')
}

// AppendRefsJSON appends refs as encoding/json writes them (an array of
// Ref objects; nil as []), byte for byte, without reflection: a hunt
// writes one reference list per finding, over a hundred thousand of them
// on a brute-forced host.
func AppendRefsJSON(buf []byte, refs []Ref) ([]byte, error) {
	for i := range refs {
		if y := refs[i].Time.Year(); y < 0 || y > 9999 {
			// encoding/json refuses such a time; say what it says.
			_, err := json.Marshal(refs)
			return nil, err
		}
	}
	buf = append(buf, '[')
	for i := range refs {
		r := &refs[i]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"time":"`...)
		buf = appendTime(buf, r.Time)
		buf = append(buf, `","source":`...)
		buf = appendJSONString(buf, r.Source)
		buf = append(buf, `,"evidence":`...)
		buf = appendJSONString(buf, r.Evidence)
		buf = append(buf, `,"offset":`...)
		buf = strconv.AppendInt(buf, r.Offset, 10)
		if r.Seq != 0 {
			buf = append(buf, `,"seq":`...)
			buf = strconv.AppendInt(buf, int64(r.Seq), 10)
		}
		if r.RecordID != 0 {
			buf = append(buf, `,"record_id":`...)
			buf = strconv.AppendInt(buf, r.RecordID, 10)
		}
		if r.EventID != 0 {
			buf = append(buf, `,"event_id":`...)
			buf = strconv.AppendInt(buf, int64(r.EventID), 10)
		}
		if r.Host != "" {
			buf = append(buf, `,"host":`...)
			buf = appendJSONString(buf, r.Host)
		}
		buf = append(buf, '}')
	}
	return append(buf, ']'), nil
}
