package evtx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testdataDir = "../../../testdata/evtx"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDetect(t *testing.T) {
	p := New()
	sec := readTestdata(t, "new-user-security.evtx")
	noHeader := append(bytes.Repeat([]byte{0xEE}, binxml.FileHeaderSize), sec[binxml.FileHeaderSize:]...)
	cases := []struct {
		name string
		head []byte
		want int
	}{
		{"file magic", sec, 100},
		{"damaged header, chunk at 4096", noHeader, 80},
		{"carved chunk at 0", sec[binxml.FileHeaderSize:], 80},
		{"text", []byte("2024-01-01 12:00:00 ALLOW TCP 10.0.0.1 10.0.0.2\n"), 0},
		{"empty", nil, 0},
		{"short", []byte("ElfFil"), 0},
	}
	for _, c := range cases {
		head := c.head
		if len(head) > input.HeadSize {
			head = head[:input.HeadSize]
		}
		if got := p.Detect(&input.Input{Raw: head}); got != c.want {
			t.Errorf("%s: Detect = %d, want %d", c.name, got, c.want)
		}
	}
}

// find returns the first event with the event id, or fails.
func find(t *testing.T, evs []event.Event, id int32) *event.Event {
	t.Helper()
	for i := range evs {
		if evs[i].EventID == id {
			return &evs[i]
		}
	}
	t.Fatalf("no event %d among %d", id, len(evs))
	return nil
}

func TestNewUserSecurity(t *testing.T) {
	evs, st := parseAll(t, New(), "evtx/new-user-security.evtx", readTestdata(t, "new-user-security.evtx"), 2)
	if len(evs) != 4 || st.Records != 4 || st.Skipped != 0 {
		t.Fatalf("got %d events, stats %+v", len(evs), st)
	}
	e := find(t, evs, 4720)
	if e.User != "IEUser" || e.UserDomain != "IE8Win7" || e.Action != "user_created" ||
		e.SubjectUser != `WORKGROUP\WIN-QALA5Q3KJ43$` || e.UserSID != "S-1-5-21-3463664321-2923530833-3546627382-1000" {
		t.Errorf("4720: %+v", e)
	}
	if e.Source != "evtx" || e.Format != "evtx" || e.Channel != "Security" || e.Host != "IE8Win7" ||
		e.Provider != "Microsoft-Windows-Security-Auditing" || e.RecordID != 112 || e.Offset != 112 ||
		e.Evidence != "evtx/new-user-security.evtx" {
		t.Errorf("4720 system columns: %+v", e)
	}
	if want := time.Date(2013, 10, 23, 16, 22, 39, 973500000, time.UTC); !e.Time.Equal(want) {
		t.Errorf("4720 time %v, want %v", e.Time, want)
	}
	if got := e.Field("SubjectLogonId"); got != "0x3e7" {
		t.Errorf("SubjectLogonId = %q, want 0x3e7 (as Windows renders HexInt64)", got)
	}
	if keys := e.FieldDict().Keys(); len(keys) < 3 || keys[0] != "TargetUserName" || keys[1] != "TargetDomainName" || keys[2] != "TargetSid" {
		t.Errorf("field order: %v", keys)
	}
	groups := map[string]bool{}
	for i := range evs {
		g := &evs[i]
		if g.EventID != 4732 {
			continue
		}
		groups[g.Field("TargetUserName")] = true
		// MemberName is "-" for a local account: User falls back to the SID.
		if g.Action != "group_member_added" || g.User != e.UserSID || g.UserSID != e.UserSID {
			t.Errorf("4732: action %q user %q sid %q", g.Action, g.User, g.UserSID)
		}
	}
	if !groups["Administrators"] || !groups["Users"] {
		t.Errorf("4732 groups: %v", groups)
	}
	if st.First.IsZero() || st.Last.Before(st.First) {
		t.Errorf("time range %v..%v", st.First, st.Last)
	}
}

func TestSystemLogMapping(t *testing.T) {
	evs, _ := parseAll(t, New(), "sys.evtx", readTestdata(t, "metasploit-psexec-native-target-system.evtx"), 1)
	s := find(t, evs, 7045)
	if s.Action != "service_installed" || s.Process == "" || s.User == "" || s.Field("ServiceName") == "" {
		t.Errorf("7045: action %q process %q user %q fields %v", s.Action, s.Process, s.User, s.RawFields)
	}
	c := find(t, evs, 104)
	if c.Action != "log_cleared" || c.SubjectUser == "" || c.Field("Channel") == "" {
		t.Errorf("104 (UserData LogFileCleared): action %q subject %q fields %v", c.Action, c.SubjectUser, c.RawFields)
	}
}

