package winjson

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/textio"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// The whole OTRF corpus is 1.6 GB of JSON: too slow for every run.
var otrfAll = flag.Bool("otrf", false, "ingest all 122 OTRF recordings (../shared/samples/json/otrf), not a handful")

// otrfHandful are small recordings covering the corpus's shapes: NXLog
// through Logstash (EventTime + @timestamp), NXLog with TimeCreated and
// @timestamp, zone-less TimeCreated only, the Raccine "Source" export, and
// winlogbeat 6 in a tar.gz.
var otrfHandful = []string{
	"lateral_movement/host/covenant_sc_query_dcerpc_smb_svcctl.zip",
	"lateral_movement/host/schtask_create.zip",
	"credential_access/host/cmd_psexec_lsa_secrets_dump.zip",
	"other/raccine_samples.zip",
	"persistence/host/covenant_persistwmi.tar.gz",
	"privilege_escalation/host/empire_invoke_runas.tar.gz",
}

// entry is one file inside a recording's archive.
type entry struct {
	name string
	data []byte
	err  error // set when the archive ended early (data then holds what was read)
}

// archiveEntries reads a recording's archive (zip or tar.gz) with the
// standard library, independently of the ingest walker.
func archiveEntries(t testing.TB, p string) []entry {
	t.Helper()
	var out []entry
	if strings.HasSuffix(p, ".zip") {
		zr, err := zip.OpenReader(p)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			if f.FileInfo().IsDir() {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			out = append(out, entry{name: f.Name, data: b, err: err})
		}
		return out
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		out = append(out, entry{name: h.Name, data: b, err: err})
	}
	return out
}

