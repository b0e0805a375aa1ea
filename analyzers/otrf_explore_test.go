package analyzers_test

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/spoor-dfir/spoor/analyzers"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// TestOTRFExploration runs every analyzer over OTRF's real attack
// recordings (NXLog JSON lines, ../shared/samples/json/otrf) through a
// tiny test-only reader, and logs per recording what is flagged at
// medium or above. It is exploration, not acceptance: set SPOOR_OTRF=1
// (or =lateral_movement, a folder) to run it. Its one assertion is a
// floor measured when it was written — at least half the
// lateral-movement recordings flagged at medium or above — so a change
// that blinds the analyzers to real tradecraft fails it. The NXLog
// ingester proper lives in internal/ingest.
func TestOTRFExploration(t *testing.T) {
	sel := os.Getenv("SPOOR_OTRF")
	if sel == "" {
		t.Skip("exploration over 54 MB of real recordings: set SPOOR_OTRF=1")
	}
	root := testutil.Shared(t, "samples", "json", "otrf")
	dirs := []string{"lateral_movement", "persistence", "execution", "defense_evasion", "credential_access", "discovery", "collection", "other"}
	if sel != "1" {
		dirs = []string{sel}
	}
	cfg := caseconf.Default()
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(root, d, "host", "*"))
		sort.Strings(files)
		flagged := 0
		for _, path := range files {
			evs, err := readOTRF(path)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			var hits []string
			for _, a := range analyzers.All(cfg) {
				for _, ev := range evs {
					a.Observe(ev)
				}
				for _, f := range a.Finish() {
					if event.Rank(f.Severity) >= event.Rank(event.SevMedium) {
						hits = append(hits, fmt.Sprintf("%s %s: %.160s", f.Severity, f.RuleID, f.Summary))
					}
				}
			}
			if len(hits) > 0 {
				flagged++
			}
			t.Logf("%s/%s: %d events, %d findings ≥ medium", d, filepath.Base(path), len(evs), len(hits))
			for i, h := range hits {
				if i == 6 {
					t.Logf("    …")
					break
				}
				t.Logf("    %s", h)
			}
		}
		t.Logf("== %s: %d of %d recordings flagged at medium or above", d, flagged, len(files))
		if d == "lateral_movement" && len(files) > 0 && 2*flagged < len(files) {
			t.Errorf("lateral movement: %d of %d recordings flagged, floor is half", flagged, len(files))
		}
	}
}

// readOTRF reads one recording (a zip or tar.gz of JSON lines) into
// events, in time order.
func readOTRF(path string) ([]*event.Event, error) {
	var out []*event.Event
	add := func(r io.Reader) error {
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			if ev := otrfEvent(m); ev != nil {
				ev.Evidence, ev.Offset = filepath.Base(path), int64(len(out)+1)
				out = append(out, ev)
			}
		}
		return sc.Err()
	}
	if strings.HasSuffix(path, ".zip") {
		z, err := zip.OpenReader(path)
		if err != nil {
			return nil, err
		}
		defer z.Close()
		for _, f := range z.File {
			if !strings.HasSuffix(f.Name, ".json") {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			err = add(rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
		}
	} else if strings.HasSuffix(path, ".tar.gz") {
		fh, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		gz, err := gzip.NewReader(fh)
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			if strings.HasSuffix(h.Name, ".json") {
				if err := add(tr); err != nil {
					return nil, err
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// otrfEvent maps one NXLog record: the EventData fields are flattened
// beside NXLog's own, which are dropped.
func otrfEvent(m map[string]any) *event.Event {
	ts, _ := m["@timestamp"].(string)
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		// Some recordings carry only TimeCreated, in UTC.
		tc, _ := m["TimeCreated"].(string)
		if t, err = time.Parse("2006-01-02 15:04:05.999", tc); err != nil {
			return nil
		}
	}
	id := num(m["EventID"])
	host, _ := m["Hostname"].(string)
	ch, _ := m["Channel"].(string)
	prov, _ := m["SourceName"].(string)
	ev := &event.Event{Time: t.UTC(), Source: event.SourceEVTX, Format: "nxlog-json", Host: host, Channel: ch, Provider: prov, EventID: int32(id)}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	d := ordereddict.NewDict()
	for _, k := range keys {
		switch k {
		case "@timestamp", "@version", "EventTime", "EventReceivedTime", "Hostname", "host", "port", "Keywords", "SeverityValue", "Severity", "SourceModuleType", "SourceModuleName", "Message", "EventType", "EventID", "Channel", "SourceName", "tags", "EventTypeOrignal", "Opcode", "OpcodeValue", "Task", "Category", "ProviderGuid", "ThreadID", "ExecutionProcessID", "Version", "RecordNumber", "AccountType", "Domain", "AccountName", "UserID", "TimeCreated":
			if k == "EventType" && m["SourceName"] == "Microsoft-Windows-Sysmon" {
				break // Sysmon's own EventType (SetValue) clashes with NXLog's
			}
			continue
		}
		switch v := m[k].(type) {
		case string:
			d.Set(k, v)
		case float64:
			d.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
		case bool:
			d.Set(k, strconv.FormatBool(v))
		}
	}
	ev.Fields = d
	ev.RecordID = int64(num(m["RecordNumber"]))
	ev.Message, _ = m["Message"].(string)
	if lt, ok := d.GetString("LogonType"); ok {
		n, _ := strconv.Atoi(lt)
		ev.LogonType = event.Some(int32(n))
	}
	return ev
}

// num reads a number NXLog wrote as a number or as a string.
func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}
