package sigma

import (
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
)

// How a Matcher reads an event: raw fields left as stored JSON text are
// read flat, as the dict would answer, without building it.

// load prepares ev for matching and returns the event to read.
func (m *Matcher) load(ev *event.Event) *event.Event {
	m.cur, m.decoded, m.flatMode = ev, nil, false
	m.data, m.joined = "", false
	if ev.Fields != nil || ev.RawFields == "" {
		return ev
	}
	m.flat, m.flatMode = event.ParseFlatFields(ev.RawFields, m.flat[:0])
	if m.flatMode {
		return ev
	}
	// Not a flat object: decoded as the store would have.
	return m.Decoded(ev)
}

// Decoded returns the event last given to Match with its raw fields
// decoded into Event.Fields (ev itself when they are), as the rules'
// own predicates and summaries read them.
func (m *Matcher) Decoded(ev *event.Event) *event.Event {
	if ev.Fields != nil || ev.RawFields == "" {
		return ev
	}
	if m.decoded == nil || m.cur != ev {
		c := *ev
		c.Fields, _ = event.UnmarshalFieldsString(ev.RawFields)
		m.cur, m.decoded = ev, &c
	}
	return m.decoded
}

// only returns ev with its raw fields cut down to the one named, and
// name2 if not "" (in flat mode): what a leaf that reads that field alone
// (or, with fieldref, it and the one it compares with) needs, made without
// decoding them all (a brute force from random workstation names ran one
// regular expression on a field of every event, and decoding each
// event's fields for it was a tenth of the hunt).
func (m *Matcher) only(ev *event.Event, name, name2 string) *event.Event {
	c := &m.one
	*c = *ev
	c.RawFields = ""
	c.Fields = ordereddict.NewDict()
	if v, ok := m.flatGet(name); ok {
		c.Fields.Set(name, v)
	}
	if name2 != "" && name2 != name {
		if v, ok := m.flatGet(name2); ok {
			c.Fields.Set(name2, v)
		}
	}
	return c
}

// reader reads one raw field name, from the dict or the flat fields.
type reader struct {
	name string
	get  getter
	kind byte // 't' typed column, 'p' Provider_Name, 'd' Data, 'r' raw field
}

func readerOf(name string) reader {
	r := reader{name: name, get: fieldGetter(name), kind: 'r'}
	switch {
	case name == "Provider_Name":
		r.kind = 'p'
	case typedGetter(name) != nil:
		r.kind = 't'
	case name == "Data":
		r.kind = 'd'
	}
	return r
}

// read is r's getter on ev, answered from the flat fields in flat mode
// exactly as fieldGetter answers from the dict.
func (m *Matcher) read(r reader, ev *event.Event) (string, bool) {
	if !m.flatMode || r.kind == 't' {
		return r.get(ev)
	}
	switch r.kind {
	case 'p':
		if ev.Provider != "" {
			return ev.Provider, true
		}
	case 'd':
		first, ok := m.flatGet("Data")
		if !ok {
			return "", false
		}
		if _, more := m.flatGet("Data_2"); !more {
			return first, true
		}
		if !m.joined {
			m.data, m.joined = m.joinData(first), true
		}
		return m.data, true
	}
	return m.flatGet(r.name)
}

// joinData joins the event's Data values, first and Data_2 on, a line
// each (strings.Join allocates the result once, at its size).
func (m *Matcher) joinData(first string) string {
	vals := append(m.dataVals[:0], first)
	for i := 2; ; i++ {
		v, ok := m.flatGet("Data_" + strconv.Itoa(i))
		if !ok {
			break
		}
		vals = append(vals, v)
	}
	m.dataVals = vals
	return strings.Join(vals, "\n")
}

// Field is ev.Field(name) for the event last given to Match, answered
// from the fields Match already parsed instead of searching the stored
// text again.
func (m *Matcher) Field(ev *event.Event, name string) string {
	if m.cur != ev || !m.flatMode {
		return ev.Field(name)
	}
	v, _ := m.flatGet(name)
	return v
}

// Pairs gives the raw fields of the event last given to Match, in order,
// when Match read them as a flat object of strings (ok false otherwise):
// the pairs are then exactly the field dict's items. They are valid
// until the next Match.
func (m *Matcher) Pairs(ev *event.Event) ([]event.KV, bool) {
	if m.cur != ev || !m.flatMode {
		return nil, false
	}
	return m.flat, true
}

func (m *Matcher) flatGet(name string) (string, bool) {
	for _, kv := range m.flat {
		if kv.Key == name {
			return kv.Value, true
		}
	}
	return "", false
}

// eachValue is the package's eachValue, on the flat fields in flat mode.
func (m *Matcher) eachValue(ev *event.Event, f func(string) bool) bool {
	if !m.flatMode {
		return eachValue(ev, f)
	}
	if ev.Message != "" && f(ev.Message) {
		return true
	}
	for _, kv := range m.flat {
		if f(kv.Value) {
			return true
		}
	}
	return false
}

// Summary renders rule k's finding summary for the event last given to
// Match, as the rule's own Summary does, reading the raw fields the way
// Match did (without building the dict).
func (m *Matcher) Summary(k int, ev *event.Event) string {
	if m.cur != ev || !m.flatMode {
		return m.set.rules[k].Summary(m.Decoded(ev))
	}
	d := m.set.dets[k]
	src := d.srcOf(ev)
	// Up to four values, gathered first so the summary is allocated
	// once at its size (a hunt makes one for each of its findings).
	var names, vals [4]string
	n, size := 0, len(d.title)
	for _, key := range d.sumKeys {
		v, ok := m.read(key.reader(src), ev)
		if !ok || v == "" {
			continue
		}
		names[n], vals[n] = key.name, v
		size += 2 + len(key.name) + 1 + min(len(v), 200+len("…"))
		n++
		if n == 4 {
			break
		}
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(d.title)
	for i := 0; i < n; i++ {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(names[i])
		b.WriteByte('=')
		if v := vals[i]; len(v) > 200 {
			b.WriteString(v[:200])
			b.WriteString("…")
		} else {
			b.WriteString(v)
		}
	}
	return b.String()
}
