package winjson

import (
	"context"
	"fmt"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/winevent"
)

// EvtxJSON reads the JSON rendering of EVTX records written by the Rust
// evtx_dump (-o json / jsonl) and used as input by Chainsaw and Hayabusa:
// {"Event":{"System":{…},"EventData":{…}}} with XML attributes under
// "#attributes" and element text under "#text", one object per line or
// pretty-printed, or an array of them.
type EvtxJSON struct{}

// Name implements input.Parser.
func (EvtxJSON) Name() string { return "evtx-json" }

// Detect implements input.Parser.
func (EvtxJSON) Detect(in *input.Input) int {
	h, ok := sniff(in)
	if !ok || !h.has("Event") {
		return 0
	}
	if h.obj != nil {
		if path(h.obj, "Event", "System") != nil {
			return 95
		}
		return 0
	}
	if h.has("System") {
		return 80
	}
	return 0
}

// Parse implements input.Parser.
func (p EvtxJSON) Parse(ctx context.Context, in *input.Input, emit func(ev *event.Event) error, st *input.Stats) error {
	var rec binxml.Record
	var ev event.Event
	return readObjects(ctx, in, st, func(o *ordereddict.Dict, pos int64) error {
		e := sub(o, "Event")
		sys := sub(e, "System")
		if sys == nil {
			st.Skip("no Event.System", fmt.Sprintf("%s:%d: object has no Event.System", in.Path, pos))
			return nil
		}
		rec.Reset()
		systemRecord(sys, &rec)
		if ed := sub(e, "EventData"); ed != nil {
			rec.Fields = eventData(ed, false)
		}
		if ud := sub(e, "UserData"); ud != nil {
			rec.Fields = append(rec.Fields, userData(ud)...)
		}
		rec.Message = get(path(e, "RenderingInfo"), "Message")
		winevent.ToEvent(&rec, p.Name(), in.Path, &ev)
		ev.Offset = pos
		if err := emit(&ev); err != nil {
			return err
		}
		st.Records++
		st.Saw(ev.Time)
		return nil
	})
}
