package winjson_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
)

// The differential tests: events of shared sample EVTX files are rendered
// in each collector's JSON shape (the renderers below write what the
// collector's documentation and real exports show), ingested through
// format detection over every spoor parser, and compared event by event,
// column by column and field by field, with the EVTX ingester's events.
// Where a shape cannot carry something, the reference is adjusted the same
// way and the test says so: time precision (evtx_dump and Velociraptor
// write microseconds, winlogbeat milliseconds), winlogbeat's names for
// unnamed data (param1, …), and NXLog's flat objects (no nested data; no
// EventData field named like NXLog's own keys).

// kv and obj write JSON objects with keys in a chosen order.
type kv struct {
	k string
	v any
}
type obj []kv

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(x.k)
		v, err := json.Marshal(x.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

var reUnnamed = regexp.MustCompile(`^Data(_\d+)?$`)

// fieldsObj renders raw fields as an object; unnamed(true) collects the
// EVTX decoder's Data, Data_2, … into one list returned separately.
// The returned obj holds a "Data" placeholder where the first unnamed
// value was, for the caller to fill.
func fieldsObj(d *ordereddict.Dict) (named obj, unnamed []any, nested bool) {
	for _, it := range d.Items() {
		v := jsonValue(it.Value)
		if sub, ok := it.Value.(*ordereddict.Dict); ok {
			nested = true
			o, _, _ := fieldsObj(sub)
			v = o
		}
		if reUnnamed.MatchString(it.Key) {
			if len(unnamed) == 0 {
				named = append(named, kv{"Data", nil})
			}
			unnamed = append(unnamed, v)
			continue
		}
		named = append(named, kv{it.Key, v})
	}
	return named, unnamed, nested
}

// setData fills the "Data" placeholder.
func setData(o obj, v any) obj {
	for i := range o {
		if o[i].k == "Data" {
			o[i].v = v
		}
	}
	return o
}

// jsonValue writes an empty list as [] (a nil one would be null).
func jsonValue(v any) any {
	if l, ok := v.([]string); ok && l == nil {
		return []string{}
	}
	return v
}

func allFields(d *ordereddict.Dict) (o obj, nested bool) {
	for _, it := range d.Items() {
		v := it.Value
		if sub, ok := v.(*ordereddict.Dict); ok {
			nested = true
			v, _ = allFields(sub)
		}
		o = append(o, kv{it.Key, jsonValue(v)})
	}
	return o, nested
}

// shape renders a sample's events as one evidence file, adjusting the
// reference events (copies) for what the shape cannot say; ok=false
// leaves an event out of the file.
type shape struct {
	name   string // the format the file must be detected as
	layout string
	render func(ev *event.Event, i int) (doc any, ok bool)
	adjust func(ev *event.Event)
	// tol is how far apart times may be: Velociraptor writes SystemTime
	// as a float number of seconds, good to about 0.25 µs.
	tol time.Duration
}

var newYork = func() *time.Location {
	l, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return l
}()

// nxlogReserved are NXLog's own keys: an EventData field of that name
// cannot travel in NXLog's flat object.
var nxlogReserved = map[string]bool{"Message": true, "Category": true, "Version": true, "Task": true, "Level": true,
	"Opcode": true, "Keywords": true, "Severity": true, "EventType": true, "Channel": true, "UserID": true,
	"ThreadID": true, "Hostname": true, "EventID": true, "SourceName": true, "RecordNumber": true, "ActivityID": true,
	"type": true, "host": true, "port": true, "tags": true}

var shapes = []shape{
	{name: "nxlog-json", layout: "jsonl", render: func(ev *event.Event, i int) (any, bool) {
		o := obj{
			{"EventTime", ev.Time.In(newYork).Format("2006-01-02 15:04:05")},
			{"Hostname", ev.Host}, {"Keywords", -9214364837600034816}, {"EventType", "AUDIT_SUCCESS"},
			{"SeverityValue", 2}, {"Severity", "INFO"}, {"EventID", ev.EventID}, {"SourceName", ev.Provider},
			{"Task", 12544}, {"RecordNumber", ev.RecordID}, {"ExecutionProcessID", 636}, {"ThreadID", 700},
			{"Channel", ev.Channel},
		}
		if ev.Message != "" {
			o = append(o, kv{"Message", ev.Message})
		}
		for _, it := range ev.Fields.Items() {
			if _, nested := it.Value.(*ordereddict.Dict); nested {
				return nil, false
			}
			if !nxlogReserved[it.Key] {
				o = append(o, kv{it.Key, jsonValue(it.Value)})
			}
		}
		// Logstash received it 1.25 s later, in UTC.
		o = append(o, kv{"EventReceivedTime", ev.Time.In(newYork).Add(time.Second).Format("2006-01-02 15:04:05")},
			kv{"SourceModuleName", "eventlog"}, kv{"SourceModuleType", "im_msvistalog"},
			kv{"@timestamp", ev.Time.Add(1250 * time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z")},
			kv{"@version", "1"}, kv{"host", "wec.example"}, kv{"port", 51234}, kv{"tags", []string{"windows"}})
		return o, true
	}, adjust: func(ev *event.Event) {
		// EventTime has whole seconds; @timestamp is not the event time.
		ev.Time = ev.Time.Truncate(time.Second)
		noSystem(ev)
		for _, k := range ev.Fields.Keys() {
			if nxlogReserved[k] {
				ev.Fields.Delete(k)
			}
		}
	}},
	{name: "evtx-json", layout: "jsonl", render: evtxDump, adjust: truncate(time.Microsecond)},
	{name: "evtx-json", layout: "pretty", render: evtxDump, adjust: truncate(time.Microsecond)},
	{name: "evtx-json", layout: "array", render: evtxDump, adjust: truncate(time.Microsecond)},
	{name: "winlogbeat", layout: "jsonl", render: winlogbeat7, adjust: winlogbeatAdjust},
	{name: "winlogbeat", layout: "hits", render: func(ev *event.Event, i int) (any, bool) {
		d, ok := winlogbeat7(ev, i)
		return obj{{"_index", "winlogbeat-7.17.0"}, {"_id", strconv.Itoa(i)}, {"_score", 1}, {"_source", d}}, ok
	}, adjust: winlogbeatAdjust},
	{name: "winlogbeat", layout: "jsonl", render: winlogbeat6, adjust: winlogbeatAdjust},
	{name: "velociraptor-evtx", layout: "jsonl", render: velociraptorRows, adjust: velociraptorList, tol: 500 * time.Nanosecond},
	{name: "velociraptor-evtx", layout: "jsonl", render: velociraptorFlat, adjust: func(ev *event.Event) { velociraptorList(ev); noSystem(ev) }},
}

func truncate(d time.Duration) func(*event.Event) {
	return func(ev *event.Event) { ev.Time = ev.Time.Truncate(d) }
}

// velociraptorList: one unnamed Data holding a list is written as a list,
// which is also how several unnamed Data are written; it reads as several.
func velociraptorList(ev *event.Event) {
	l, ok := ev.Fields.Get("Data")
	list, isList := l.([]string)
	if !ok || !isList || ev.HasField("Data_2") {
		return
	}
	d := ordereddict.NewDict()
	for _, it := range ev.Fields.Items() {
		if it.Key != "Data" {
			d.Set(it.Key, it.Value)
			continue
		}
		for i, s := range list {
			name := "Data"
			if i > 0 {
				name = "Data_" + strconv.Itoa(i+1)
			}
			d.Set(name, s)
		}
	}
	ev.Fields = d
}

// security is System/Security as evtx_dump writes it: the UserID
// attribute, or null.
func security(ev *event.Event) any {
	if ev.SystemUserSID == "" {
		return nil
	}
	return obj{{"#attributes", obj{{"UserID", ev.SystemUserSID}}}}
}

// keywordsNumber is Keywords as Velociraptor writes it: a number.
func keywordsNumber(hex string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimPrefix(hex, "0x"), 16, 64)
	return n
}

// noSystem clears the System values a collector's shape does not carry
// (NXLog, winlogbeat and Velociraptor's flat rows rename or drop them).
func noSystem(ev *event.Event) {
	ev.Level, ev.Task, ev.Opcode = event.Opt[int32]{}, event.Opt[int32]{}, event.Opt[int32]{}
	ev.SystemProcessID, ev.SystemThreadID = event.Opt[int64]{}, event.Opt[int64]{}
	ev.Keywords, ev.SystemUserSID = "", ""
}

func evtxDump(ev *event.Event, i int) (any, bool) {
	data, unnamed, _ := fieldsObj(ev.Fields)
	switch len(unnamed) {
	case 0:
	case 1:
		data = setData(data, unnamed[0])
	default:
		data = setData(data, obj{{"#text", unnamed}})
	}
	id := any(ev.EventID)
	if i%2 == 1 {
		id = obj{{"#attributes", obj{{"Qualifiers", 16384}}}, {"#text", ev.EventID}}
	}
	sys := obj{
		{"Provider", obj{{"#attributes", obj{{"Name", ev.Provider}, {"Guid", "{54849625-5478-4994-A5BA-3E3B0328C30D}"}}}}},
		{"EventID", id}, {"Version", 0}, {"Level", ev.Level.V}, {"Task", ev.Task.V}, {"Opcode", ev.Opcode.V}, {"Keywords", ev.Keywords},
		{"TimeCreated", obj{{"#attributes", obj{{"SystemTime", ev.Time.UTC().Format("2006-01-02T15:04:05.000000Z")}}}}},
		{"EventRecordID", ev.RecordID}, {"Correlation", nil},
		{"Execution", obj{{"#attributes", obj{{"ProcessID", ev.SystemProcessID.V}, {"ThreadID", ev.SystemThreadID.V}}}}},
		{"Channel", ev.Channel}, {"Computer", ev.Host}, {"Security", security(ev)},
	}
	e := obj{{"#attributes", obj{{"xmlns", "http://schemas.microsoft.com/win/2004/08/events/event"}}}, {"System", sys}, {"EventData", data}}
	if ev.Message != "" {
		e = append(e, kv{"RenderingInfo", obj{{"Message", ev.Message}}})
	}
	return obj{{"Event", e}}, true
}

func winlogbeatData(ev *event.Event) (key string, data obj) {
	n := 0
	var nested bool
	for _, it := range ev.Fields.Items() {
		k, v := it.Key, it.Value
		if reUnnamed.MatchString(k) {
			n++
			k = "param" + strconv.Itoa(n)
		}
		if sub, ok := v.(*ordereddict.Dict); ok {
			nested = true
			v, _ = allFields(sub)
		}
		data = append(data, kv{k, jsonValue(v)})
	}
	if nested {
		return "user_data", append(data, kv{"xml_name", "EventXML"})
	}
	return "event_data", data
}

func winlogbeat7(ev *event.Event, i int) (any, bool) {
	key, data := winlogbeatData(ev)
	w := obj{{"api", "wineventlog"}, {"channel", ev.Channel}, {"computer_name", ev.Host}, {key, data},
		{"event_id", strconv.Itoa(int(ev.EventID))}, {"provider_name", ev.Provider},
		{"process", obj{{"pid", 636}, {"thread", obj{{"id", 700}}}}}, {"record_id", ev.RecordID}, {"task", "Logon"}}
	doc := obj{{"@timestamp", ev.Time.UTC().Format("2006-01-02T15:04:05.000Z")},
		{"agent", obj{{"type", "winlogbeat"}, {"version", "7.17.0"}}},
		{"event", obj{{"code", strconv.Itoa(int(ev.EventID))}, {"provider", ev.Provider}, {"kind", "event"}, {"created", "2026-01-01T00:00:00.000Z"}}},
		{"host", obj{{"name", ev.Host}}}, {"log", obj{{"level", "information"}}}}
	if ev.Message != "" {
		doc = append(doc, kv{"message", ev.Message})
	}
	return append(doc, kv{"winlog", w}), true
}

func winlogbeat6(ev *event.Event, i int) (any, bool) {
	key, data := winlogbeatData(ev)
	doc := obj{{"@timestamp", ev.Time.UTC().Format("2006-01-02T15:04:05.000Z")},
		{"@metadata", obj{{"beat", "winlogbeat"}, {"type", "doc"}, {"version", "6.7.0"}}},
		{"log_name", ev.Channel}, {"record_number", strconv.FormatInt(ev.RecordID, 10)}, {"computer_name", ev.Host},
		{"level", "Information"}, {"event_id", ev.EventID}, {"source_name", ev.Provider}, {key, data},
		{"beat", obj{{"name", "WECserver"}}}, {"type", "wineventlog"}}
	if ev.Message != "" {
		doc = append(doc, kv{"message", ev.Message})
	}
	return doc, true
}

func winlogbeatAdjust(ev *event.Event) {
	ev.Time = ev.Time.Truncate(time.Millisecond)
	noSystem(ev)
	d := ordereddict.NewDict()
	n := 0
	for _, it := range ev.Fields.Items() {
		k := it.Key
		if reUnnamed.MatchString(k) {
			n++
			k = "param" + strconv.Itoa(n)
		}
		d.Set(k, it.Value)
	}
	ev.Fields = d
	// Classic PowerShell's Key=value blob is still found under paramN.
}

func velociraptorRows(ev *event.Event, i int) (any, bool) {
	data, unnamed, _ := fieldsObj(ev.Fields)
	switch len(unnamed) {
	case 0:
	case 1:
		data = setData(data, unnamed[0])
	default:
		data = setData(data, unnamed)
	}
	sys := obj{
		{"Provider", obj{{"Name", ev.Provider}, {"Guid", "{54849625-5478-4994-A5BA-3E3B0328C30D}"}}},
		{"EventID", obj{{"Value", ev.EventID}}}, {"Version", 0}, {"Level", ev.Level.V}, {"Task", ev.Task.V}, {"Opcode", ev.Opcode.V},
		{"Keywords", keywordsNumber(ev.Keywords)},
		{"TimeCreated", obj{{"SystemTime", float64(ev.Time.UnixNano()) / 1e9}}},
		{"EventRecordID", ev.RecordID}, {"Correlation", obj{}},
		{"Execution", obj{{"ProcessID", ev.SystemProcessID.V}, {"ThreadID", ev.SystemThreadID.V}}},
		{"Channel", ev.Channel}, {"Computer", ev.Host}, {"Security", obj{{"UserID", ev.SystemUserSID}}},
	}
	o := obj{{"System", sys}, {"EventData", data}}
	if ev.Message != "" {
		o = append(o, kv{"Message", ev.Message})
	}
	return o, true
}

func velociraptorFlat(ev *event.Event, i int) (any, bool) {
	data, unnamed, _ := fieldsObj(ev.Fields)
	switch len(unnamed) {
	case 0:
	case 1:
		data = setData(data, unnamed[0])
	default:
		data = setData(data, unnamed)
	}
	o := obj{{"EventTime", ev.Time.UTC().Format(time.RFC3339Nano)}, {"Computer", ev.Host}, {"Channel", ev.Channel},
		{"Provider", ev.Provider}, {"EventID", ev.EventID}, {"EventRecordID", ev.RecordID},
		{"UserSID", ""}, {"Username", ""}, {"EventData", data}}
	if ev.Message != "" {
		o = append(o, kv{"Message", ev.Message})
	}
	return append(o, kv{"OSPath", `C:\Windows\System32\winevt\Logs\x.evtx`}), true
}

// render writes a file of docs in the layout.
func render(t *testing.T, layout string, docs []any) []byte {
	var b bytes.Buffer
	switch layout {
	case "array":
		out, err := json.MarshalIndent(docs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		b.Write(out)
	default:
		for _, d := range docs {
			var out []byte
			var err error
			if layout == "pretty" {
				out, err = json.MarshalIndent(d, "", "  ")
			} else {
				out, err = json.Marshal(d)
			}
			if err != nil {
				t.Fatal(err)
			}
			b.Write(out)
			b.WriteString("\r\n")
		}
	}
	return b.Bytes()
}

func TestDifferentialAgainstEVTX(t *testing.T) {
	parsers, err := ingest.Parsers()
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range ingesttest.WindowsSamples {
		ref := ingesttest.EVTXEvents(t, rel)
		for si, sh := range shapes {
			t.Run(fmt.Sprintf("%s/%s-%d/%s", sh.name, sh.layout, si, rel), func(t *testing.T) {
				var docs []any
				var want []*event.Event
				for i, ev := range ref {
					d, ok := sh.render(ev, i)
					if !ok {
						continue
					}
					docs = append(docs, d)
					c := *ev
					c.Fields = ev.Fields.Copy()
					if sh.adjust != nil {
						sh.adjust(&c)
					}
					want = append(want, &c)
				}
				if len(docs) == 0 {
					t.Skip("no event of this sample fits the shape")
				}
				in := ingesttest.Input(render(t, sh.layout, docs), rel+"."+sh.layout+".json", nil)
				p := ingesttest.Detect(t, parsers, in)
				if p == nil || p.Name() != sh.name {
					t.Fatalf("detected as %v, want %s", p, sh.name)
				}
				got, st := ingesttest.ParseAll(t, p, in)
				if st.Skipped != 0 || len(got) != len(want) {
					t.Fatalf("%d events, %d skipped (%s), want %d", len(got), st.Skipped, st.ReasonList(), len(want))
				}
				bad := 0
				for i := range want {
					if dt := got[i].Time.Sub(want[i].Time); dt != 0 && dt.Abs() <= sh.tol {
						got[i].Time = want[i].Time
					}
					if d := ingesttest.DiffEvent(want[i], got[i]); d != "" {
						bad++
						if bad <= 5 {
							t.Errorf("event %d (record %d, id %d): %s", i, want[i].RecordID, want[i].EventID, d)
						}
					}
				}
				if bad > 0 {
					t.Errorf("%d of %d events differ", bad, len(want))
				}
			})
		}
	}
}
