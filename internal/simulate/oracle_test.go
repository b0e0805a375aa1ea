package simulate

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// oracleRecord is what all three parsers must agree on.
type oracleRecord struct {
	id     int64
	event  int64
	second string // UTC, to the second: "2026-10-17 17:33:23"
	values []string
}

func norm(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// TestThreeParsersAgree compares golang-evtx, libevtx's evtxexport and
// python-evtx's evtx_dump.py record by record on a generated scenario
// (where those tools are installed; .ci/run installs them).
func TestThreeParsersAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("runs external parsers")
	}
	evtxexport, err1 := exec.LookPath("evtxexport")
	dump, err2 := exec.LookPath("evtx_dump.py")
	if err1 != nil || err2 != nil {
		t.Skip("evtxexport or evtx_dump.py not installed")
	}
	dir, sum := small(t, "comtech-persistence", 3)
	var files []string
	for rel, n := range sum.Counts {
		if strings.HasSuffix(rel, ".evtx") && n > 0 && (strings.Contains(rel, "/DC01/") || strings.Contains(rel, "/PC-001/")) {
			files = append(files, rel)
		}
	}
	slices.Sort(files)
	if len(files) < 10 {
		t.Fatalf("only %d files to compare", len(files))
	}
	for _, rel := range files {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		var want []oracleRecord
		for id, e := range parseEvtx(t, path) {
			r := oracleRecord{id: id, event: e.EventID(), second: e.TimeCreated().UTC().Format("2006-01-02 15:04:05")}
			want = append(want, r)
		}
		slices.SortFunc(want, func(a, b oracleRecord) int { return int(a.id - b.id) })
		py := pythonRecords(t, dump, path)
		lib := libevtxRecords(t, evtxexport, path)
		if len(py) != len(want) || len(lib) != len(want) {
			t.Errorf("%s: golang-evtx %d, evtx_dump.py %d, evtxexport %d records", rel, len(want), len(py), len(lib))
			continue
		}
		gold := parseEvtx(t, path)
		for i, w := range want {
			p, l := py[i], lib[i]
			if p.id != w.id || p.event != w.event || p.second != w.second {
				t.Errorf("%s: record %d: golang-evtx %d at %s, python-evtx #%d %d at %s", rel, w.id, w.event, w.second, p.id, p.event, p.second)
			}
			if l.event != w.event || l.second != w.second {
				t.Errorf("%s: record %d: golang-evtx %d at %s, evtxexport %d at %s", rel, w.id, w.event, w.second, l.event, l.second)
			}
			// EventData values, in order, as python-evtx reads them must
			// match golang-evtx's field by field.
			e := gold[w.id]
			for j, v := range p.values {
				if !strings.Contains(rel, "Windows PowerShell") && len(p.names) > j && p.names[j] != "" {
					if got := norm(str(e, "/Event/EventData/"+p.names[j])); got != norm(v) {
						t.Errorf("%s: record %d field %s: golang-evtx %q, python-evtx %q", rel, w.id, p.names[j], got, v)
					}
				}
			}
			if len(l.values) != len(p.values) {
				t.Errorf("%s: record %d: evtxexport %d strings, python-evtx %d data items", rel, w.id, len(l.values), len(p.values))
			}
		}
	}
}

type pyRecord struct {
	oracleRecord
	names []string
}

func pythonRecords(t *testing.T, tool, path string) []pyRecord {
	t.Helper()
	out, err := exec.Command(tool, path).Output()
	if err != nil {
		t.Fatalf("evtx_dump.py %s: %v", path, err)
	}
	if i := bytes.Index(out, []byte("?>")); i >= 0 {
		out = out[i+2:] // encoding/xml only reads XML 1.0 declarations
	}
	type data struct {
		Name  string `xml:"Name,attr"`
		Value string `xml:",chardata"`
	}
	var doc struct {
		Events []struct {
			EventID  int64 `xml:"System>EventID"`
			RecordID int64 `xml:"System>EventRecordID"`
			Time     struct {
				SystemTime string `xml:"SystemTime,attr"`
			} `xml:"System>TimeCreated"`
			Data     []data `xml:"EventData>Data"`
			UserData struct {
				Inner struct {
					Items []data `xml:",any"`
				} `xml:",any"`
			} `xml:"UserData"`
		} `xml:"Event"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("evtx_dump.py %s: XML: %v", path, err)
	}
	var recs []pyRecord
	for _, e := range doc.Events {
		r := pyRecord{oracleRecord: oracleRecord{id: e.RecordID, event: e.EventID, second: e.Time.SystemTime}}
		if len(r.second) > 19 {
			r.second = r.second[:19]
		}
		items := e.Data
		if len(items) == 0 {
			items = e.UserData.Inner.Items
		}
		for _, d := range items {
			r.names = append(r.names, d.Name)
			r.values = append(r.values, d.Value)
		}
		recs = append(recs, r)
	}
	return recs
}

var (
	reNumber = regexp.MustCompile(`^Event number\s+: (\d+)$`)
	reTime   = regexp.MustCompile(`^Written time\s+: (.*) UTC$`)
	reID     = regexp.MustCompile(`^Event identifier\s+: 0x[0-9a-f]+ \((\d+)\)$`)
	reString = regexp.MustCompile(`^String: \d+\s+: ?(.*)$`)
)

func libevtxRecords(t *testing.T, tool, path string) []oracleRecord {
	t.Helper()
	out, err := exec.Command(tool, path).Output()
	if err != nil {
		t.Fatalf("evtxexport %s: %v", path, err)
	}
	var recs []oracleRecord
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if m := reNumber.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			recs = append(recs, oracleRecord{id: n})
			continue
		}
		if len(recs) == 0 {
			continue
		}
		r := &recs[len(recs)-1]
		if m := reTime.FindStringSubmatch(line); m != nil {
			if tm, err := parseLibevtxTime(m[1]); err == nil {
				r.second = tm
			}
		} else if m := reID.FindStringSubmatch(line); m != nil {
			r.event, _ = strconv.ParseInt(m[1], 10, 64)
		} else if m := reString.FindStringSubmatch(line); m != nil {
			r.values = append(r.values, m[1])
		}
	}
	return recs
}

// parseLibevtxTime turns "Oct 17, 2026 17:33:23.000000000" into
// "2026-10-17 17:33:23".
func parseLibevtxTime(s string) (string, error) {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	tm, err := time.Parse("Jan 2, 2006 15:04:05", s)
	if err != nil {
		return "", err
	}
	return tm.Format("2006-01-02 15:04:05"), nil
}
