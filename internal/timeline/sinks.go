package timeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/spoor-dfir/spoor/internal/attack"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Columns are the flat timeline columns, Timesketch's three first.
var Columns = []string{
	"datetime", "timestamp_desc", "message", "time_local", "kind", "source", "format", "host",
	"channel", "provider", "event_id", "record_id", "user", "user_domain", "subject_user", "logon_type",
	"src_ip", "src_port", "dst_ip", "dst_port", "protocol", "action", "bytes_out", "bytes_in",
	"process", "parent_process", "command_line", "session_id", "operator",
	"severity", "rule_id", "title", "analyzer", "incident_id", "evidence", "offset", "details",
	"finding_id", "techniques", "severity_original", "triage",
}

// eventColumns[i] is the event column Columns[i] shows (nil for the
// timeline's own columns): an event row is filled from the column table.
var eventColumns = func() []*event.Column {
	out := make([]*event.Column, len(Columns))
	for i, name := range Columns {
		if j, ok := event.ColumnIndex(name); ok {
			out[i] = &event.Columns[j]
		}
	}
	return out
}()

// Column positions Record fills by name; appended columns go at the end so
// existing positions (and readers of older exports) stay put.
const (
	colDetails          = 36
	colFindingID        = 37
	colTechniques       = 38
	colSeverityOriginal = 39
	colTriage           = 40
)

// Message renders a one-line human description of an event.
func Message(ev *event.Event) string {
	var b strings.Builder
	if ev.Channel != "" {
		fmt.Fprintf(&b, "[%s %d] ", ev.Channel, ev.EventID)
	} else {
		fmt.Fprintf(&b, "[%s] ", ev.Format)
	}
	add := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s=%s ", k, v)
		}
	}
	add("host", ev.Host)
	add("action", ev.Action)
	add("user", ev.User)
	add("by", ev.SubjectUser)
	if ev.LogonType.V != 0 {
		add("logon_type", strconv.Itoa(int(ev.LogonType.V)))
	}
	add("operator", ev.Operator)
	add("session", ev.SessionID)
	if ev.SrcIP != "" {
		add("src", joinHostPort(ev.SrcIP, ev.SrcPort.V))
	}
	if ev.DstIP != "" {
		add("dst", joinHostPort(ev.DstIP, ev.DstPort.V))
	}
	add("proto", ev.Protocol)
	if ev.BytesOut.V != 0 || ev.BytesIn.V != 0 {
		add("bytes_out", strconv.FormatInt(ev.BytesOut.V, 10))
		add("bytes_in", strconv.FormatInt(ev.BytesIn.V, 10))
	}
	add("process", ev.Process)
	add("cmd", ev.CommandLine)
	if ev.ScriptText != "" {
		add("script", clip(ev.ScriptText, 300))
	}
	if ev.Message != "" {
		add("msg", clip(ev.Message, 300))
	}
	return strings.TrimSpace(b.String())
}

