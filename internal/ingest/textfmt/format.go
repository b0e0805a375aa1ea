package textfmt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/jsonobj"
	"github.com/spoor-dfir/spoor/internal/ingest/textio"
	"github.com/spoor-dfir/spoor/internal/wallclock"
)

// Format is a compiled definition; it implements input.Parser.
type Format struct {
	def  Definition
	file string

	lines, min, score int
	detect            *regexp.Regexp
	keys              []string

	patterns, context, ignore []*regexp.Regexp
	kvSep, kvDelim            string
	delim                     rune
	times                     []timeCand
	mapping                   []colMap
	consts                    []colConst // def.Const in column-name order
	values                    map[string]map[string]string
	derive                    []derive
}

type derive struct {
	field string
	re    *regexp.Regexp
}

type timeCand struct {
	fields  []string
	layouts []layout
	loc     *time.Location // nil: from the case config
}

// colMap and colConst name their column by its table entry, resolved
// once at load: they are applied to every record.
type colMap struct {
	c    *event.Column
	from []string
}

type colConst struct {
	c *event.Column
	v string
}

// Name is the definition's name.
func (f *Format) Name() string { return f.def.Name }

// Source is the definition's event source (firewall, rmm, …).
func (f *Format) Source() string { return f.def.Source }

// File is the definition file the format was loaded from.
func (f *Format) File() string { return f.file }

// Definition returns a copy of the loaded definition.
func (f *Format) Definition() Definition { return f.def }

// maxMessage bounds Event.Message.
const maxMessage = 4096

// maxRecordLines bounds a multi-line record; more lines start counting as
// skipped, so a runaway continuation cannot swallow a file.
const maxRecordLines = 1000

// Detect scores the head of in against the definition's detect rules.
func (f *Format) Detect(in *input.Input) int {
	text := in.Text
	if text == nil {
		return 0
	}
	lines := bytes.Split(text, []byte("\n"))
	if (in.Size < 0 || int64(len(in.Raw)) < in.Size) && len(lines) > 1 {
		lines = lines[:len(lines)-1] // cut off by the head size
	}
	n, hits := 0, 0
	var first []byte // first non-empty, non-comment line (csv header / jsonl record)
	for _, l := range lines {
		if n >= f.lines {
			break
		}
		l = bytes.TrimRight(l, "\r")
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		n++
		if f.detect != nil && f.detect.Match(l) {
			hits++
		}
		if first == nil && !(f.def.CSV.Comment != "" && bytes.HasPrefix(l, []byte(f.def.CSV.Comment))) {
			first = l
		}
	}
	if f.detect != nil && hits < f.min {
		return 0
	}
	if len(f.keys) > 0 {
		if first == nil || !f.hasKeys(first) {
			return 0
		}
	}
	return f.score
}

// hasKeys checks the detect keys against the first record (jsonl) or
// header line (csv).
func (f *Format) hasKeys(line []byte) bool {
	var have map[string]bool
	switch f.def.Kind {
	case "jsonl":
		d, err := jsonobj.Decode(line)
		if err != nil {
			return false
		}
		for _, k := range f.keys {
			if _, ok := lookup(d, k); !ok {
				return false
			}
		}
		return true
	case "csv":
		cols, err := f.split(string(line))
		if err != nil {
			return false
		}
		have = map[string]bool{}
		for _, c := range cols {
			have[strings.TrimSpace(c)] = true
		}
	default:
		return false
	}
	for _, k := range f.keys {
		if !have[k] {
			return false
		}
	}
	return true
}

// split cuts one delimited line into fields. With quotes on, a field
// may be wrapped in double quotes, with "" for a quote inside; a stray
// quote elsewhere is kept as text (encoding/csv's LazyQuotes), because
// exports are rarely strict. Records spanning lines are not supported.
func (f *Format) split(line string) ([]string, error) {
	if !f.def.CSV.Quotes {
		return strings.Split(line, string(f.delim)), nil
	}
	return splitQuoted(line, f.delim), nil
}

