package store

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/parquet-go/parquet-go"

	"github.com/spoor-dfir/spoor/internal/event"
)

// randomEvent fills every column, some empty, some long enough to spread a
// column over several pages.
func randomEvent(r *rand.Rand, i int) *event.Event {
	s := func(prefix string, n int) string {
		if r.Intn(4) == 0 {
			return ""
		}
		return fmt.Sprintf("%s%d", prefix, r.Intn(n))
	}
	f := ordereddict.NewDict().Set("TargetUserName", s("u", 50)).Set("Path", `C:\Windows\`+s("p", 1000)).Set("Pad", strings.Repeat("x", r.Intn(400)))
	return &event.Event{
		Time: time.Date(2026, 11, 14, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second), Source: event.SourceEVTX,
		Format: s("f", 3), Host: s("H", 9), Channel: s("C", 5), Provider: s("P", 5), EventID: int32(r.Intn(5000)), RecordID: int64(i),
		User: s("user", 40), UserDomain: s("D", 3), UserSID: s("S-1-5-", 40), SubjectUser: s("sub", 40), LogonType: int32(r.Intn(12)),
		LogonID: s("0x", 1e6), SrcIP: s("10.0.0.", 255), SrcPort: int32(r.Intn(65536)), DstIP: s("8.8.8.", 255), DstPort: int32(r.Intn(65536)),
		Protocol: s("tcp", 2), Action: s("allow", 2), BytesOut: r.Int63n(1e9), BytesIn: r.Int63n(1e9), Process: s("proc", 30),
		ParentProcess: s("parent", 30), CommandLine: s("cmd /c ", 1e6) + strings.Repeat("y", r.Intn(300)), ScriptText: s("Get-", 100),
		SessionID: s("sess", 1e5), Operator: s("op", 4), Message: s("msg ", 1e5), Evidence: s("e/", 3), Offset: int64(i * 3), Fields: f,
	}
}

// referenceRows reads every row of the store's part files with the
// generic row reader (the slow, obviously correct way).
func referenceRows(t *testing.T, dir string) []eventRow {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "events", "source=*", "*.parquet"))
	var out []eventRow
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		r := parquet.NewGenericReader[eventRow](fh)
		buf := make([]eventRow, 512)
		for {
			n, err := r.Read(buf)
			out = append(out, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		fh.Close()
	}
	return out
}

func rowOf(t *testing.T, ev *event.Event) eventRow {
	t.Helper()
	var r eventRow
	if ev.Fields == nil && ev.RawFields != "" {
		d, err := event.UnmarshalFieldsString(ev.RawFields)
		if err != nil {
			t.Fatal(err)
		}
		ev.Fields = d
	}
	if err := toRow(ev, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestScanSelectMatchesRowReader holds the column-wise scan to parquet-go's
// row reader, column by column, over several row groups and pages, with
// every row and with a sparse selection of rows and columns.
func TestScanSelectMatchesRowReader(t *testing.T) {
	old := rowsPerGroup
	rowsPerGroup = 3000
	defer func() { rowsPerGroup = old }()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	w := s.NewEventWriter("part-x")
	const n = 10000
	for i := 0; i < n; i++ {
		if err := w.Write(randomEvent(r, i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	ref := referenceRows(t, dir)
	if len(ref) != n {
		t.Fatalf("reference has %d rows", len(ref))
	}
	pages := 0
	forEachChunk(t, dir, func(c parquet.ColumnChunk) {
		if oi, err := c.OffsetIndex(); err == nil && oi != nil {
			pages = max(pages, oi.NumPages())
		}
	})
	if pages < 3 {
		t.Fatalf("the test data has at most %d pages per chunk; it should span several", pages)
	}

	// Every row, every column.
	i := 0
	err = s.Scan(context.Background(), ScanOptions{}, func(ev *event.Event) error {
		if got := rowOf(t, ev); got != ref[i] {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, got, ref[i])
		}
		i++
		return nil
	})
	if err != nil || i != n {
		t.Fatalf("full scan: %d rows, %v", i, err)
	}

	// A sparse selection: rows by event id, a different column set each,
	// raw fields; the rest of each row must stay empty.
	// Dense (every page read) and sparse (most pages skipped by seeks:
	// the sparse scan must read fewer pages, not just give the same rows).
	dense := checkSelection(t, s, ref, 7)
	sparse := checkSelection(t, s, ref, 997)
	if sparse.Pages == 0 || sparse.Pages >= dense.Pages {
		t.Fatalf("pages read: sparse selection %d, dense %d: pages were not skipped", sparse.Pages, dense.Pages)
	}
	t.Logf("pages read: dense %d, sparse %d", dense.Pages, sparse.Pages)
}

func checkSelection(t *testing.T, s *Store, ref []eventRow, mod int32) ScanStats {
	sets := []ColSet{1 << ColUser, 1<<ColCommandLine | 1<<ColFields, 1<<ColMessage | 1<<ColSrcIP, 0}
	st, err := s.ScanSelect(context.Background(), ScanOptions{}, func(k *RowKey) Want {
		if k.EventID%mod != 0 || k.Empty(ColCommandLine) && k.EventID%2 == 0 {
			return Want{}
		}
		return Want{Cols: sets[k.EventID%4] | 1<<ColChannel}
	}, func(ev *event.Event) error {
		want := ref[ev.Offset/3]
		if ev.EventID%mod != 0 || (want.CommandLine == "" && ev.EventID%2 == 0) {
			t.Fatalf("row %d selected against the selector", ev.Offset/3)
		}
		cols := sets[ev.EventID%4] | 1<<ColChannel | refColumns
		got := rowOf(t, ev)
		mask := maskRow(want, cols)
		if ev.RawFields == "" && cols.Has(ColFields) {
			t.Fatalf("row %d: raw fields missing", ev.Offset/3)
		}
		if !cols.Has(ColFields) {
			got.Fields, mask.Fields = "", ""
		}
		if got != mask {
			t.Fatalf("row %d:\n got %+v\nwant %+v", ev.Offset/3, got, mask)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sel := 0
	for _, row := range ref {
		if row.EventID%mod == 0 && !(row.CommandLine == "" && row.EventID%2 == 0) {
			sel++
		}
	}
	if st.Rows != int64(len(ref)) || st.Selected != int64(sel) || sel == 0 {
		t.Fatalf("stats %+v, want %d rows, %d selected", st, len(ref), sel)
	}
	return st
}

// maskRow keeps only the columns in cols (as a scan fills them).
func maskRow(r eventRow, cols ColSet) eventRow {
	var out eventRow
	if cols.Has(ColTime) {
		out.Time = r.Time
	}
	pick := func(c Column, dst *string, v string) {
		if cols.Has(c) {
			*dst = v
		}
	}
	pick(ColFormat, &out.Format, r.Format)
	pick(ColHost, &out.Host, r.Host)
	pick(ColChannel, &out.Channel, r.Channel)
	pick(ColProvider, &out.Provider, r.Provider)
	pick(ColUser, &out.User, r.User)
	pick(ColUserDomain, &out.UserDomain, r.UserDomain)
	pick(ColUserSID, &out.UserSID, r.UserSID)
	pick(ColSubjectUser, &out.SubjectUser, r.SubjectUser)
	pick(ColLogonID, &out.LogonID, r.LogonID)
	pick(ColSrcIP, &out.SrcIP, r.SrcIP)
	pick(ColDstIP, &out.DstIP, r.DstIP)
	pick(ColProtocol, &out.Protocol, r.Protocol)
	pick(ColAction, &out.Action, r.Action)
	pick(ColProcess, &out.Process, r.Process)
	pick(ColParentProcess, &out.ParentProcess, r.ParentProcess)
	pick(ColCommandLine, &out.CommandLine, r.CommandLine)
	pick(ColScriptText, &out.ScriptText, r.ScriptText)
	pick(ColSessionID, &out.SessionID, r.SessionID)
	pick(ColOperator, &out.Operator, r.Operator)
	pick(ColMessage, &out.Message, r.Message)
	pick(ColEvidence, &out.Evidence, r.Evidence)
	pick(ColFields, &out.Fields, r.Fields)
	if !cols.Has(ColFields) {
		out.Fields = "{}"
	}
	ints := func(c Column, dst *int32, v int32) {
		if cols.Has(c) {
			*dst = v
		}
	}
	ints(ColEventID, &out.EventID, r.EventID)
	ints(ColLogonType, &out.LogonType, r.LogonType)
	ints(ColSrcPort, &out.SrcPort, r.SrcPort)
	ints(ColDstPort, &out.DstPort, r.DstPort)
	longs := func(c Column, dst *int64, v int64) {
		if cols.Has(c) {
			*dst = v
		}
	}
	longs(ColRecordID, &out.RecordID, r.RecordID)
	longs(ColBytesOut, &out.BytesOut, r.BytesOut)
	longs(ColBytesIn, &out.BytesIn, r.BytesIn)
	longs(ColOffset, &out.Offset, r.Offset)
	return out
}

func forEachChunk(t *testing.T, dir string, fn func(parquet.ColumnChunk)) {
	files, _ := filepath.Glob(filepath.Join(dir, "events", "source=*", "*.parquet"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := fh.Stat()
		pf, err := parquet.OpenFile(fh, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		for _, rg := range pf.RowGroups() {
			for _, c := range rg.ColumnChunks() {
				fn(c)
			}
		}
		fh.Close()
	}
}

func TestColumnNamesMatchSchema(t *testing.T) {
	for i, c := range parquet.SchemaOf(eventRow{}).Columns() {
		if len(c) != 1 || c[0] != columnNames[i] {
			t.Fatalf("schema column %d is %v, columnNames has %q", i, c, columnNames[i])
		}
	}
	if _, err := ColumnsOf([]string{"user", "source", "nope"}); err == nil {
		t.Fatal("unknown column accepted")
	}
}

// seedPart writes n random events through the store's writer and
// returns the bytes of the part file it made.
func seedPart(t testing.TB, n int, r *rand.Rand) []byte {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := s.NewEventWriter("part-seed")
	for i := 0; i < n; i++ {
		if err := w.Write(randomEvent(r, i)); err != nil {
			t.Fatal(err)
		}
	}
	parts, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(dir, parts[0]))
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

// damagedStore is a store whose one part file each scan replaces.
type damagedStore struct {
	st   *Store
	part string
}

func newDamagedStore(t testing.TB) *damagedStore {
	t.Helper()
	d := t.TempDir()
	st, err := Open(d)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(d, "events", "source=evtx")
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return &damagedStore{st: st, part: filepath.Join(p, "part-x.parquet")}
}

// scan writes data as the part file and scans it as a hunt does (a
// non-empty check, sparse and whole rows); any error must name the file.
func (d *damagedStore) scan(t testing.TB, data []byte) error {
	t.Helper()
	if err := os.WriteFile(d.part, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := d.st.ScanSelect(context.Background(), ScanOptions{}, func(k *RowKey) Want {
		if k.EventID%2 == 0 && !k.Empty(ColCommandLine) {
			return Want{Cols: AllColumns}
		}
		return Want{Cols: 1 << ColUser}
	}, func(*event.Event) error { return nil })
	if err != nil && !strings.Contains(err.Error(), "part-x.parquet") {
		t.Fatalf("error does not name the file: %v", err)
	}
	return err
}

// FuzzScanCorruptPart feeds damaged part files to the column-wise scan:
// it may fail (naming the file) but must not panic or hang.
func FuzzScanCorruptPart(f *testing.F) {
	seed := seedPart(f, 12, rand.New(rand.NewSource(2)))
	f.Add(seed, uint32(0), byte(0))
	f.Add(seed, uint32(len(seed)/2), byte(0xff))
	f.Add(seed[:len(seed)/3], uint32(5), byte(1))
	d := newDamagedStore(f)
	f.Fuzz(func(t *testing.T, data []byte, at uint32, x byte) {
		if len(data) > 0 {
			data = append([]byte(nil), data...)
			data[int(at)%len(data)] ^= x
		}
		d.scan(t, data)
	})
}

// TestScanSurvivesCorruption flips and truncates bytes of a real part
// file a few thousand times (a fixed seed, so failures replay): every
// scan must end, without a panic, and any error must name the file.
func TestScanSurvivesCorruption(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	seed := seedPart(t, 300, r)
	d := newDamagedStore(t)
	failed := 0
	for it := 0; it < 3000; it++ {
		data := append([]byte(nil), seed...)
		for k := 0; k < 1+r.Intn(8); k++ {
			data[r.Intn(len(data))] ^= byte(r.Intn(255) + 1)
		}
		if r.Intn(3) == 0 {
			data = data[:r.Intn(len(data))]
		}
		if d.scan(t, data) != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no mutation was detected: the test checks nothing")
	}
	t.Logf("%d of 3000 damaged files rejected with an error naming the file", failed)
}
