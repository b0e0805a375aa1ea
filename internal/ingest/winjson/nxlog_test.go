package winjson

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// TestNXLogEventTimeZone: EventTime is local and zone-less; its offset
// comes from @timestamp per event, so a file that crosses a DST change
// (New York, 3 November 2019, 02:00 EDT → 01:00 EST) is right on both
// sides, with @timestamp's milliseconds kept only when it falls in the
// same second. Without @timestamp, the case's zone for nxlog-json is used
// and noted.
func TestNXLogEventTimeZone(t *testing.T) {
	lines := []string{
		// 01:30 EDT = 05:30Z, received 40 ms later: same second
		`{"EventTime":"2019-11-03 01:30:00","@timestamp":"2019-11-03T05:30:00.040Z","EventID":4624,"Hostname":"h","Channel":"Security"}`,
		// 01:30 EST = 06:30Z, received 2.5 s later: EventTime's second
		`{"EventTime":"2019-11-03 01:30:00","@timestamp":"2019-11-03T06:30:02.500Z","EventID":4624,"Hostname":"h","Channel":"Security"}`,
		// India, +05:30, a minute late
		`{"EventTime":"2019-11-03 12:00:00","@timestamp":"2019-11-03T06:31:00Z","EventID":4624,"Hostname":"h","Channel":"Security"}`,
		// a zone in EventTime wins
		`{"EventTime":"2019-11-03T01:00:00+01:00","@timestamp":"2019-11-03T09:00:00Z","EventID":4624,"Hostname":"h","Channel":"Security"}`,
	}
	in := ingesttest.Input([]byte(strings.Join(lines, "\n")), "nx.json", nil)
	evs, st := ingesttest.ParseAll(t, NXLog{}, in)
	want := []time.Time{
		time.Date(2019, 11, 3, 5, 30, 0, 40e6, time.UTC),
		time.Date(2019, 11, 3, 6, 30, 0, 0, time.UTC),
		time.Date(2019, 11, 3, 6, 30, 0, 0, time.UTC),
		time.Date(2019, 11, 3, 0, 0, 0, 0, time.UTC),
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events", len(evs))
	}
	for i := range want {
		if !evs[i].Time.Equal(want[i]) {
			t.Errorf("event %d: %s, want %s", i, evs[i].Time, want[i])
		}
	}
	if len(st.Notes) != 1 || !strings.Contains(st.Notes[0], "UTC-05:00 (1 events), UTC-04:00 (1 events), UTC+05:30 (1 events)") {
		t.Errorf("notes %q", st.Notes)
	}

	cfg, err := caseconf.Parse("case.yaml", []byte("timezone: Europe/Berlin\nsource_timezones:\n  nxlog-json: America/Chicago\n"))
	if err != nil {
		t.Fatal(err)
	}
	in = ingesttest.Input([]byte(`{"EventTime":"2020-07-01 08:00:00","EventID":1,"Hostname":"h","Channel":"System"}`), "nx.json", cfg)
	evs, st = ingesttest.ParseAll(t, NXLog{}, in)
	if len(evs) != 1 || !evs[0].Time.Equal(time.Date(2020, 7, 1, 13, 0, 0, 0, time.UTC)) || st.TimeZone != "America/Chicago" {
		t.Errorf("zone-less EventTime: %v, zone %q, notes %q", evs, st.TimeZone, st.Notes)
	}
}