func TestSysmonMapping(t *testing.T) {
	evs, _ := parseAll(t, New(), "sysmon.evtx", readTestdata(t, "sliver-sysmon.evtx"), 2)
	p := find(t, evs, 1)
	if p.Process == "" || p.CommandLine == "" || p.ParentProcess == "" || p.User == "" || p.Action != "process_created" {
		t.Errorf("sysmon 1: %+v", p)
	}
	if p.Process != p.Field("Image") || p.CommandLine != p.Field("CommandLine") {
		t.Errorf("sysmon 1 columns do not match fields")
	}
	d := find(t, evs, 22)
	if d.Action != "dns_query" || d.Process == "" || d.Field("QueryName") == "" {
		t.Errorf("sysmon 22: %+v", d)
	}
}

// TestDamagedFile: a record whose tail was zeroed and garbage after it;
// every record evtxexport reads (5) is there and the rest is counted.
func TestDamagedFile(t *testing.T) {
	evs, st := parseAll(t, New(), "hello.evtx", readTestdata(t, "HelloForBusiness-Operational-damaged.evtx"), 2)
	if len(evs) < 5 {
		t.Errorf("%d events, want at least 5", len(evs))
	}
	if st.Skipped == 0 || len(st.Errors) == 0 {
		t.Errorf("the garbage after the damaged record is not reported: %+v", st)
	}
	for _, e := range st.Errors {
		if !strings.Contains(e, "hello.evtx@") {
			t.Errorf("error without file and offset: %q", e)
		}
	}
}

// TestHeaderVariants: the same chunk parsed behind a good header, behind
// a destroyed header, and alone (carved) gives the same events.
func TestHeaderVariants(t *testing.T) {
	data := readTestdata(t, "new-user-security.evtx")
	want, _ := parseAll(t, New(), "x", data, 1)
	broken := append(bytes.Repeat([]byte{0xEE}, binxml.FileHeaderSize), data[binxml.FileHeaderSize:]...)
	got, st := parseAll(t, New(), "x", broken, 1)
	if !sameEvents(want, got) {
		t.Errorf("destroyed header: %d events, want %d", len(got), len(want))
	}
	if len(st.Notes) == 0 {
		t.Errorf("destroyed header not noted")
	}
	carved, _ := parseAll(t, New(), "x", data[binxml.FileHeaderSize:], 1)
	if !sameEvents(want, carved) {
		t.Errorf("carved chunk: %d events, want %d", len(carved), len(want))
	}
}

// TestTruncated cuts a file at many places: never a panic or an error,
// and never more events than the whole file has.
func TestTruncated(t *testing.T) {
	data := readTestdata(t, "sliver-sysmon.evtx")
	all, _ := parseAll(t, New(), "x", data, 1)
	for cut := 0; cut < len(data); cut += 997 {
		evs, _ := parseAll(t, New(), "x", data[:cut], 2)
		if len(evs) > len(all) {
			t.Fatalf("cut at %d: %d events > %d", cut, len(evs), len(all))
		}
	}
}

// TestCorruptedBytes overwrites bytes inside records: the parser goes on
// and what it cannot read is counted, never silently dropped.
func TestCorruptedBytes(t *testing.T) {
	data := bytes.Clone(readTestdata(t, "new-user-security.evtx"))
	all, _ := parseAll(t, New(), "x", data, 1)
	// Destroy the second record's header magic.
	c := data[binxml.FileHeaderSize:]
	off := binxml.ChunkHeaderSize
	size := int(c[off+4]) | int(c[off+5])<<8
	copy(c[off+size:], "XXXX")
	evs, st := parseAll(t, New(), "x", data, 1)
	if len(evs) != len(all)-1 || st.Skipped != 1 || st.Reasons[binxml.ReasonRecordHeader] != 1 {
		t.Errorf("got %d events (of %d), skipped %d %v", len(evs), len(all), st.Skipped, st.Reasons)
	}
}

func TestWorkersDeterministic(t *testing.T) {
	files := []string{filepath.Join(testdataDir, "sliver-sysmon.evtx")}
	if s, err := filepath.Glob(filepath.Join(samplesDir(t), "*", "*.evtx")); err == nil && !testing.Short() {
		files = append(files, s...)
	}
	for _, fn := range files {
		data, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		one, _ := parseAll(t, New(), fn, data, 1)
		four, _ := parseAll(t, New(), fn, data, 4)
		if !sameEvents(one, four) {
			t.Errorf("%s: 1 worker and 4 workers differ", fn)
		}
	}
}

