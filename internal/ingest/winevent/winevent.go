// Package winevent turns one Windows event record, however it was rendered
// (EVTX binary XML, event XML, the JSON of evtx_dump, NXLog, winlogbeat or
// Velociraptor), into an event.Event. Every Windows-event ingester builds a
// binxml.Record (the System values and the EventData/UserData fields) and
// hands it to ToEvent, so the typed columns come from one mapping table
// (mapping.go) whatever the collector was.
package winevent

import (
	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
)

// ToEvent maps a record onto ev (overwriting all of it): System values to
// their columns, every field to the raw fields (as the store's JSON text,
// see SetFields), and the typed columns the mapping table names. Offset
// is the record id; ingesters of text renderings set it to the line or
// byte offset afterwards. buf is scratch space for the fields' text,
// returned for reuse.
func ToEvent(r *binxml.Record, format, path string, ev *event.Event, buf []byte) []byte {
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
	buf = SetFields(ev, r.Fields, buf)
	if ev.Time.IsZero() {
		ev.Time = r.Written
	}
	applyMapping(r, ev)
	return buf
}

// Dict is fields as an ordered dictionary, nested fields as nested
// dictionaries (a repeated name keeps its last value, at the end).
func Dict(fs []binxml.Field) *ordereddict.Dict {
	d := ordereddict.NewDict()
	for _, f := range fs {
		switch v := f.Value.(type) {
		case []binxml.Field:
			d.Set(f.Name, Dict(v))
		default:
			d.Set(f.Name, v)
		}
	}
	return d
}
