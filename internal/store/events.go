package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/spoor-dfir/spoor/internal/event"
)

// The Parquet layout of an event is derived from event.Columns (see
// schemaOf): every typed column, then "fields", the raw fields as a JSON
// object with keys in source order. The source is not a column: it is the
// Hive partition (events/source=…), as DuckDB expects.

// fieldsColumn is the raw fields' column, after the typed ones.
const fieldsColumn = "fields"

// layout is the store schema built from a column table, and where each
// table column sits among the schema's leaves (parquet.Group orders its
// fields by name).
type layout struct {
	cols   []event.Column
	schema *parquet.Schema
	leaf   []int // leaf index of cols[i]; leaf[len(cols)] is fields
}

// schemaOf builds the Parquet schema of an event table: nullable columns
// are optional (NULL for a missing value), times are microsecond
// timestamps (Spark 3 cannot read nanosecond ones), Dict columns are
// dictionary-encoded.
func schemaOf(cols []event.Column) *layout {
	g := parquet.Group{}
	for _, c := range cols {
		var n parquet.Node
		switch c.Kind {
		case event.KindString:
			n = parquet.String()
		case event.KindInt32:
			n = parquet.Int(32)
		case event.KindInt64:
			n = parquet.Int(64)
		case event.KindTime:
			n = parquet.Timestamp(parquet.Microsecond)
		default:
			panic(fmt.Sprintf("column %s: kind %v", c.Name, c.Kind))
		}
		if c.Dict {
			n = parquet.Encoded(n, &parquet.RLEDictionary)
		}
		if c.Nullable {
			n = parquet.Optional(n)
		}
		g[c.Name] = n
	}
	g[fieldsColumn] = parquet.String()
	l := &layout{cols: cols, schema: parquet.NewSchema("event", g), leaf: make([]int, len(cols)+1)}
	for i, p := range l.schema.Columns() {
		if j, ok := indexOf(cols, p[0]); ok {
			l.leaf[j] = i
		} else {
			l.leaf[len(cols)] = i
		}
	}
	return l
}

func indexOf(cols []event.Column, name string) (int, bool) {
	for i := range cols {
		if cols[i].Name == name {
			return i, true
		}
	}
	return 0, false
}

// eventLayout is the layout of event.Columns: the store's.
var eventLayout = schemaOf(event.Columns)

// rowsPerGroup bounds memory while writing and sets the pruning grain.
var rowsPerGroup int64 = 128 << 10 // a variable so tests can make several row groups

// zstdCodec is shared by all writers: it pools its encoders, and an
// encoder is costly to make (it allocates its history window), so a codec
// per part file made new encoders for every evidence file.
var zstdCodec = &zstd.Codec{Level: zstd.SpeedFastest}

// writerOptions are the options of a part writer: l's schema (nil: the
// generated eventRow's, which the writer takes from the type) and its
// columns' bounds.
func writerOptions(l *layout) []parquet.WriterOption {
	if l == nil {
		l = &layout{cols: event.Columns}
	}
	opts := []parquet.WriterOption{
		parquet.Compression(zstdCodec),
		parquet.MaxRowsPerRowGroup(rowsPerGroup),
		parquet.CreatedBy("spoor", "0.1", ""),
		parquet.SkipPageBounds(fieldsColumn),
	}
	for _, c := range l.cols {
		if !c.Bounds {
			opts = append(opts, parquet.SkipPageBounds(c.Name))
		}
	}
	if l.schema != nil {
		opts = append(opts, l.schema)
	}
	return opts
}

