package store

import (
	"context"
	"fmt"
	"io"
	mbits "math/bits"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
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
	// Numbers: absent a quarter of the time, else 0 … n-1 (0 is a value).
	o32 := func(n int) event.Opt[int32] {
		if r.Intn(4) == 0 {
			return event.Opt[int32]{}
		}
		return event.Some(int32(r.Intn(n)))
	}
	o64 := func(n int64) event.Opt[int64] {
		if r.Intn(4) == 0 {
			return event.Opt[int64]{}
		}
		return event.Some(r.Int63n(n))
	}
	f := ordereddict.NewDict().Set("TargetUserName", s("u", 50)).Set("Path", `C:\Windows\`+s("p", 1000)).Set("Pad", strings.Repeat("x", r.Intn(400)))
	return &event.Event{
		Time: time.Date(2026, 11, 14, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second), Source: event.SourceEVTX,
		Format: s("f", 3), Host: s("H", 9), Channel: s("C", 5), Provider: s("P", 5), EventID: int32(r.Intn(5000)), RecordID: int64(i),
		User: s("user", 40), UserDomain: s("D", 3), UserSID: s("S-1-5-", 40), SubjectUser: s("sub", 40), LogonType: o32(12),
		LogonID: s("0x", 1e6), SrcIP: s("10.0.0.", 255), SrcPort: o32(65536), DstIP: s("8.8.8.", 255), DstPort: o32(65536),
		Protocol: s("tcp", 2), Action: s("allow", 2), BytesOut: o64(1e9), BytesIn: o64(3), Process: s("proc", 30),
		ParentProcess: s("parent", 30), CommandLine: s("cmd /c ", 1e6) + strings.Repeat("y", r.Intn(300)), ScriptText: s("Get-", 100),
		SessionID: s("sess", 1e5), Operator: s("op", 4), Message: s("msg ", 1e5), Level: o32(5), Keywords: s("0x80", 3), Task: o32(3),
		Opcode: o32(2), SystemProcessID: o64(9000), SystemThreadID: o64(9000), SystemUserSID: s("S-1-5-18", 2),
		Evidence: s("e/", 3), Offset: int64(i * 3), Fields: f,
	}
}

// randomStore writes n random events (seed 1) as one part file, in row
// groups of 3000 rows, spread over several pages per column.
func randomStore(t *testing.T, n int) (*Store, string) {
	t.Helper()
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
	for i := 0; i < n; i++ {
		if err := w.Write(randomEvent(r, i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return s, dir
}

// storedRow is one row as text, name=value by column name ("NULL" for
// NULL), so rows of files with the columns in another order compare.
type storedRow []string

func (r storedRow) String() string { return strings.Join(r, " | ") }

func textOf(sch *parquet.Schema, row parquet.Row) storedRow {
	names := sch.Columns()
	out := make(storedRow, len(row))
	for _, v := range row {
		name := names[v.Column()][0]
		if v.IsNull() {
			out[v.Column()] = name + "=NULL"
		} else {
			out[v.Column()] = name + "=" + v.Kind().String() + ":" + v.String()
		}
	}
	slices.Sort(out)
	return out
}

// value is the text of column name in r.
func (r storedRow) value(name string) string {
	for _, x := range r {
		if v, ok := strings.CutPrefix(x, name+"="); ok {
			return v
		}
	}
	return ""
}

func equalRows(a, b storedRow) bool {
	return slices.Equal(a, b)
}

// referenceRows reads every row of the store's part files with the
// generic row reader (the slow, obviously correct way).
func referenceRows(t *testing.T, dir string) []storedRow {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "events", "source=*", "*.parquet"))
	var out []storedRow
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
		r := parquet.NewReader(pf)
		buf := make([]parquet.Row, 512)
		for {
			n, err := r.ReadRows(buf)
			for _, row := range buf[:n] {
				out = append(out, textOf(pf.Schema(), row))
			}
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

// rowOf is the row the store writes for ev.
func rowOf(t *testing.T, ev *event.Event) storedRow {
	t.Helper()
	return rowIn(t, eventLayout, ev)
}

func rowIn(t *testing.T, l *layout, ev *event.Event) storedRow {
	t.Helper()
	if ev.Fields == nil && ev.RawFields != "" {
		d, err := event.UnmarshalFieldsString(ev.RawFields)
		if err != nil {
			t.Fatal(err)
		}
		ev.Fields = d
	}
	r, err := l.toRow(ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	return textOf(l.schema, r)
}

// TestScanSelectMatchesRowReader holds the column-wise scan to parquet-go's
// row reader, column by column, over several row groups and pages, with
// every row and with a sparse selection of rows and columns.
func TestScanSelectMatchesRowReader(t *testing.T) {
	const n = 10000
	s, dir := randomStore(t, n)
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
	err := s.Scan(context.Background(), ScanOptions{}, func(ev *event.Event) error {
		if got := rowOf(t, ev); !equalRows(got, ref[i]) {
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

func checkSelection(t *testing.T, s *Store, ref []storedRow, mod int32) ScanStats {
	ColCommandLine, ColMessage := mustColumn("command_line"), mustColumn("message")
	ColLevel, ColBytesIn := mustColumn("level"), mustColumn("bytes_in")
	sets := []ColSet{1 << ColUser, 1<<ColCommandLine | 1<<ColFields | 1<<ColLevel, 1<<ColMessage | 1<<ColSrcIP | 1<<ColBytesIn, 0}
	cmdEmpty := func(r storedRow) bool { v := r.value("command_line"); return v == "NULL" || v == "BYTE_ARRAY:" }
	eventID := func(r storedRow) int32 {
		var n int32
		fmt.Sscanf(strings.TrimPrefix(r.value("event_id"), "INT32:"), "%d", &n)
		return n
	}
	st, err := s.ScanSelect(context.Background(), ScanOptions{}, func(k *RowKey) Want {
		if k.EventID%mod != 0 || k.Empty(mustColumn("command_line")) && k.EventID%2 == 0 {
			return Want{}
		}
		return Want{Cols: sets[k.EventID%4] | 1<<ColChannel}
	}, func(ev *event.Event) error {
		want := ref[ev.Offset/3]
		if ev.EventID%mod != 0 || (cmdEmpty(want) && ev.EventID%2 == 0) {
			t.Fatalf("row %d selected against the selector", ev.Offset/3)
		}
		cols := sets[ev.EventID%4] | 1<<ColChannel | refColumns
		got := rowOf(t, ev)
		mask := maskRow(want, cols)
		if ev.RawFields == "" && cols.Has(ColFields) {
			t.Fatalf("row %d: raw fields missing", ev.Offset/3)
		}
		if !equalRows(got, mask) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", ev.Offset/3, got, mask)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sel := 0
	for _, row := range ref {
		if eventID(row)%mod == 0 && !(cmdEmpty(row) && eventID(row)%2 == 0) {
			sel++
		}
	}
	if st.Rows != int64(len(ref)) || st.Selected != int64(sel) || sel == 0 {
		t.Fatalf("stats %+v, want %d rows, %d selected", st, len(ref), sel)
	}
	return st
}

// maskRow keeps only the columns in cols (as a scan fills them): the
// others are as an empty event writes them.
func maskRow(r storedRow, cols ColSet) storedRow {
	zero, err := eventLayout.toRow(&event.Event{}, nil)
	if err != nil {
		panic(err)
	}
	out := textOf(eventLayout.schema, zero)
	for i, x := range out {
		name, _, _ := strings.Cut(x, "=")
		if c, _ := ColumnByName(name); cols.Has(c) {
			out[i] = name + "=" + r.value(name)
		}
	}
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

// TestSchemaFromTable holds the store schema to event.Columns: one
// column per table entry (and fields), optional exactly where the table
// says nullable, and Column numbers naming them.
func TestSchemaFromTable(t *testing.T) {
	sch := eventLayout.schema
	if got, want := len(sch.Columns()), len(event.Columns)+1; got != want {
		t.Fatalf("schema has %d columns, want %d", got, want)
	}
	for i, c := range event.Columns {
		leaf, ok := sch.Lookup(c.Name)
		if !ok {
			t.Fatalf("column %s not in the schema", c.Name)
		}
		if leaf.Node.Optional() != c.Nullable {
			t.Errorf("column %s: optional %v, table says nullable %v", c.Name, leaf.Node.Optional(), c.Nullable)
		}
		if col, ok := ColumnByName(c.Name); !ok || int(col) != i || col.String() != c.Name {
			t.Errorf("column %s: Column %d %v", c.Name, col, ok)
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
		if k.EventID%2 == 0 && !k.Empty(mustColumn("command_line")) {
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

// TestScannedStringsOutliveTheirPages keeps every event of a scan (the
// strings of plain-encoded pages point into the page's memory, which is
// then never handed back to parquet-go's buffer pool) and scans the store
// again, in full and sparsely, so that any page memory wrongly reused
// would overwrite them; the kept events must still be the stored rows.
func TestScannedStringsOutliveTheirPages(t *testing.T) {
	const n = 8000
	s, dir := randomStore(t, n)
	ref := referenceRows(t, dir)
	var kept []event.Event
	err := s.Scan(context.Background(), ScanOptions{}, func(ev *event.Event) error {
		if got := rowOf(t, ev); !equalRows(got, ref[len(kept)]) {
			t.Fatalf("live row %d:\n got %+v\nwant %+v", len(kept), got, ref[len(kept)])
		}
		kept = append(kept, *ev)
		return nil
	})
	if err != nil || len(kept) != n {
		t.Fatalf("scan: %d events, %v", len(kept), err)
	}
	for range 2 {
		if err := s.Scan(context.Background(), ScanOptions{}, func(*event.Event) error { return nil }); err != nil {
			t.Fatal(err)
		}
		checkSelection(t, s, ref, 7)
	}
	for i := range kept {
		if got := rowOf(t, &kept[i]); !equalRows(got, ref[i]) {
			t.Fatalf("kept row %d changed after later scans:\n got %+v\nwant %+v", i, got, ref[i])
		}
	}
}

// TestNullsAreExactlyTheAbsentValues: a nullable column is NULL in the
// stored file exactly where the event's value says absent (an empty
// string, a 0 for plain numbers, an unset Opt), whatever the rows around
// it hold, so SQL over the store (IS NULL, = empty) sees what spoor does.
func TestNullsAreExactlyTheAbsentValues(t *testing.T) {
	old := rowsPerGroup
	rowsPerGroup = 3000 // several row groups, flushes across their ends
	defer func() { rowsPerGroup = old }()
	for seed := int64(1); seed <= 8; seed++ {
		dir := t.TempDir()
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewSource(seed))
		w := s.NewEventWriter("part-x")
		var evs []*event.Event
		for i := 0; i < 8000; i++ {
			ev := randomEvent(r, i)
			evs = append(evs, ev)
			if err := w.Write(ev); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		ref := referenceRows(t, dir)
		bad := 0
		for i, row := range ref {
			for c := range event.Columns {
				col := &event.Columns[c]
				if !col.Nullable {
					continue
				}
				stored := row.value(col.Name)
				if want := col.Get(evs[i]).Null; (stored == "NULL") != want {
					if bad++; bad <= 5 {
						t.Errorf("seed %d row %d column %s: stored %q, absent %v", seed, i, col.Name, stored, want)
					}
				}
			}
		}
		if bad > 0 {
			t.Fatalf("seed %d: %d values stored against their absence", seed, bad)
		}
	}
}

// buggyRuns is parquet-go v0.32's writeRowsFuncOfOptional run loop over
// one piece's bitmap (bit i: row i holds a value), copied as it is, the
// wrong mask included: it returns which rows it would write as values.
func buggyRuns(w uint64, n int) (asValue uint64) {
	bits := []uint64{w}
	for i := 0; i < n; {
		j := 0
		x := i / 64
		y := i % 64
		if y != 0 {
			if b := bits[x] >> uint(y); b == 0 {
				x++
				y = 0
			} else {
				y += mbits.TrailingZeros64(b)
				goto writeNulls
			}
		}
		for x < len(bits) && bits[x] == 0 {
			x++
		}
		if x < len(bits) {
			y = mbits.TrailingZeros64(bits[x]) % 64
		}
	writeNulls:
		if j = x*64 + y; j > n {
			j = n
		}
		if i < j {
			i = j
		}
		if y != 0 {
			if b := bits[x] >> uint(y); b == (1<<uint64(y))-1 {
				x++
				y = 0
			} else {
				y += mbits.TrailingZeros64(^b)
				goto writeNonNulls
			}
		}
		for x < len(bits) && bits[x] == ^uint64(0) {
			x++
		}
		if x < len(bits) {
			y = mbits.TrailingZeros64(^bits[x]) % 64
		}
	writeNonNulls:
		if j = x*64 + y; j > n {
			j = n
		}
		for ; i < j; i++ {
			asValue |= 1 << i
		}
	}
	return asValue
}

// TestHitsNullBugIsTheBug holds hitsNullBug to parquet-go's loop (copied
// above) on random and on crafted pieces: it must flag every piece the
// loop writes wrong (a NULL as a value), and the loop must be right on
// the pieces it does not flag.
func TestHitsNullBugIsTheBug(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	flagged, wrong := 0, 0
	for trial := 0; trial < 200000; trial++ {
		n := 1 + r.Intn(64)
		var w uint64
		switch trial % 3 {
		case 0: // random
			w = r.Uint64()
		case 1: // a run of p NULLs, p values, NULLs after: the bug's shape
			p := 1 + r.Intn(31)
			w = (1<<p - 1) << p
		default: // runs of random lengths
			for i, v := 0, r.Intn(2); i < 64; v ^= 1 {
				l := 1 + r.Intn(8)
				if v == 1 {
					w |= (1<<l - 1) << i
				}
				i += l
			}
		}
		if n < 64 {
			w &= 1<<n - 1
		}
		piece := make([]eventRow, n)
		for i := range piece {
			if w>>i&1 == 1 {
				piece[i].Process = "x"
			}
		}
		bad := buggyRuns(w, n) != w
		hit := hitsNullBug(piece)
		if bad && !hit {
			t.Fatalf("rows %0*b (%d): the loop writes a NULL as a value, hitsNullBug says no", n, w, n)
		}
		if bad {
			wrong++
		}
		if hit {
			flagged++
		}
	}
	if wrong == 0 || flagged > 2*wrong {
		t.Fatalf("%d pieces written wrong, %d flagged: the test did not meet the bug, or flags far more than it", wrong, flagged)
	}
	t.Logf("%d pieces the loop writes wrong, %d flagged", wrong, flagged)
}
