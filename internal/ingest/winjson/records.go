package winjson

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
)

// The JSON renderings of event XML (evtx_dump's, Velociraptor's) share
// these helpers: an element with attributes becomes an object with
// "#attributes" (evtx_dump) or plain keys (Velociraptor), its text "#text".

// attr reads an attribute of element e: e["#attributes"][k], or e[k].
func attr(e *ordereddict.Dict, k string) string {
	if a := sub(e, "#attributes"); a != nil {
		if v := get(a, k); v != "" {
			return v
		}
	}
	return get(e, k)
}

// text reads an element's text: a scalar, or the "#text" (or Velociraptor's
// "Value") of an element that also has attributes.
func text(o *ordereddict.Dict, k string) string {
	if o == nil {
		return ""
	}
	v, _ := o.Get(k)
	if d, ok := v.(*ordereddict.Dict); ok {
		if t := get(d, "#text"); t != "" {
			return t
		}
		return get(d, "Value")
	}
	return str(v)
}

// systemTime reads TimeCreated's SystemTime: RFC 3339 text, or
// Velociraptor's epoch seconds (a number).
func systemTime(tc *ordereddict.Dict) time.Time {
	if tc == nil {
		return time.Time{}
	}
	v, ok := tc.Get("SystemTime")
	if !ok {
		if a := sub(tc, "#attributes"); a != nil {
			v, ok = a.Get("SystemTime")
		}
	}
	if !ok {
		return time.Time{}
	}
	if n, isNum := v.(json.Number); isNum {
		return epoch(n.String())
	}
	s := str(v)
	if t, _, ok := parseTime(s); ok {
		return t
	}
	return epoch(s)
}

// epoch reads seconds since 1970 written as a decimal number. The digits
// are read exactly (not through a float64, which holds only about a
// quarter of a microsecond at today's epoch values).
func epoch(s string) time.Time {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec <= 0 || sec > 1e11 {
		f, ferr := strconv.ParseFloat(s, 64) // 1.5e9 and the like
		if ferr != nil || math.IsNaN(f) || f <= 0 || f > 1e11 {
			return time.Time{}
		}
		return time.Unix(0, int64(f*1e9)).UTC()
	}
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return time.Time{}
			}
			ns += int64(c - '0')
		}
	}
	return time.Unix(sec, ns).UTC()
}

// systemRecord fills r's System values from a System object (evtx_dump's
// or Velociraptor's rendering).
func systemRecord(sys *ordereddict.Dict, r *binxml.Record) {
	p := sub(sys, "Provider")
	r.Provider, r.ProviderGUID, r.EventSourceName = attr(p, "Name"), attr(p, "Guid"), attr(p, "EventSourceName")
	id, _ := atoi(text(sys, "EventID"))
	r.EventID = int32(id)
	if q, ok := atoi(attr(sub(sys, "EventID"), "Qualifiers")); ok {
		r.Qualifiers = int32(q)
	}
	r.Time = systemTime(sub(sys, "TimeCreated"))
	if n, ok := atoi(text(sys, "EventRecordID")); ok && n > 0 {
		r.RecordID = uint64(n)
	}
	r.Channel = text(sys, "Channel")
	r.Computer = text(sys, "Computer")
	r.UserID = attr(sub(sys, "Security"), "UserID")
	if n, ok := atoi(text(sys, "Level")); ok {
		r.Level = int32(n)
	}
	if n, ok := atoi(text(sys, "Task")); ok {
		r.Task = int32(n)
	}
	if n, ok := atoi(text(sys, "Opcode")); ok {
		r.Opcode = int32(n)
	}
	r.Keywords = text(sys, "Keywords")
	x := sub(sys, "Execution")
	if n, ok := atoi(attr(x, "ProcessID")); ok && n >= 0 {
		r.ProcessID = uint32(n)
	}
	if n, ok := atoi(attr(x, "ThreadID")); ok && n >= 0 {
		r.ThreadID = uint32(n)
	}
	c := sub(sys, "Correlation")
	r.ActivityID, r.RelatedActivity = attr(c, "ActivityID"), attr(c, "RelatedActivityID")
}

// eventData converts an EventData object to fields named as the EVTX
// decoder names them: named Data by their name, unnamed ones Data, Data_2,
// …, EventData's own attributes as fields. Several unnamed Data elements
// come as {"Data":{"#text":[…]}} (evtx_dump) or, with bareList, as a plain
// list (Velociraptor); evtx_dump's plain list is one element's array value.
func eventData(ed *ordereddict.Dict, bareList bool) []binxml.Field {
	var fs []binxml.Field
	unnamed := 0
	addUnnamed := func(v any) {
		unnamed++
		name := "Data"
		if unnamed > 1 {
			name = "Data_" + strconv.Itoa(unnamed)
		}
		fs = append(fs, binxml.Field{Name: name, Value: fieldValue(v)})
	}
	for _, it := range ed.Items() {
		switch it.Key {
		case "#attributes":
			if a, ok := it.Value.(*ordereddict.Dict); ok {
				for _, x := range a.Items() {
					if !strings.HasPrefix(x.Key, "xmlns") {
						fs = append(fs, binxml.Field{Name: x.Key, Value: str(x.Value)})
					}
				}
			}
		case "Data":
			v, list := it.Value, bareList
			if d, ok := v.(*ordereddict.Dict); ok {
				v, _ = d.Get("#text")
				list = true
			}
			if arr, ok := v.([]any); ok && list {
				for _, e := range arr {
					addUnnamed(e)
				}
			} else {
				addUnnamed(v)
			}
		default:
			fs = append(fs, binxml.Field{Name: it.Key, Value: elementValue(it.Value)})
		}
	}
	return fs
}

// elementValue is a named element's value: its text, or nested fields.
func elementValue(v any) any {
	d, ok := v.(*ordereddict.Dict)
	if !ok {
		return fieldValue(v)
	}
	if t, ok := d.Get("#text"); ok && d.Len() <= 2 {
		return fieldValue(t)
	}
	var fs []binxml.Field
	for _, it := range d.Items() {
		if it.Key == "#attributes" {
			if a, ok := it.Value.(*ordereddict.Dict); ok {
				for _, x := range a.Items() {
					if !strings.HasPrefix(x.Key, "xmlns") {
						fs = append(fs, binxml.Field{Name: x.Key, Value: str(x.Value)})
					}
				}
			}
			continue
		}
		fs = append(fs, binxml.Field{Name: it.Key, Value: elementValue(it.Value)})
	}
	return fs
}

// userData converts UserData (one root element, named by the provider) to
// fields: the root's attributes and children, as the EVTX decoder does.
func userData(ud *ordereddict.Dict) []binxml.Field {
	var fs []binxml.Field
	for _, it := range ud.Items() {
		root, ok := it.Value.(*ordereddict.Dict)
		if !ok {
			fs = append(fs, binxml.Field{Name: it.Key, Value: fieldValue(it.Value)})
			continue
		}
		if v, ok := elementValue(root).([]binxml.Field); ok {
			fs = append(fs, v...)
		}
	}
	return fs
}