// toRow fills r (reusing its values) with ev's row in the layout's leaf
// order. Strings are handed to the writer without a copy: the writer
// copies them into its pages and dictionaries, and Go strings never change.
func (l *layout) toRow(ev *event.Event, r parquet.Row) (parquet.Row, error) {
	fields, err := fieldsText(ev)
	if err != nil {
		return r, err
	}
	n := len(l.cols) + 1
	if cap(r) < n {
		r = make(parquet.Row, n)
	}
	r = r[:n]
	for i := range l.cols {
		c := &l.cols[i]
		li := l.leaf[i]
		v := c.Get(ev)
		if v.Null && c.Nullable { // a required column writes its zero value
			r[li] = parquet.NullValue().Level(0, 0, li)
			continue
		}
		var pv parquet.Value
		switch c.Kind {
		case event.KindString:
			pv = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(v.Str), len(v.Str)))
		case event.KindInt32:
			pv = parquet.Int32Value(int32(v.Int))
		case event.KindInt64:
			pv = parquet.Int64Value(v.Int)
		case event.KindTime:
			pv = parquet.Int64Value(v.Time.UnixMicro())
		}
		def := 0
		if c.Nullable {
			def = 1
		}
		r[li] = pv.Level(0, def, li)
	}
	li := l.leaf[len(l.cols)]
	r[li] = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(fields), len(fields))).Level(0, 0, li)
	return r, nil
}

// EventWriter writes the events of one evidence file into one part file
// per source partition. Nothing is visible to readers until Commit.
type EventWriter struct {
	store *Store
	name  string // part name, e.g. part-<sha prefix>
	parts map[string]*partFile
	order []string
}

type partFile struct {
	tmp   *os.File
	final string
	n     int64
	// The store's own table is written through the generated eventRow
	// (parquet-go's typed writer); another table (a test's) as rows of
	// parquet.Values.
	gw *parquet.GenericWriter[eventRow]
	// groupRows is how many rows the writer's current row group holds
	// (see writeAvoidingNullBug).
	groupRows int64
	gbuf      []eventRow
	arena     arena
	w         *parquet.Writer
	buf       []parquet.Row
}

// arena holds the Opt numbers of buffered rows, which eventRow points
// at; it is emptied after each flush (the writer has copied them by
// then). A full arena grows: rows keep pointing into the old array.
type arena struct {
	a32 []int32
	a64 []int64
}

func (a *arena) i32(o event.Opt[int32]) *int32 {
	if !o.Valid {
		return nil
	}
	a.a32 = append(a.a32, o.V)
	return &a.a32[len(a.a32)-1]
}

func (a *arena) i64(o event.Opt[int64]) *int64 {
	if !o.Valid {
		return nil
	}
	a.a64 = append(a.a64, o.V)
	return &a.a64[len(a.a64)-1]
}

// rowsPerFlush is how many rows are buffered before the writer takes them.
const rowsPerFlush = 1024

// fieldsText is the raw fields as the store keeps them.
func fieldsText(ev *event.Event) (string, error) {
	if ev.Fields == nil && ev.RawFields != "" {
		return ev.RawFields, nil
	}
	b, err := event.MarshalFields(ev.Fields)
	return string(b), err
}

// NewEventWriter starts the parts for one evidence file. name must be
// stable for the file's content (the ingest driver uses its SHA-256), so
// re-ingesting replaces instead of duplicating.
func (s *Store) NewEventWriter(name string) *EventWriter {
	return &EventWriter{store: s, name: name, parts: map[string]*partFile{}}
}

func (w *EventWriter) layout() *layout { return w.store.layout() }

// layout is the store's column layout: event.Columns', unless a test
// gave the store another table.
func (s *Store) layout() *layout {
	if s.cols != nil {
		return s.cols
	}
	return eventLayout
}

// column finds a column of the layout by its store name (fields after
// the typed ones).
func (l *layout) column(name string) (Column, bool) {
	if name == fieldsColumn {
		return Column(len(l.cols)), true
	}
	i, ok := indexOf(l.cols, name)
	return Column(i), ok
}

