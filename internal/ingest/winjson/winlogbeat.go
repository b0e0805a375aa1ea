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

// Winlogbeat reads winlogbeat documents: 7.x and later in the Elastic
// Common Schema (winlog.event_id, winlog.channel, winlog.computer_name,
// winlog.provider_name, winlog.record_id, winlog.event_data.*,
// winlog.user_data.*, @timestamp), and 6.x with the same names at the top
// level (event_id, log_name, computer_name, source_name, record_number,
// event_data). Documents may come one per line, wrapped as Elasticsearch
// hits ({"_source":…}, as elasticdump writes), or as one search response
// ({"hits":{"hits":[…]}}). @timestamp is the event's creation time in UTC.
//
// winlogbeat names unnamed EventData values param1, param2, …; they keep
// those names (a real field may be called param1 too, e.g. 7036's).
type Winlogbeat struct{}

// Name implements input.Parser.
func (Winlogbeat) Name() string { return "winlogbeat" }

// Detect implements input.Parser.
func (Winlogbeat) Detect(in *input.Input) int {
	h, ok := sniff(in)
	if !ok {
		return 0
	}
	if h.obj != nil {
		o := h.obj
		if s := sub(o, "_source"); s != nil {
			o = s
		} else if hits, _ := value(sub(o, "hits"), "hits"); hits != nil {
			if arr, ok := hits.([]any); ok && len(arr) > 0 {
				if d, ok := arr[0].(*ordereddict.Dict); ok {
					o = sub(d, "_source")
				}
			}
		}
		switch {
		case get(sub(o, "winlog"), "event_id") != "":
			return 95
		case get(o, "event_id") != "" && (get(o, "log_name") != "" || get(o, "computer_name") != ""):
			return 90
		}
		return 0
	}
	if h.has("winlog") || h.has("event_id") && h.has("log_name") {
		return 80
	}
	return 0
}

// Parse implements input.Parser.
func (p Winlogbeat) Parse(ctx context.Context, in *input.Input, emit func(ev *event.Event) error, st *input.Stats) error {
	var rec binxml.Record
	var ev event.Event
	one := func(o *ordereddict.Dict, pos int64) error {
		if s := sub(o, "_source"); s != nil {
			o = s
		}
		rec.Reset()
		if !winlogbeatRecord(o, &rec) {
			st.Skip("no event id", fmt.Sprintf("%s:%d: document has no winlog.event_id or event_id", in.Path, pos))
			return nil
		}
		winevent.ToEvent(&rec, p.Name(), in.Path, &ev)
		ev.Offset = pos
		if err := emit(&ev); err != nil {
			return err
		}
		st.Records++
		st.Saw(ev.Time)
		return nil
	}
	return readObjects(ctx, in, st, func(o *ordereddict.Dict, pos int64) error {
		hits, ok := value(sub(o, "hits"), "hits")
		if !ok || sub(o, "_source") != nil {
			return one(o, pos)
		}
		arr, _ := hits.([]any)
		for _, h := range arr {
			d, ok := h.(*ordereddict.Dict)
			if !ok {
				st.Skip("not a JSON object", fmt.Sprintf("%s:%d: a hit is not an object", in.Path, pos))
				continue
			}
			if err := one(d, pos); err != nil {
				return err
			}
		}
		return nil
	})
}

func winlogbeatRecord(o *ordereddict.Dict, r *binxml.Record) bool {
	w := sub(o, "winlog")
	var id string
	var data, user *ordereddict.Dict
	if w != nil {
		id = firstOf(w, "event_id")
		if id == "" {
			id = get(sub(o, "event"), "code")
		}
		r.Channel = get(w, "channel")
		r.Computer = get(w, "computer_name")
		r.Provider = get(w, "provider_name")
		if r.Provider == "" {
			r.Provider = get(sub(o, "event"), "provider")
		}
		r.ProviderGUID = get(w, "provider_guid")
		if n, ok := atoi(get(w, "record_id")); ok && n > 0 {
			r.RecordID = uint64(n)
		}
		r.UserID = get(sub(w, "user"), "identifier")
		data, user = sub(w, "event_data"), sub(w, "user_data")
		if r.Computer == "" {
			r.Computer = get(sub(o, "host"), "name")
		}
	} else {
		id = get(o, "event_id")
		r.Channel = get(o, "log_name")
		r.Computer = get(o, "computer_name")
		r.Provider = get(o, "source_name")
		r.ProviderGUID = get(o, "provider_guid")
		if n, ok := atoi(get(o, "record_number")); ok && n > 0 {
			r.RecordID = uint64(n)
		}
		r.UserID = get(sub(o, "user"), "identifier")
		data, user = sub(o, "event_data"), sub(o, "user_data")
	}
	n, ok := atoi(id)
	if !ok {
		return false
	}
	r.EventID = int32(n)
	r.Message = get(o, "message")
	if t, zoned, ok := parseTime(get(o, "@timestamp")); ok && zoned {
		r.Time = t
	}
	if data != nil {
		r.Fields = dictFields(data, nil)
	}
	if user != nil {
		r.Fields = append(r.Fields, dictFields(user, func(k string) bool { return k == "xml_name" })...)
	}
	return true
}