// TestSplitAndBrokenLines: an object a collector split over lines is
// joined; a line cut short is skipped with its line number while the good
// line after it is kept; blank lines and non-objects are handled.
func TestSplitAndBrokenLines(t *testing.T) {
	text := `{"EventID":4624,"Hostname":"h","Channel":"Security",
"TargetUserName":"bob",
"@timestamp":"2020-01-01T00:00:00Z"}

{"EventID":4625,"Hostname":"h","Chan
{"EventID":4634,"Hostname":"h","Channel":"Security","@timestamp":"2020-01-01T00:00:01Z"}
not json
{"EventID":4647,"Hostname":"h","Channel":"Security","@timestamp":"2020-01-01T00:00:02Z"}`
	in := ingesttest.Input([]byte(text), "nx.json", nil)
	evs, st := ingesttest.ParseAll(t, NXLog{}, in)
	if len(evs) != 3 || evs[0].Field("TargetUserName") != "bob" || evs[0].Offset != 1 || evs[1].EventID != 4634 || evs[1].Offset != 6 || evs[2].Offset != 8 {
		for _, e := range evs {
			t.Logf("%+v", *e)
		}
		t.Fatal("wrong events")
	}
	if st.Skipped != 2 || st.Reasons["bad JSON"] != 1 || st.Reasons["not a JSON object"] != 1 {
		t.Errorf("stats %+v", st)
	}
	if len(st.Errors) != 2 || !strings.Contains(st.Errors[0], "nx.json:5:") {
		t.Errorf("errors %q", st.Errors)
	}
}

// TestPrettyLayout: pretty-printed objects one after another (evtx_dump's
// default output) are streamed, positions are byte offsets, and a file
// ending inside an object keeps what came before it and says where.
func TestPrettyLayout(t *testing.T) {
	obj := "{\n  \"Event\": {\n    \"System\": {\n      \"EventID\": 4624,\n      \"Channel\": \"Security\"\n    }\n  }\n}\n"
	in := ingesttest.Input([]byte(obj+obj+obj[:20]), "dump.json", nil)
	var n int
	var offs []int64
	st := &input.Stats{}
	err := EvtxJSON{}.Parse(context.Background(), in, func(ev *event.Event) error {
		n++
		offs = append(offs, ev.Offset)
		return nil
	}, st)
	if n != 2 || offs[0] != 0 || offs[1] != int64(len(obj)) {
		t.Errorf("%d events at %v", n, offs)
	}
	if err == nil || !strings.Contains(err.Error(), "dump.json@") || !strings.Contains(err.Error(), "inside a JSON object") {
		t.Errorf("error %v", err)
	}
}

// TestClockSkewNoted: Sysmon events whose stated time is 19 hours off
// their own UtcTime (an export that wrote local time as UTC on a 12-hour
// clock, as in some public datasets) are noted, and their time is kept.
func TestClockSkewNoted(t *testing.T) {
	line := func(stated, utc string) string {
		return `{"SourceName":"Microsoft-Windows-Sysmon","Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"h","EventID":1,"TimeCreated":"` + stated + `","@timestamp":"` + stated + `","UtcTime":"` + utc + `"}`
	}
	text := line("2022-08-18T06:55:57.789Z", "2022-08-19 01:55:57.788") + "\n" +
		line("2022-08-18T06:56:10.000Z", "2022-08-19 01:56:09.998") + "\n" +
		line("2022-08-18T06:57:00.000Z", "2022-08-18 06:56:59.990") + "\n"
	evs, st := ingesttest.ParseAll(t, NXLog{}, ingesttest.Input([]byte(text), "x.json", nil))
	if len(evs) != 3 || !evs[0].Time.Equal(time.Date(2022, 8, 18, 6, 55, 57, 789e6, time.UTC)) {
		t.Fatalf("events %v", evs)
	}
	if len(st.Notes) != 1 || !strings.Contains(st.Notes[0], "in 2 of 3 Sysmon events") || !strings.Contains(st.Notes[0], "by +19:00") {
		t.Errorf("notes %q", st.Notes)
	}
	_, st = ingesttest.ParseAll(t, NXLog{}, ingesttest.Input([]byte(line("2022-08-18T06:57:00.000Z", "2022-08-18 06:56:59.990")), "y.json", nil))
	if len(st.Notes) != 0 {
		t.Errorf("a right clock noted: %q", st.Notes)
	}
}
