package sigma

import (
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/spoor-dfir/spoor/internal/event"
)

// getter reads one field of an event as a string; ok is false when the
// event does not have the field.
type getter func(ev *event.Event) (string, bool)

// typedGetter returns the getter for Sigma names that live in spoor's typed
// columns (the EVTX System section) rather than in the raw fields.
func typedGetter(name string) getter {
	switch name {
	case "EventID":
		return func(ev *event.Event) (string, bool) { return strconv.Itoa(int(ev.EventID)), true }
	case "Channel":
		return func(ev *event.Event) (string, bool) { return ev.Channel, ev.Channel != "" }
	case "Provider_Name":
		return func(ev *event.Event) (string, bool) {
			if ev.Provider != "" {
				return ev.Provider, true
			}
			return rawField(ev, name)
		}
	case "Computer":
		return func(ev *event.Event) (string, bool) { return ev.Host, ev.Host != "" }
	case "EventRecordID":
		return func(ev *event.Event) (string, bool) { return strconv.FormatInt(ev.RecordID, 10), ev.RecordID != 0 }
	case "TimeCreated":
		// The record's time (EVTX System/TimeCreated), in UTC, for the
		// time modifiers (TimeCreated|hour: 3).
		return func(ev *event.Event) (string, bool) {
			if ev.Time.IsZero() {
				return "", false
			}
			return ev.Time.UTC().Format(time.RFC3339Nano), true
		}
	}
	return nil
}

// fieldGetter is the getter for a raw field name: a typed column when the
// name is one, the event's raw fields otherwise.
func fieldGetter(name string) getter {
	if g := typedGetter(name); g != nil {
		return g
	}
	if name == "Data" {
		return dataGetter
	}
	return func(ev *event.Event) (string, bool) { return rawField(ev, name) }
}

// rawField looks name up in the event's fields, then one level down in
// nested structures (UserData and similar keep their fields there).
func rawField(ev *event.Event, name string) (string, bool) {
	if ev.Fields == nil {
		return "", false
	}
	if v, ok := ev.Fields.Get(name); ok {
		return valueString(v), true
	}
	// Nested structure comes from UserData, whose fields sit under one
	// root element; events with many top-level fields are EventData ones,
	// so the (copying) walk is skipped for them: misses are common, as
	// rules test fields an event kind does not have.
	if ev.Fields.Len() > 3 {
		return "", false
	}
	for _, it := range ev.Fields.Items() {
		if d, ok := it.Value.(*ordereddict.Dict); ok {
			if v, ok := d.Get(name); ok {
				return valueString(v), true
			}
		}
	}
	return "", false
}

// valueString is a raw value as Sigma rules compare it: as event.String
// gives it, but for the spellings Sigma rules were written against
// (floats without exponent, lists joined with blanks, nil as empty).
func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x // nearly every value: no call
	case nil:
		return ""
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string:
		return strings.Join(x, " ")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = valueString(e)
		}
		return strings.Join(parts, " ")
	default:
		return event.String(v)
	}
}

// eachValue calls f on every raw value of the event (and its message)
// until f returns true; keywords search these.
func eachValue(ev *event.Event, f func(string) bool) bool {
	if ev.Message != "" && f(ev.Message) {
		return true
	}
	if ev.Fields == nil {
		return false
	}
	var walk func(d *ordereddict.Dict) bool
	walk = func(d *ordereddict.Dict) bool {
		for _, it := range d.Items() {
			switch x := it.Value.(type) {
			case *ordereddict.Dict:
				if walk(x) {
					return true
				}
			default:
				if f(valueString(x)) {
					return true
				}
			}
		}
		return false
	}
	return walk(ev.Fields)
}

// dataGetter reads classic events' unnamed <Data> elements, which the
// ingester keeps as Data, Data_2, Data_3, …: Sigma sees them as one field,
// so they are joined with newlines (rules use Data|contains).
func dataGetter(ev *event.Event) (string, bool) {
	first, ok := rawField(ev, "Data")
	if !ok {
		return "", false
	}
	if _, more := ev.Fields.Get("Data_2"); !more {
		return first, true
	}
	var b strings.Builder
	b.WriteString(first)
	for i := 2; ; i++ {
		v, ok := ev.Fields.Get("Data_" + strconv.Itoa(i))
		if !ok {
			break
		}
		b.WriteByte('\n')
		b.WriteString(valueString(v))
	}
	return b.String(), true
}
