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

// Velociraptor reads the results of Velociraptor's EVTX artifacts as JSONL:
// parse_evtx() rows ({"System":{…},"EventData":{…},"Message":…}, attributes
// as plain keys, SystemTime in epoch seconds) or the flattened columns of
// Windows.EventLogs.EVTX (EventTime, Computer, Channel, Provider, EventID,
// EventRecordID, EventData, UserData, Message).
type Velociraptor struct{}

// Name implements input.Parser.
func (Velociraptor) Name() string { return "velociraptor-evtx" }

// Detect implements input.Parser.
func (Velociraptor) Detect(in *input.Input) int {
	h, ok := sniff(in)
	if !ok || h.has("Event") || h.has("winlog") {
		return 0
	}
	if h.has("System") && h.has("EventData") || h.has("System") && h.has("UserData") {
		if h.obj == nil || sub(h.obj, "System") != nil {
			return 90
		}
		return 0
	}
	if h.has("EventRecordID") && h.has("Computer") && h.has("EventID") && (h.has("EventData") || h.has("UserData")) {
		return 85
	}
	return 0
}

// Parse implements input.Parser.
func (p Velociraptor) Parse(ctx context.Context, in *input.Input, emit func(ev *event.Event) error, st *input.Stats) error {
	var rec binxml.Record
	var ev event.Event
	return readObjects(ctx, in, st, func(o *ordereddict.Dict, pos int64) error {
		rec.Reset()
		if sys := sub(o, "System"); sys != nil {
			systemRecord(sys, &rec)
		} else if get(o, "EventID") != "" || text(o, "EventID") != "" {
			flatSystem(o, &rec)
		} else {
			st.Skip("no System or EventID", fmt.Sprintf("%s:%d: object has neither System nor EventID", in.Path, pos))
			return nil
		}
		if ed := sub(o, "EventData"); ed != nil {
			rec.Fields = eventData(ed, true)
		}
		if ud := sub(o, "UserData"); ud != nil {
			rec.Fields = append(rec.Fields, userData(ud)...)
		}
		rec.Message = get(o, "Message")
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

// flatSystem reads the System values of Windows.EventLogs.EVTX's columns.
func flatSystem(o *ordereddict.Dict, r *binxml.Record) {
	id, _ := atoi(text(o, "EventID"))
	r.EventID = int32(id)
	r.Provider = firstOf(o, "Provider", "ProviderName", "Source")
	r.Channel = get(o, "Channel")
	r.Computer = get(o, "Computer")
	if n, ok := atoi(get(o, "EventRecordID")); ok && n > 0 {
		r.RecordID = uint64(n)
	}
	r.UserID = get(o, "UserSID")
	if t, zoned, ok := parseTime(get(o, "EventTime")); ok && zoned {
		r.Time = t
	} else if v, ok := o.Get("EventTime"); ok {
		r.Time = epoch(str(v))
	}
}