func memInput(name string, data []byte) *input.Input {
	head := data[:min(len(data), input.HeadSize)]
	return &input.Input{
		Path: name, Size: int64(len(data)), Raw: head, Text: textio.Decode(head), Workers: 1,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
}

// detectOne asks every parser of the package, as the driver does.
func detectOne(in *input.Input) (input.Parser, int) {
	var best input.Parser
	score := 0
	for _, p := range Parsers() {
		if s := p.Detect(in); s > score {
			best, score = p, s
		}
	}
	return best, score
}

// jsonLines returns the non-blank lines of data, each decoded with
// encoding/json into a plain map: the oracle the ingester is checked on.
func jsonLines(t *testing.T, name string, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%s:%d: the oracle cannot read the line: %v", name, n, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func otrfRecordings(t *testing.T) (string, []string) {
	root := testutil.Shared(t, "samples", "json", "otrf")
	var recs []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".zip") || strings.HasSuffix(p, ".tar.gz")) {
			rel, _ := filepath.Rel(root, p)
			recs = append(recs, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return root, recs
}

// TestOTRFOneRowPerLine: every JSON line of a recording becomes one event,
// nothing is skipped, and each event says what its line says (checked
// field by field against encoding/json's reading of the line). Without
// -otrf it checks a handful of recordings; with it, all 122.
func TestOTRFOneRowPerLine(t *testing.T) {
	root, all := otrfRecordings(t)
	if len(all) != 122 {
		t.Errorf("%d recordings under %s, want 122", len(all), root)
	}
	recs := otrfHandful
	if *otrfAll {
		recs = all
	}
	total := 0
	for _, rel := range recs {
		for _, e := range archiveEntries(t, filepath.Join(root, rel)) {
			name := rel + "/" + e.name
			if strings.HasPrefix(e.name, "__MACOSX/") {
				// macOS resource forks: not JSON, and no parser claims them.
				if p, _ := detectOne(memInput(name, e.data)); p != nil {
					t.Errorf("%s: detected as %s", name, p.Name())
				}
				continue
			}
			lines := jsonLines(t, name, e.data)
			evs, st, err := parseAll(memInput(name, e.data))
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if st.Skipped != 0 || len(evs) != len(lines) {
				t.Errorf("%s: %d events, %d skipped (%s) for %d JSON lines", name, len(evs), st.Skipped, st.ReasonList(), len(lines))
				continue
			}
			for i := range evs {
				checkAgainstJSON(t, fmt.Sprintf("%s:%d", name, evs[i].Offset), &evs[i], lines[i])
			}
			total += len(evs)
		}
	}
	t.Logf("%d recordings, %d events", len(recs), total)
}

// parseAll detects and parses one file, keeping every event.
func parseAll(in *input.Input) ([]event.Event, *input.Stats, error) {
	st := &input.Stats{}
	p, _ := detectOne(in)
	if p == nil {
		return nil, st, fmt.Errorf("no parser detects it")
	}
	var evs []event.Event
	err := p.Parse(context.Background(), in, func(ev *event.Event) error {
		c := *ev
		c.Fields = ev.Fields.Copy()
		evs = append(evs, c)
		return nil
	}, st)
	return evs, st, err
}

// checkAgainstJSON compares one event with its JSON line, whichever of
// the corpus's two shapes (NXLog flat, winlogbeat 6) it has.
func checkAgainstJSON(t *testing.T, where string, ev *event.Event, m map[string]any) {
	t.Helper()
	s := func(k string) string {
		v := m[k]
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	}
	var want struct {
		id, channel, host, provider, record string
		data                                map[string]any
	}
	if _, ok := m["@metadata"]; ok { // winlogbeat 6
		want.id, want.channel, want.host, want.provider, want.record = s("event_id"), s("log_name"), s("computer_name"), s("source_name"), s("record_number")
		want.data = map[string]any{}
		for _, sec := range []string{"event_data", "user_data"} {
			d, _ := m[sec].(map[string]any)
			for k, v := range d {
				if k != "xml_name" {
					want.data[k] = v
				}
			}
		}
	} else {
		want.id, want.channel, want.host = s("EventID"), s("Channel"), s("Hostname")
		want.provider, want.record = s("SourceName"), s("RecordNumber")
		if want.provider == "" {
			want.provider = s("Source")
		}
		want.data = map[string]any{}
		for k, v := range m {
			if !nxlogSystem[k] && !(m["AccountType"] != nil && nxlogResolved[k]) && !(k == "Source" && m["SourceName"] == nil) {
				want.data[k] = v
			}
		}
	}
	got := fmt.Sprint(ev.EventID)
	if got != want.id || ev.Channel != want.channel || ev.Host != want.host || ev.Provider != want.provider {
		t.Errorf("%s: got id=%s channel=%q host=%q provider=%q, JSON says %s %q %q %q", where, got, ev.Channel, ev.Host, ev.Provider, want.id, want.channel, want.host, want.provider)
	}
	if want.record != "" && fmt.Sprint(ev.RecordID) != want.record {
		t.Errorf("%s: record id %d, JSON says %s", where, ev.RecordID, want.record)
	}
	if ev.Time.IsZero() {
		t.Errorf("%s: no time", where)
	}
	if ts, ok := m["@timestamp"].(string); ok {
		// @timestamp is UTC (Logstash's or the beat's): the event time must
		// be near it whatever zone EventTime was written in.
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err == nil && (ev.Time.Sub(at) > time.Minute || at.Sub(ev.Time) > 10*time.Minute) {
			t.Errorf("%s: time %s far from @timestamp %s", where, ev.Time, ts)
		}
	}
	if len(want.data) != ev.Fields.Len() {
		t.Errorf("%s: %d fields, JSON has %d event-data keys: %v", where, ev.Fields.Len(), len(want.data), ev.Fields.Keys())
	}
	for k, v := range want.data {
		gv := ev.Field(k)
		if !ev.HasField(k) {
			t.Errorf("%s: field %s missing", where, k)
			continue
		}
		switch x := v.(type) {
		case string, json.Number, bool:
			if gv != fmt.Sprint(x) {
				t.Errorf("%s: field %s = %q, JSON says %q", where, k, gv, fmt.Sprint(x))
			}
		}
	}
}