// Write adds one event; ev may be reused by the caller afterwards.
func (w *EventWriter) Write(ev *event.Event) error {
	src := ev.Source
	if src == "" {
		return errors.New("event without source")
	}
	p := w.parts[src]
	if p == nil {
		dir := filepath.Join(w.store.Dir, "events", "source="+src)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		f, err := os.CreateTemp(dir, "."+w.name+".tmp-*")
		if err != nil {
			return err
		}
		if err := f.Chmod(0o644); err != nil { // readable by other users, as the store is
			f.Close()
			os.Remove(f.Name())
			return err
		}
		p = &partFile{tmp: f, final: filepath.Join(dir, w.name+".parquet")}
		if l := w.layout(); l == eventLayout {
			p.gw = parquet.NewGenericWriter[eventRow](f, writerOptions(nil)...)
			p.gbuf = make([]eventRow, 0, rowsPerFlush)
		} else {
			p.w = parquet.NewWriter(f, writerOptions(l)...)
			p.buf = make([]parquet.Row, 0, rowsPerFlush)
		}
		w.parts[src] = p
		w.order = append(w.order, src)
	}
	if p.gw != nil {
		fields, err := fieldsText(ev)
		if err != nil {
			return err
		}
		p.gbuf = p.gbuf[:len(p.gbuf)+1]
		p.gbuf[len(p.gbuf)-1].fill(ev, fields, &p.arena)
	} else {
		p.buf = p.buf[:len(p.buf)+1]
		r, err := w.layout().toRow(ev, p.buf[len(p.buf)-1])
		if err != nil {
			p.buf = p.buf[:len(p.buf)-1]
			return err
		}
		p.buf[len(p.buf)-1] = r
	}
	p.n++
	if len(p.buf) == cap(p.buf) && p.gw == nil || len(p.gbuf) == cap(p.gbuf) && p.gw != nil {
		return p.flush()
	}
	return nil
}

func (p *partFile) flush() error {
	if p.gw != nil {
		if len(p.gbuf) == 0 {
			return nil
		}
		err := p.writeAvoidingNullBug(p.gbuf)
		p.gbuf = p.gbuf[:0]
		p.arena.a32, p.arena.a64 = p.arena.a32[:0], p.arena.a64[:0]
		return err
	}
	if len(p.buf) == 0 {
		return nil
	}
	_, err := p.w.WriteRows(p.buf)
	p.buf = p.buf[:0]
	return err
}

// parquet-go v0.32 (v0.32.1 too) writes some zero values of optional
// value fields as values rather than NULLs. The generic writer cuts each
// Write into pieces of 64 rows from the call's first row (and from a row
// group's end); in a piece, after a run of NULLs that ends at row p
// (0 < p < 32), writeRowsFuncOfOptional tests the rest of the bitmap word
// against (1<<p)-1 where ^0>>p is meant, and when exactly p values follow
// and only NULLs after them, it writes those NULLs as values: the dense
// real bench store held 492 empty process names and 736 empty users
// beside NULLs (TestNullsAreExactlyTheAbsentValues). Such a piece is
// written a row at a time instead, where the test cannot go wrong; the
// others go in as before, whole. (Pointers for every nullable field, nil
// for NULL, would avoid the test too, but parquet-go writes pointer
// fields a row at a time: the ingest was 8-9% slower.)

// writeAvoidingNullBug writes rows, each piece the bug would hit a row at
// a time.
func (p *partFile) writeAvoidingNullBug(rows []eventRow) error {
	write := func(rs []eventRow) error {
		if _, err := p.gw.Write(rs); err != nil {
			return err
		}
		if p.groupRows += int64(len(rs)); p.groupRows >= rowsPerGroup {
			p.groupRows -= rowsPerGroup // the writer starts the next row group
		}
		return nil
	}
	for len(rows) > 0 {
		// A call ends at a row group's end, so that its pieces are cut
		// from its first row.
		call := rows[:min(int64(len(rows)), rowsPerGroup-p.groupRows)]
		bad := len(call)
		for at := 0; at < len(call); at += pieceRows {
			if hitsNullBug(call[at:min(at+pieceRows, len(call))]) {
				bad = at
				break
			}
		}
		if bad > 0 {
			if err := write(call[:bad]); err != nil {
				return err
			}
		}
		n := bad
		if bad < len(call) {
			piece := call[bad:min(bad+pieceRows, len(call))]
			for i := range piece {
				if err := write(piece[i : i+1]); err != nil {
					return err
				}
			}
			n += len(piece)
		}
		rows = rows[n:]
	}
	return nil
}

