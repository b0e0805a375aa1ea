// Package winevent turns one Windows event record, however it was rendered
// (EVTX binary XML, event XML, the JSON of evtx_dump, NXLog, winlogbeat or
// Velociraptor), into an event.Event. Every Windows-event ingester builds a
// binxml.Record (the System values and the EventData/UserData fields) and
// hands it to ToEvent, so the typed columns come from one mapping table
// (mapping.go) whatever the collector was.
package winevent

import (
	"strconv"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
)

// ToEvent maps a record onto ev (overwriting all of it): System values to
// their columns, every field to Fields, and the typed columns the mapping
// table names. Offset is the record id; ingesters of text renderings set
// it to the line or element number afterwards.
func ToEvent(r *binxml.Record, format, path string, ev *event.Event) {
	Map(r, format, path, ev)
	ev.Fields = toDict(r.Fields)
}

// Map is ToEvent without the raw fields: the EVTX parser writes them
// straight as the store's JSON text (building a dict per event cost more
// than decoding the record). The mapping reads the record, not ev.Fields.
func Map(r *binxml.Record, format, path string, ev *event.Event) {
	*ev = event.Event{
		Time:     r.Time,
		Source:   event.SourceEVTX,
		Format:   format,
		Host:     r.Computer,
		Channel:  r.Channel,
		Provider: r.Provider,
		EventID:  r.EventID,
		RecordID: int64(r.RecordID),
		Message:  r.Message,
		Evidence: path,
		Offset:   int64(r.RecordID),
	}
	if ev.Time.IsZero() {
		ev.Time = r.Written
	}
	system(r, ev)
	applyMapping(r, ev)
}

// system keeps the System values the other columns do not hold. A binary
// record always has them, and 0 is a value (Level 0 is LogAlways, as on
// every Security audit event). A rendering that kept Keywords kept the
// whole System section (event XML); one without (the JSON collectors
// that map System to their own names) cannot tell a missing value from 0
// in its Record, so there 0 counts as absent.
func system(r *binxml.Record, ev *event.Event) {
	binary := r.Decoder != "" || r.Keywords != ""
	o32 := func(n int32) event.Opt[int32] {
		if n == 0 && !binary {
			return event.Opt[int32]{}
		}
		return event.Some(n)
	}
	o64 := func(n uint32) event.Opt[int64] {
		if n == 0 && !binary {
			return event.Opt[int64]{}
		}
		return event.Some(int64(n))
	}
	ev.Level, ev.Task, ev.Opcode = o32(r.Level), o32(r.Task), o32(r.Opcode)
	ev.SystemProcessID, ev.SystemThreadID = o64(r.ProcessID), o64(r.ThreadID)
	ev.Keywords, ev.SystemUserSID = keywords(r.Keywords), r.UserID
}

// keywords writes the Keywords mask one way whatever the rendering:
// 0x and lower-case hex without leading zeros (evtxexport pads to 16
// digits, Velociraptor writes a decimal number).
func keywords(s string) string {
	if canonicalKeywords(s) {
		return s // as written below already: no copy (this runs for every record)
	}
	var n uint64
	var err error
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		n, err = strconv.ParseUint(s[2:], 16, 64)
	} else {
		n, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return s // kept as the source wrote it
	}
	return "0x" + strconv.FormatUint(n, 16)
}

// canonicalKeywords reports whether s is already in keywords' form: 0x
// and 1 to 16 lower-case hex digits without a leading zero (0x0 for 0).
// The binary EVTX decoder writes it so for nearly every record.
func canonicalKeywords(s string) bool {
	if len(s) < 3 || len(s) > 18 || s[0] != '0' || s[1] != 'x' {
		return false
	}
	if s[2] == '0' {
		return len(s) == 3
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func toDict(fs []binxml.Field) *ordereddict.Dict {
	d := ordereddict.NewDict()
	for _, f := range fs {
		switch v := f.Value.(type) {
		case []binxml.Field:
			d.Set(f.Name, toDict(v))
		default:
			d.Set(f.Name, v)
		}
	}
	return d
}