func joinHostPort(ip string, port int32) string {
	if port == 0 {
		return ip
	}
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + strconv.Itoa(int(port))
	}
	return ip + ":" + strconv.Itoa(int(port))
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Record flattens an entry into Columns order.
func Record(e *Entry, loc *time.Location) []string {
	if loc == nil {
		loc = time.UTC
	}
	r := make([]string, len(Columns))
	r[0] = e.Time.UTC().Format(time.RFC3339Nano)
	r[3] = e.Time.In(loc).Format("2006-01-02T15:04:05.000-07:00 MST")
	if ev := e.Event; ev != nil {
		fields, _ := event.MarshalFields(ev.Fields)
		r[1], r[2], r[4], r[5] = "Event Recorded", Message(ev), "event", ev.Source
		for i, c := range eventColumns {
			if c != nil {
				r[i] = c.Text(ev) // "" for NULL; a stated 0 shows
			}
		}
		r[colDetails] = string(fields)
		return r
	}
	f := e.Finding
	refs := ""
	if len(f.Refs) > 0 {
		refs = fmt.Sprintf("%s@%d", f.Refs[0].Evidence, f.Refs[0].Offset)
		if len(f.Refs) > 1 {
			refs += fmt.Sprintf(" (+%d more)", len(f.Refs)-1)
		}
	}
	sev := strings.ToUpper(f.Severity)
	if f.SeverityOriginal != "" && f.SeverityOriginal != f.Severity {
		sev += " ← " + strings.ToUpper(f.SeverityOriginal) // triage's verdict, then the rule's
	}
	msg := fmt.Sprintf("[%s] %s: %s", sev, f.Title, f.Summary)
	if f.Reason != "" {
		msg += " — " + f.Reason
	}
	if f.Triage != "" {
		msg += " — triage " + f.Triage
	}
	copy(r[1:], []string{"Finding", msg})
	r[4] = "finding"
	r[7] = f.Host
	r[12] = f.User
	r[27] = f.SessionID
	copy(r[29:], []string{f.Severity, f.RuleID, f.Title, f.Analyzer, f.IncidentID, refs, "", f.Reason})
	r[colFindingID] = f.ID
	r[colTechniques] = strings.Join(attack.Techniques(f.Tags), " ")
	r[colSeverityOriginal] = f.SeverityOriginal
	r[colTriage] = f.Triage
	return r
}

// SafeCell neutralises a cell a spreadsheet would run as a formula
// (=, +, -, @, tab, CR at the start) by prefixing a single quote, as
// OWASP's CSV-injection guidance recommends. Only the cell's start
// matters: the CSV sink quotes every cell that holds a separator of any
// common locale, so text after a ';' or '|' inside a cell never starts a
// cell of its own and is left as it is.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// CSVSink writes CSV (RFC 4180, comma-separated) with a header row; every
// cell is formula-safe.
type CSVSink struct {
	w   *bufio.Writer
	loc *time.Location
	hdr bool
}

// NewCSV returns a CSV sink.
func NewCSV(w io.Writer, loc *time.Location) *CSVSink {
	return &CSVSink{w: bufio.NewWriter(w), loc: loc}
}

// Write implements Sink.
func (s *CSVSink) Write(e *Entry) error {
	if !s.hdr {
		s.hdr = true
		if err := s.row(Columns); err != nil {
			return err
		}
	}
	r := Record(e, s.loc)
	for i := range r {
		r[i] = SafeCell(r[i])
	}
	return s.row(r)
}

// row writes one record. encoding/csv quotes only cells holding a comma,
// quote or line break; spreadsheets in locales whose list separator is
// ';' (German, French, …) or that split on tabs or '|' would cut an
// unquoted "x;=cmd|..." into a second cell starting with '=' — a formula.
// So every cell holding any of those is quoted too.
func (s *CSVSink) row(cells []string) error {
	for i, c := range cells {
		if i > 0 {
			s.w.WriteByte(',')
		}
		if !needsQuotes(c) {
			s.w.WriteString(c)
			continue
		}
		s.w.WriteByte('"')
		for j := 0; j < len(c); j++ {
			if c[j] == '"' {
				s.w.WriteByte('"')
			}
			s.w.WriteByte(c[j])
		}
		s.w.WriteByte('"')
	}
	err := s.w.WriteByte('\n')
	return err
}

func needsQuotes(c string) bool {
	if c == "" {
		return false
	}
	if c[0] == ' ' || c[len(c)-1] == ' ' {
		return true
	}
	return strings.ContainsAny(c, ",;\t|\"\r\n")
}

// Close implements Sink.
func (s *CSVSink) Close() error {
	if !s.hdr {
		s.hdr = true
		if err := s.row(Columns); err != nil {
			return err
		}
	}
	return s.w.Flush()
}