func splitQuoted(line string, delim rune) []string {
	out := make([]string, 0, 16)
	var b strings.Builder
	for {
		if strings.HasPrefix(line, `"`) {
			b.Reset()
			i := 1
			for i < len(line) {
				if line[i] == '"' {
					if i+1 < len(line) && line[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(line[i])
				i++
			}
			// Text after the closing quote up to the delimiter is kept.
			rest := line[i:]
			j := strings.IndexRune(rest, delim)
			if j < 0 {
				b.WriteString(rest)
				out = append(out, b.String())
				return out
			}
			b.WriteString(rest[:j])
			out = append(out, b.String())
			line = rest[j+utf8.RuneLen(delim):]
			continue
		}
		j := strings.IndexRune(line, delim)
		if j < 0 {
			out = append(out, line)
			return out
		}
		out = append(out, line[:j])
		line = line[j+utf8.RuneLen(delim):]
	}
}

// record is one record being assembled.
type record struct {
	line   int64
	text   string
	fields *ordereddict.Dict
	ctx    *ordereddict.Dict // context in force when the record began
	extra  int
}

// Parse reads the file and emits one event per record.
func (f *Format) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	rc, err := in.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", in.Path, err)
	}
	defer rc.Close()
	p := &run{f: f, in: in, st: st, emit: emit}
	p.caseLoc = time.UTC
	if in.Config != nil {
		p.caseLoc = in.Config.SourceLocation(f.def.Name, f.def.Source)
		p.years.From, p.years.To = in.Config.Window.Bounds()
	}
	p.years.Anchor = wallclock.Anchor(in.Text)
	for _, c := range f.times {
		if c.loc == nil {
			st.TimeZone = p.caseLoc.String()
			break
		}
	}
	r := textio.NewReader(rc)
	for {
		if r.Line()%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b, err := r.Next()
		if errors.Is(err, textio.ErrLineTooLong) {
			st.Skip("line over 1 MiB", fmt.Sprintf("%s:%d: line over 1 MiB skipped", in.Path, r.Line()))
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return &input.ParseError{File: in.Path, Line: r.Line() + 1, Err: err}
		}
		if err := p.line(r.Line(), b); err != nil {
			return err
		}
	}
	if err := p.flush(); err != nil {
		return err
	}
	p.unmapped()
	return nil
}

// unmapped reports, for formats whose records are keyed (jsonl, csv), the
// column mappings none of whose keys was in any record of the file.
func (p *run) unmapped() {
	if p.st.Records == 0 || (p.f.def.Kind != "jsonl" && p.f.def.Kind != "csv") {
		return
	}
	for i, m := range p.f.mapping {
		if p.seen[i] {
			continue
		}
		msg := fmt.Sprintf("%s: format %s maps column %s from %s, but no record has that key (nested JSON keys are written a.b.c); the column stays empty",
			p.in.Path, p.f.def.Name, m.c.Name, strings.Join(m.from, "|"))
		p.st.Error(msg)
		p.st.Note("%s", msg)
	}
}

// run is the state of one Parse.
type run struct {
	f       *Format
	in      *input.Input
	st      *input.Stats
	emit    func(*event.Event) error
	caseLoc *time.Location
	years   wallclock.Ref // dates year-less timestamps
	noted   bool
	last    time.Time // the previous record's time: orders a repeated DST hour

	pending *record
	ctx     *ordereddict.Dict // fields from the last context line
	header  []string
	// seen[i] tells whether a key of mapping i was in some record: a
	// mapping whose keys never are is reported, since a misspelt key or
	// a nested path written wrong would otherwise leave a column silently
	// empty.
	seen []bool
}

func (p *run) skip(reason string, n int64, detail string) {
	if detail == "" {
		p.st.Skip(reason, "")
		return
	}
	p.st.Skip(reason, fmt.Sprintf("%s:%d: %s", p.in.Path, n, detail))
}

