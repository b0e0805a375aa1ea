package sigma

import (
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/0xrawsec/golang-evtx/evtx"
	"github.com/Velocidex/ordereddict"
	"github.com/spoor-dfir/spoor/internal/event"
)

// readEVTX reads an EVTX file with golang-evtx and maps each record the
// way spoor's EVTX ingester does: System into typed columns, EventData
// and UserData fields into Fields. (GoEvtxMap is a Go map, so field order
// is sorted here, which matching does not depend on.)
func readEVTX(t testing.TB, path string) []*event.Event {
	t.Helper()
	f, err := evtx.OpenDirty(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	var out []*event.Event
	for m := range f.FastEvents() {
		out = append(out, mapEVTX(m))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].RecordID < out[j].RecordID })
	return out
}

func mapEVTX(m *evtx.GoEvtxMap) *event.Event {
	ev := &event.Event{Source: event.SourceEVTX, Format: "evtx", Fields: ordereddict.NewDict()}
	str := func(p string) string {
		path := evtx.Path(p)
		s, err := m.GetString(&path)
		if err != nil {
			return ""
		}
		return s
	}
	if id, err := m.GetInt(&evtx.EventIDPath); err == nil {
		ev.EventID = int32(id)
	} else if id, err := m.GetInt(&evtx.EventIDPath2); err == nil {
		ev.EventID = int32(id)
	}
	ev.Channel = str("/Event/System/Channel")
	ev.Provider = str("/Event/System/Provider/Name")
	ev.Host = str("/Event/System/Computer")
	if rid, err := m.GetInt(&evtx.EventRecordIDPath); err == nil {
		ev.RecordID = rid
		ev.Offset = rid
	}
	if tm, err := m.GetTime(&evtx.SystemTimePath); err == nil {
		ev.Time = tm.UTC()
	}
	for _, sect := range []string{"/Event/EventData", "/Event/UserData"} {
		p := evtx.Path(sect)
		sub, err := m.GetMap(&p)
		if err != nil {
			continue
		}
		addFields(ev.Fields, *sub)
	}
	return ev
}

func addFields(d *ordereddict.Dict, m evtx.GoEvtxMap) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := m[k].(type) {
		case evtx.GoEvtxMap:
			sub := ordereddict.NewDict()
			addFields(sub, v)
			d.Set(k, sub)
		case map[string]interface{}:
			sub := ordereddict.NewDict()
			addFields(sub, evtx.GoEvtxMap(v))
			d.Set(k, sub)
		case string:
			d.Set(k, v)
		case int64:
			d.Set(k, strconv.FormatInt(v, 10))
		case uint64:
			d.Set(k, strconv.FormatUint(v, 10))
		case time.Time:
			d.Set(k, v.UTC().Format("2006-01-02 15:04:05.000"))
		default:
			d.Set(k, fmt.Sprint(v))
		}
	}
}
