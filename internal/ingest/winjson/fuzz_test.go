package winjson

import (
	"bytes"
	"context"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// fuzzParser checks that p never panics and keeps its counters honest on
// any input: at most one event or skip per line of a JSONL file (streamed
// layouts and an Elasticsearch response may hold several on one line).
func fuzzParser(f *testing.F, p input.Parser, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := ingesttest.Input(data, "fuzz.json", nil)
		p.Detect(in)
		var n int64
		st := &input.Stats{}
		err := p.Parse(context.Background(), in, func(ev *event.Event) error {
			n++
			if ev.Source != event.SourceEVTX || ev.Format != p.Name() || ev.Evidence != "fuzz.json" || ev.Fields == nil {
				t.Fatalf("bad event columns: %+v", ev)
			}
			return nil
		}, st)
		if err != nil {
			return // a read error is allowed; a panic is not
		}
		if st.Records != n {
			t.Fatalf("Records %d, emitted %d", st.Records, n)
		}
		// A lone CR ends a line too (the text reader takes CR-only line
		// ends when the file has no LF), so count both as an upper bound.
		lines := int64(bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1)
		if layout(in.Text) == 'l' && !bytes.Contains(data, []byte(`"hits"`)) && (st.Records > lines || st.Skipped > lines) {
			t.Fatalf("more records/skips than lines: %+v for %d lines", st, lines)
		}
	})
}

const nxlogLine = `{"EventTime":"2020-09-20 12:16:27","Hostname":"DC.corp.local","EventID":4624,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","RecordNumber":1325171,"TargetUserName":"bob","LogonType":"3","IpAddress":"10.0.0.5","@timestamp":"2020-09-20T16:16:29.568Z"}`

func FuzzNXLog(f *testing.F) {
	fuzzParser(f, NXLog{}, nxlogLine+"\n"+nxlogLine+"\n",
		`{"Source":"Raccine","TimeCreated":"2020-10-18 03:38:05.959","Hostname":"W5","Channel":"Application","EventID":2}`+"\r\n",
		"{\"EventID\":1,\n\"Hostname\":\"h\",\"Channel\":\"c\"}\n{\"broken\n"+nxlogLine)
}

func FuzzEvtxJSON(f *testing.F) {
	ev := `{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":4624},"TimeCreated":{"#attributes":{"SystemTime":"2019-02-13T18:03:29.142645Z"}},"EventRecordID":7,"Channel":"Security","Computer":"PC"},"EventData":{"TargetUserName":"bob","Data":{"#text":["a","b"]}}}}`
	fuzzParser(f, EvtxJSON{}, ev+"\n"+ev, "["+ev+",\n"+ev+"]",
		`{"Event":{"System":{"EventID":1},"UserData":{"LogFileCleared":{"#attributes":{"xmlns":"x"},"SubjectUserName":"a"}}}}`)
}

func FuzzWinlogbeat(f *testing.F) {
	fuzzParser(f, Winlogbeat{},
		`{"@timestamp":"2021-01-01T00:00:00.000Z","winlog":{"event_id":"4624","channel":"Security","computer_name":"DC","provider_name":"Microsoft-Windows-Security-Auditing","record_id":5,"event_data":{"TargetUserName":"bob"}}}`,
		`{"_index":"w","_source":{"@timestamp":"2019-05-18T20:36:46.254Z","event_id":3,"log_name":"Microsoft-Windows-Sysmon/Operational","computer_name":"H","event_data":{"Image":"x"}}}`,
		`{"hits":{"hits":[{"_source":{"winlog":{"event_id":1,"user_data":{"xml_name":"X","A":"b"}}}}]}}`)
}

func FuzzVelociraptor(f *testing.F) {
	fuzzParser(f, Velociraptor{},
		`{"System":{"Provider":{"Name":"P"},"EventID":{"Value":4624},"TimeCreated":{"SystemTime":1570000000.1234567},"EventRecordID":1,"Channel":"Security","Computer":"PC"},"EventData":{"Data":["a","b"],"X":1}}`,
		`{"EventTime":"2019-10-02T07:06:40Z","Computer":"PC","Channel":"System","EventID":7045,"EventRecordID":3,"EventData":{"ServiceName":"x"},"UserData":{"R":{"A":"b"}}}`)
}