// held is 1 when v is not its type's zero value (NULL in an optional
// value field), else 0.
func held[T string | int32 | int64](v T) uint64 {
	var zero T
	if v != zero {
		return 1
	}
	return 0
}

// pieceRows is how many rows parquet-go's generic writer hands its
// column writers at a time (maxRowsPerWrite in ConcurrentRowGroupWriter).
const pieceRows = 64

// hitsNullBug reports whether writing piece (at most pieceRows rows, as
// parquet-go cuts them) would store a NULL of some optional value field
// as a value.
func hitsNullBug(piece []eventRow) bool {
	var present [pieceRows]uint64
	var any uint64
	for i := range piece {
		present[i] = piece[i].present()
		any |= ^present[i] // fields NULL somewhere in the piece
	}
	any &= 1<<optionalValueFields - 1
	n := len(piece)
	for k := 0; any != 0; k++ {
		if any&1 != 0 {
			var w uint64 // bit i: row i holds a value
			for i := 0; i < n; i++ {
				w |= (present[i] >> k & 1) << i
			}
			// A NULL at p-1, then a run of exactly p values, then only
			// NULLs to the word's end, and some row among them.
			for p := 1; p < 32 && 2*p < n; p++ {
				if w>>(p-1)&1 == 0 && w>>p == 1<<p-1 {
					return true
				}
			}
		}
		any >>= 1
	}
	return false
}

func (p *partFile) close() error {
	if p.gw != nil {
		return p.gw.Close()
	}
	return p.w.Close()
}

// Commit closes every part and renames it into place; it returns the
// store-relative paths written, sorted.
func (w *EventWriter) Commit() ([]string, error) {
	var out []string
	var firstErr error
	for _, src := range w.order {
		p := w.parts[src]
		err := p.flush()
		if err == nil {
			err = p.close()
		}
		if cerr := p.tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(p.tmp.Name(), p.final)
		}
		if err != nil {
			os.Remove(p.tmp.Name())
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		rel, _ := filepath.Rel(w.store.Dir, p.final)
		out = append(out, filepath.ToSlash(rel))
	}
	sort.Strings(out)
	w.parts = nil
	return out, firstErr
}

// Abort discards everything written.
func (w *EventWriter) Abort() {
	for _, p := range w.parts {
		p.tmp.Close()
		os.Remove(p.tmp.Name())
	}
	w.parts = nil
}

// Rows reports the events written so far per source.
func (w *EventWriter) Rows() map[string]int64 {
	out := map[string]int64{}
	for k, p := range w.parts {
		out[k] = p.n
	}
	return out
}

// partFiles lists committed event part files, sorted, with their source.
func (s *Store) partFiles(sources []string) ([][2]string, error) {
	want := map[string]bool{}
	for _, x := range sources {
		want[x] = true
	}
	dirs, err := filepath.Glob(filepath.Join(s.Dir, "events", "source=*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(dirs)
	listed := s.listedParts()
	var out [][2]string
	for _, d := range dirs {
		src := filepath.Base(d)[len("source="):]
		if len(want) > 0 && !want[src] {
			continue
		}
		files, err := filepath.Glob(filepath.Join(d, "*.parquet"))
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			if listed != nil {
				rel, err := filepath.Rel(s.Dir, f)
				if err != nil || !listed[filepath.ToSlash(rel)] {
					continue // not (yet) in this snapshot's manifest
				}
			}
			out = append(out, [2]string{src, f})
		}
	}
	return out, nil
}

// CountEvents counts stored rows from Parquet metadata, without reading
// them.
func (s *Store) CountEvents() (int64, error) {
	files, err := s.partFiles(nil)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, sf := range files {
		f, err := os.Open(sf[1])
		if err != nil {
			return 0, err
		}
		st, _ := f.Stat()
		pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
		if err != nil {
			f.Close()
			return 0, fmt.Errorf("%s: %v", sf[1], err)
		}
		n += pf.NumRows()
		f.Close()
	}
	return n, nil
}