func (p *run) line(n int64, b []byte) error {
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	s := string(b)
	if strings.TrimSpace(s) == "" {
		p.skip("blank line", n, "")
		return nil
	}
	f := p.f
	switch f.def.Kind {
	case "csv":
		return p.csvLine(n, s)
	case "jsonl":
		return p.jsonLine(n, s)
	}
	for _, re := range f.patterns {
		m := re.FindStringSubmatchIndex(s)
		if m == nil {
			continue
		}
		if err := p.flush(); err != nil {
			return err
		}
		rec := &record{line: n, text: s, fields: ordereddict.NewDict(), ctx: p.ctx}
		for i, name := range re.SubexpNames() {
			if i == 0 || name == "" || m[2*i] < 0 {
				continue
			}
			if _, dup := rec.fields.Get(name); dup {
				continue // a name reused in alternatives: first match wins
			}
			rec.fields.Set(name, s[m[2*i]:m[2*i+1]])
		}
		p.pending = rec
		if !f.def.Multiline {
			return p.flush()
		}
		return nil
	}
	for _, re := range f.context {
		if m := re.FindStringSubmatch(s); m != nil {
			p.ctx = ordereddict.NewDict()
			for i, name := range re.SubexpNames() {
				if i > 0 && name != "" {
					p.ctx.Set(name, m[i])
				}
			}
			p.skip("context line", n, "")
			return nil
		}
	}
	for _, re := range f.ignore {
		if re.MatchString(s) {
			p.skip("ignored line", n, "")
			return nil
		}
	}
	if f.def.Multiline && p.pending != nil {
		if p.pending.extra >= maxRecordLines {
			p.skip("record over 1000 lines", n, "continuation beyond the record limit")
			return nil
		}
		p.pending.extra++
		p.pending.text += "\n" + s
		return nil
	}
	p.skip("no pattern matched", n, fmt.Sprintf("no %s pattern matched: %.120q", f.def.Name, s))
	return nil
}

func (p *run) csvLine(n int64, s string) error {
	c := p.f.def.CSV
	if c.HeaderPrefix != "" && strings.HasPrefix(s, c.HeaderPrefix) {
		cols, err := p.f.split(strings.TrimPrefix(s, c.HeaderPrefix))
		if err != nil {
			p.skip("bad header", n, fmt.Sprintf("unreadable header: %v", err))
			return nil
		}
		p.header = trimAll(cols)
		p.skip("header line", n, "")
		return nil
	}
	if c.Comment != "" && strings.HasPrefix(s, c.Comment) {
		p.skip("comment line", n, "")
		return nil
	}
	for _, re := range p.f.ignore {
		if re.MatchString(s) {
			p.skip("ignored line", n, "")
			return nil
		}
	}
	cols, err := p.f.split(s)
	if err != nil {
		p.skip("bad csv line", n, fmt.Sprintf("unreadable: %v", err))
		return nil
	}
	if p.header == nil {
		switch {
		case len(c.Columns) > 0:
			p.header = c.Columns
		case c.Header:
			p.header = trimAll(cols)
			p.skip("header line", n, "")
			return nil
		default:
			p.skip("no header", n, "row before any "+strconv.Quote(c.HeaderPrefix)+" header line")
			return nil
		}
	}
	// A trailing delimiter gives one empty column more; tolerate it.
	if len(cols) == len(p.header)+1 && cols[len(cols)-1] == "" {
		cols = cols[:len(cols)-1]
	}
	if len(cols) != len(p.header) {
		p.skip("column count mismatch", n, fmt.Sprintf("%d columns, header has %d", len(cols), len(p.header)))
		return nil
	}
	rec := &record{line: n, text: s, fields: ordereddict.NewDict()}
	for i, h := range p.header {
		rec.fields.Set(h, cols[i])
	}
	p.pending = rec
	return p.flush()
}

func trimAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strings.TrimSpace(x)
	}
	return out
}

func (p *run) jsonLine(n int64, s string) error {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{") {
		p.skip("not a JSON object", n, fmt.Sprintf("not a JSON object: %.80q", s))
		return nil
	}
	d, err := jsonobj.Decode([]byte(t))
	if err != nil {
		p.skip("bad JSON", n, fmt.Sprintf("bad JSON: %v", err))
		return nil
	}
	p.pending = &record{line: n, text: s, fields: d}
	return p.flush()
}

// flush turns the pending record into an event.
func (p *run) flush() error {
	rec := p.pending
	if rec == nil {
		return nil
	}
	p.pending = nil
	f := p.f
	if f.def.KV != nil {
		if v, ok := rec.fields.Get(f.def.KV.Field); ok {
			if s, ok := v.(string); ok {
				splitKV(s, f.kvSep, f.kvDelim, func(k, v string) {
					k = f.def.KV.Prefix + k
					if _, dup := rec.fields.Get(k); !dup {
						rec.fields.Set(k, v)
					}
				})
			}
		}
	}
	for _, dv := range f.derive {
		v := fieldString(rec.fields, dv.field)
		if v == "" {
			continue
		}
		m := dv.re.FindStringSubmatchIndex(v)
		if m == nil {
			continue
		}
		for i, name := range dv.re.SubexpNames() {
			if i == 0 || name == "" || m[2*i] < 0 {
				continue
			}
			if _, dup := rec.fields.Get(name); !dup {
				rec.fields.Set(name, v[m[2*i]:m[2*i+1]])
			}
		}
	}
	if rec.ctx != nil {
		for _, it := range rec.ctx.Items() {
			if _, dup := rec.fields.Get(it.Key); !dup {
				rec.fields.Set(it.Key, it.Value)
			}
		}
	}
	if rec.extra > 0 {
		rec.fields.Set("continuation", rec.text[strings.IndexByte(rec.text, '\n')+1:])
	}
	t, ok := p.time(rec)
	if !ok {
		p.skip("bad timestamp", rec.line, "no timestamp field could be read")
		return nil
	}
	ev := &event.Event{
		Time: t, Source: f.def.Source, Format: f.def.Name,
		Evidence: p.in.Path, Offset: rec.line, Fields: rec.fields,
	}
	if p.seen == nil {
		p.seen = make([]bool, len(f.mapping))
	}
	for i, m := range f.mapping {
		for _, name := range m.from {
			if !p.seen[i] {
				if _, ok := lookup(rec.fields, name); ok {
					p.seen[i] = true
				}
			}
		}
		for _, name := range m.from {
			if v := fieldString(rec.fields, name); v != "" && v != "-" {
				p.set(ev, m.c, v, rec.line)
				break
			}
		}
	}
	for _, k := range f.consts {
		if k.c.Get(ev).Null {
			p.set(ev, k.c, k.v, rec.line)
		}
	}
	if ev.Message == "" {
		ev.Message = bound(rec.text)
	}
	p.st.Records++
	p.st.Saw(ev.Time)
	return p.emit(ev)
}