// JSONLSink writes one JSON object per line with the Columns as keys
// (empty values omitted); with Timesketch set it adds the microsecond
// "timestamp" Timesketch's importer reads.
type JSONLSink struct {
	w          *bufio.Writer
	loc        *time.Location
	timesketch bool
}

// NewJSONL returns a JSONL sink; timesketch selects Timesketch's flavour.
func NewJSONL(w io.Writer, loc *time.Location, timesketch bool) *JSONLSink {
	return &JSONLSink{w: bufio.NewWriter(w), loc: loc, timesketch: timesketch}
}

// Write implements Sink.
func (s *JSONLSink) Write(e *Entry) error {
	r := Record(e, s.loc)
	var b strings.Builder
	b.WriteByte('{')
	first := true
	put := func(k string, v []byte) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(v)
	}
	for i, c := range Columns {
		if r[i] == "" {
			continue
		}
		if c == "details" && e.Event != nil && s.timesketch {
			continue // Timesketch shows flat attributes better
		}
		if c == "details" && e.Event != nil {
			put("fields", []byte(r[i]))
			continue
		}
		v, _ := json.Marshal(r[i])
		put(c, v)
	}
	if s.timesketch {
		put("timestamp", []byte(strconv.FormatInt(e.Time.UnixMicro(), 10)))
		dt, _ := json.Marshal(DataType(e))
		put("data_type", dt)
		if e.Finding != nil {
			tags, _ := json.Marshal(Tags(e.Finding))
			put("tag", tags)
		}
		if e.Event != nil && e.Event.Fields != nil {
			for _, it := range e.Event.Fields.Items() {
				v, _ := json.Marshal(fmt.Sprint(it.Value))
				put("raw_"+it.Key, v)
			}
		}
	}
	b.WriteString("}\n")
	_, err := s.w.WriteString(b.String())
	return err
}

// Close implements Sink.
func (s *JSONLSink) Close() error { return s.w.Flush() }

// DataType is Timesketch's data_type of an entry: spoor:finding for a
// finding, spoor:<source>:<format> for an event (e.g. spoor:evtx:evtx,
// spoor:firewall:pfirewall), so a sketch can filter by kind of record.
func DataType(e *Entry) string {
	if e.Finding != nil {
		return "spoor:finding"
	}
	return "spoor:" + e.Event.Source + ":" + e.Event.Format
}

// Tags are a finding's Timesketch tags: its severity, its ATT&CK technique
// IDs and tactics, and its incident, in that order.
func Tags(f *event.Finding) []string {
	tags := []string{"spoor", "severity:" + f.Severity}
	tags = append(tags, attack.Techniques(f.Tags)...)
	tags = append(tags, attack.Tactics(f.Tags)...)
	if f.IncidentID != "" {
		tags = append(tags, "incident:"+f.IncidentID)
	}
	return tags
}

// ParquetSink writes the timeline as Parquet with one string column per
// timeline column plus a typed time.
type ParquetSink struct {
	pw  *parquet.Writer
	loc *time.Location
}

// NewParquet returns a Parquet sink.
func NewParquet(w io.Writer, loc *time.Location) *ParquetSink {
	group := parquet.Group{"time": parquet.Timestamp(parquet.Microsecond)} // as the store: Spark 3 reads no ns
	for _, c := range Columns {
		group[c] = parquet.String()
	}
	sch := parquet.NewSchema("timeline", group)
	pw := parquet.NewWriter(w, sch, parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}))
	return &ParquetSink{pw: pw, loc: loc}
}

// Write implements Sink.
func (s *ParquetSink) Write(e *Entry) error {
	r := Record(e, s.loc)
	m := map[string]any{"time": e.Time.UTC().Truncate(time.Microsecond)}
	for i, c := range Columns {
		m[c] = r[i]
	}
	return s.pw.Write(m)
}

// Close implements Sink.
func (s *ParquetSink) Close() error { return s.pw.Close() }
