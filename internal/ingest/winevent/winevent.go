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
	applyMapping(r, ev)
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