// time reads the first timestamp candidate that is present and parses.
func (p *run) time(rec *record) (time.Time, bool) {
	for _, c := range p.f.times {
		parts := make([]string, 0, len(c.fields))
		for _, name := range c.fields {
			v := fieldString(rec.fields, name)
			if v == "" {
				parts = nil
				break
			}
			parts = append(parts, v)
		}
		if parts == nil {
			continue
		}
		v := strings.Join(parts, " ")
		for _, l := range c.layouts {
			t, ok := l.parse(v)
			if !ok {
				continue
			}
			if l.zoned {
				return t.UTC(), true
			}
			loc := c.loc
			if loc == nil {
				loc = p.caseLoc
			}
			if l.noYear {
				h, mi, sec := t.Clock()
				y, how := p.years.Year(loc, t.Month(), t.Day(), h, mi, sec)
				if !wallclock.Valid(y, int(t.Month()), t.Day(), h, mi, sec) {
					continue // Feb 29 in a common year
				}
				if !p.noted {
					p.st.Note("%s: timestamps have no year; year inferred from %s", p.in.Path, how)
					p.noted = true
				}
				t = time.Date(y, t.Month(), t.Day(), h, mi, sec, t.Nanosecond(), time.UTC)
			}
			w, kind := wallclock.Resolve(t, loc, p.last)
			if note := kind.Note(); note != "" {
				p.st.Note("%s: %s", p.in.Path, note)
				p.st.Error(fmt.Sprintf("%s:%d: %s in %s", p.in.Path, rec.line, note, loc))
			}
			p.last = w
			return w, true
		}
	}
	return time.Time{}, false
}

// lookup finds a field by name, or by a dotted path through nested JSON
// objects (winlog.event_data.User): a key that itself holds dots
// ("winlog.event_id", as flattened exports write) is found as it is first.
func lookup(d *ordereddict.Dict, name string) (any, bool) {
	if d == nil {
		return nil, false
	}
	if v, ok := d.Get(name); ok {
		return v, true
	}
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		v, ok := d.Get(name[:i])
		if !ok {
			continue
		}
		if sub, isDict := v.(*ordereddict.Dict); isDict {
			if v, ok := lookup(sub, name[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

func fieldString(d *ordereddict.Dict, name string) string {
	v, ok := lookup(d, name)
	if !ok || v == nil {
		return ""
	}
	if x, ok := v.(string); ok {
		return strings.TrimSpace(x)
	}
	return event.String(v)
}

func bound(s string) string { return textio.Truncate(s, maxMessage) }

// set writes v into column col, through the value map; numbers that do
// not parse and addresses that are not addresses are reported and left
// out (the raw value stays in Fields).
func (p *run) set(ev *event.Event, c *event.Column, v string, line int64) {
	col := c.Name
	if m, ok := p.f.values[col]; ok {
		if nv, ok := m[strings.ToLower(v)]; ok {
			v = nv
		} else if nv, ok := m["*"]; ok {
			v = nv
		}
	}
	if v == "" || v == "-" && col != "message" {
		return
	}
	switch col {
	case "src_ip", "dst_ip":
		// An address may carry its port (host:port, [v6]:port).
		ip, port, ok := splitAddr(v)
		if !ok {
			p.st.Error(fmt.Sprintf("%s:%d: %s %q is not an IP address", p.in.Path, line, col, v))
			return
		}
		c.Set(ev, event.Value{Str: ip})
		if port >= 0 {
			pc := cSrcPort
			if col == "dst_ip" {
				pc = cDstPort
			}
			if pc.Get(ev).Null {
				pc.Set(ev, event.Value{Int: int64(port)})
			}
		}
		return
	case "src_port", "dst_port":
		if _, err := strconv.ParseUint(v, 10, 16); err != nil {
			p.st.Error(fmt.Sprintf("%s:%d: %s %q is not a port", p.in.Path, line, col, v))
			return
		}
	case "protocol", "action":
		// Lower-case like the Go firewall parsers' normalised words; the
		// vendor's word stays in Fields.
		v = strings.ToLower(v)
	case "message":
		v = bound(v)
	}
	if err := c.SetString(ev, v); err != nil {
		p.st.Error(fmt.Sprintf("%s:%d: %s %q is not a number", p.in.Path, line, col, v))
	}
}

// The port columns an address with a port fills.
var cSrcPort, cDstPort = column("src_port"), column("dst_port")

func column(name string) *event.Column {
	i, ok := event.ColumnIndex(name)
	if !ok {
		panic("textfmt: no event column " + name)
	}
	return &event.Columns[i]
}