func sameEvents(a, b []event.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(goldenLine(&a[i]), goldenLine(&b[i])) {
			return false
		}
	}
	return true
}

func TestEmitErrorStops(t *testing.T) {
	data := readTestdata(t, "sliver-sysmon.evtx")
	boom := errors.New("disk full")
	n := 0
	err := New().Parse(context.Background(), memInput("x", data, 2), func(*event.Event) error {
		n++
		if n == 3 {
			return boom
		}
		return nil
	}, &input.Stats{})
	if !errors.Is(err, boom) || n != 3 {
		t.Errorf("err %v after %d events", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = New().Parse(ctx, memInput("x", data, 2), func(*event.Event) error { return nil }, &input.Stats{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err %v", err)
	}
}

func TestOpenError(t *testing.T) {
	in := memInput("gone.evtx", nil, 1)
	in.Open = func() (_ io.ReadCloser, err error) { return nil, os.ErrNotExist }
	err := New().Parse(context.Background(), in, func(*event.Event) error { return nil }, &input.Stats{})
	var pe *input.ParseError
	if !errors.As(err, &pe) || pe.File != "gone.evtx" {
		t.Errorf("err %v", err)
	}
}

// goldenLine renders an event as the goldens hold it (every column).
func goldenLine(e *event.Event) []byte { return event.ColumnsJSON(event.Columns, e) }

// TestGolden compares the events of every testdata file with its reviewed
// golden JSONL (regenerate with -update and review the diff).
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testdataDir, "*.evtx"))
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, fn := range files {
		name := filepath.Base(fn)
		evs, st := parseAll(t, New(), "evtx/"+name, readTestdata(t, name), 2)
		var buf bytes.Buffer
		for i := range evs {
			buf.Write(goldenLine(&evs[i]))
			buf.WriteByte('\n')
		}
		sb, _ := json.Marshal(struct {
			Records, Skipped int64
			Reasons          map[string]int64
		}{st.Records, st.Skipped, st.Reasons})
		buf.Write(sb)
		buf.WriteByte('\n')
		golden := filepath.Join(testdataDir, "golden", strings.TrimSuffix(name, ".evtx")+".jsonl")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if !bytes.Equal(want, buf.Bytes()) {
			gl, wl := strings.Split(buf.String(), "\n"), strings.Split(string(want), "\n")
			for i := 0; i < len(gl) && i < len(wl); i++ {
				if gl[i] != wl[i] {
					t.Errorf("%s line %d:\n got  %s\n want %s", name, i+1, gl[i], wl[i])
					break
				}
			}
			if len(gl) != len(wl) {
				t.Errorf("%s: %d lines, golden has %d", name, len(gl), len(wl))
			}
		}
	}
}

// TestReaders: short reads give the same events; a read error mid-file
// is returned with the file and offset, after the events before it.
func TestReaders(t *testing.T) {
	data := readTestdata(t, "sliver-sysmon.evtx")
	want, _ := parseAll(t, New(), "x", data, 2)
	in := memInput("x", data, 2)
	in.Open = func() (io.ReadCloser, error) { return io.NopCloser(iotest.OneByteReader(bytes.NewReader(data))), nil }
	var got []event.Event
	err := New().Parse(context.Background(), in, func(ev *event.Event) error { got = append(got, *ev); return nil }, &input.Stats{})
	if err != nil || !sameEvents(want, got) {
		t.Errorf("one-byte reads: err %v, %d events, want %d", err, len(got), len(want))
	}
	boom := errors.New("device error")
	two := append(bytes.Clone(data), data[binxml.FileHeaderSize:]...) // two chunks
	in.Open = func() (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(bytes.NewReader(two[:binxml.FileHeaderSize+binxml.ChunkSize+100]), iotest.ErrReader(boom))), nil
	}
	got = got[:0]
	err = New().Parse(context.Background(), in, func(ev *event.Event) error { got = append(got, *ev); return nil }, &input.Stats{})
	var pe *input.ParseError
	if !errors.Is(err, boom) || !errors.As(err, &pe) || pe.File != "x" || pe.Offset <= 0 {
		t.Errorf("read error: %v", err)
	}
	if len(got) != len(want) {
		t.Errorf("events before the read error: %d, want %d (the whole first chunk)", len(got), len(want))
	}
}
