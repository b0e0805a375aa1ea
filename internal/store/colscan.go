package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"slices"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/spoor-dfir/spoor/internal/event"
)

// Column numbers a stored event column: i < len(event.Columns) is
// event.Columns[i], and ColFields, after them, is the raw fields.
type Column uint8

// numColumns counts the store's columns: the typed ones and fields.
var numColumns = len(event.Columns) + 1

// maxColumns bounds numColumns: a ColSet is a uint64, and scan state is
// kept in arrays of this size.
const maxColumns = 64

func init() {
	if numColumns > maxColumns {
		panic("store: more than 64 event columns; ColSet must grow")
	}
}

func mustColumn(name string) Column {
	c, ok := ColumnByName(name)
	if !ok {
		panic("store: no column " + name)
	}
	return c
}

// The columns the scan itself, the hunt's selector and the callers that
// build Wants by hand name.
var (
	ColTime       = mustColumn("time")
	ColFormat     = mustColumn("format")
	ColHost       = mustColumn("host")
	ColChannel    = mustColumn("channel")
	ColProvider   = mustColumn("provider")
	ColEventID    = mustColumn("event_id")
	ColRecordID   = mustColumn("record_id")
	ColUser       = mustColumn("user")
	ColUserDomain = mustColumn("user_domain")
	ColUserSID    = mustColumn("user_sid")
	ColLogonType  = mustColumn("logon_type")
	ColSrcIP      = mustColumn("src_ip")
	ColEvidence   = mustColumn("evidence")
	ColOffset     = mustColumn("offset")
	ColSeq        = mustColumn("seq")
	ColFields     = Column(len(event.Columns))
)

// String is the column's name in the store.
func (c Column) String() string {
	switch {
	case int(c) < len(event.Columns):
		return event.Columns[c].Name
	case c == ColFields:
		return fieldsColumn
	}
	return fmt.Sprintf("column(%d)", c)
}

// ColumnByName finds a column by its store name.
func ColumnByName(name string) (Column, bool) { return eventLayout.column(name) }

// ColSet is a set of columns (bit c for Column c).
type ColSet uint64

// AllColumns holds every event column.
var AllColumns = ColSet(1)<<numColumns - 1

// Has reports whether c is in the set.
func (s ColSet) Has(c Column) bool { return s&(1<<c) != 0 }

// With returns the set plus c.
func (s ColSet) With(c Column) ColSet { return s | 1<<c }

// ColumnsOf makes a set from store column names; "source" (the partition,
// always filled) is accepted and ignored, anything else unknown is an
// error. nil names every column.
func ColumnsOf(names []string) (ColSet, error) {
	if names == nil {
		return AllColumns, nil
	}
	var s ColSet
	for _, n := range names {
		if n == "source" {
			continue
		}
		c, ok := ColumnByName(n)
		if !ok {
			return 0, fmt.Errorf("unknown store column %q", n)
		}
		s = s.With(c)
	}
	return s, nil
}

// refColumns are filled for every row a scan hands out, whatever was
// asked: they say where the event came from (its reference).
var refColumns = ColSet(0).With(ColTime).With(ColEvidence).With(ColOffset).With(ColSeq).With(ColRecordID).With(ColEventID).With(ColHost)

// Want says what to decode of one row. The zero Want skips the row.
type Want struct {
	Cols ColSet
	// Dict decodes the fields into Event.Fields; otherwise (with
	// ColFields in Cols) they stay text in Event.RawFields.
	Dict bool
}

// RowKey is what Select sees of a row before anything else of it is
// decoded.
type RowKey struct {
	Source  string
	EventID int32
	Channel string

	rg  *rgScan
	row int64
	err error
}

// Empty reports whether the string column c is empty in this row (false
// for columns that are not strings). Only the offsets of c's page are
// read, not its text.
func (k *RowKey) Empty(c Column) bool {
	cur, err := k.rg.cursor(c)
	if err == nil && cur == nil {
		return true // an older file without this column
	}
	if err == nil {
		err = cur.at(k.row)
	}
	if err != nil {
		if k.err == nil {
			k.err = err
		}
		return true
	}
	return cur.empty(k.row)
}

// ScanStats counts what a scan read.
type ScanStats struct {
	Rows     int64 // rows in the scanned window (selected or not)
	Selected int64 // rows handed to fn
	Pages    int64 // column pages read (decompressed and decoded)
}

// ScanSelect is Scan for callers that need a fraction of the rows: it
// reads the store column by column, asks sel (when non-nil) about every
// row in the window from its source, event id and channel alone, and
// decodes only the columns the answer names, only for the rows it wants;
// pages none of those rows touch are not even decompressed. ev is reused
// between calls.
func (s *Store) ScanSelect(ctx context.Context, opts ScanOptions, sel func(*RowKey) Want, fn func(ev *event.Event) error) (ScanStats, error) {
	var ev event.Event
	return s.ScanSelectInto(ctx, opts, sel, func() *event.Event { return &ev }, fn)
}

// ScanSelectInto is ScanSelect filling events where the caller says:
// next returns the event to fill for the next wanted row (it is
// overwritten whole), and fn is then called with it. A caller that
// batches events fills its batch in place instead of copying each one.
func (s *Store) ScanSelectInto(ctx context.Context, opts ScanOptions, sel func(*RowKey) Want, next func() *event.Event, fn func(ev *event.Event) error) (ScanStats, error) {
	var st ScanStats
	parts := opts.Parts
	if parts == nil {
		var err error
		if parts, err = s.Parts(opts.Sources); err != nil {
			return st, err
		}
	}
	var from, to int64
	if !opts.From.IsZero() {
		from = opts.From.Add(time.Microsecond - 1).UnixMicro() // stored times are whole µs: [from, to) rounds up
	}
	if !opts.To.IsZero() {
		to = opts.To.Add(time.Microsecond - 1).UnixMicro()
	}
	sc := &scanner{ctx: ctx, l: s.layout(), sel: sel, fn: fn, next: next, from: from, to: to, stats: &st}
	if sel == nil {
		cols, err := ColumnsOf(opts.Columns)
		if err != nil {
			return st, err
		}
		sc.fixed = Want{Cols: cols | refColumns, Dict: cols.Has(ColFields)}
	}
	for _, p := range parts {
		if err := sc.file(p.Source, p.Path); err != nil {
			return st, err
		}
	}
	return st, nil
}

type scanner struct {
	ctx      context.Context
	l        *layout
	sel      func(*RowKey) Want
	fixed    Want
	fn       func(*event.Event) error
	next     func() *event.Event
	from, to int64
	stats    *ScanStats
}

// file scans one part file. A corrupt file must not take the process
// down: a panic in the Parquet reader becomes an error naming the file.
func (sc *scanner) file(src, path string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: scan failed (corrupt part file, or a bug): panic: %v", path, p)
		}
	}()
	return sc.scanFile(src, path)
}

func (sc *scanner) scanFile(src, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	var leaf [maxColumns]int
	for i := range leaf {
		leaf[i] = -1
	}
	for i, p := range pf.Schema().Columns() {
		if len(p) == 1 {
			if c, ok := sc.l.column(p[0]); ok {
				leaf[c] = i
			}
		}
	}
	if leaf[ColTime] < 0 || leaf[ColEventID] < 0 {
		return fmt.Errorf("%s: not an event part file (no time or event_id column)", path)
	}
	if err := sc.l.checkKinds(pf.Schema()); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	md := pf.Metadata()
	for gi, rg := range pf.RowGroups() {
		if err := sc.ctx.Err(); err != nil {
			return err
		}
		if (sc.from != 0 || sc.to != 0) && gi < len(md.RowGroups) {
			stats := md.RowGroups[gi].Columns[leaf[ColTime]].MetaData.Statistics
			if len(stats.MinValue) == 8 && len(stats.MaxValue) == 8 {
				lo := int64(binary.LittleEndian.Uint64(stats.MinValue))
				hi := int64(binary.LittleEndian.Uint64(stats.MaxValue))
				if (sc.to != 0 && lo >= sc.to) || (sc.from != 0 && hi < sc.from) {
					continue
				}
			}
		}
		r := &rgScan{l: sc.l, rg: rg, leaf: &leaf, pages: &sc.stats.Pages}
		err := sc.rowGroup(src, r)
		r.close()
		var stop errStop
		if errors.As(err, &stop) {
			return stop.err
		}
		if err != nil {
			return fmt.Errorf("%s: row group %d: %w", path, gi, err)
		}
	}
	return nil
}

// errStop carries fn's error out unwrapped.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }

func (sc *scanner) rowGroup(src string, r *rgScan) error {
	n := r.rg.NumRows()
	tc, err := r.cursor(ColTime)
	if err != nil {
		return err
	}
	var idc, chc *colCursor
	if sc.sel != nil {
		if idc, err = r.cursor(ColEventID); err != nil {
			return err
		}
		if chc, err = r.cursor(ColChannel); err != nil {
			return err
		}
	}
	key := RowKey{Source: src, rg: r}
	window := sc.from != 0 || sc.to != 0
	for row := int64(0); row < n; row++ {
		if window {
			if err := tc.at(row); err != nil {
				return err
			}
			t, null := tc.int(row)
			if null || (sc.from != 0 && t < sc.from) || (sc.to != 0 && t >= sc.to) {
				continue
			}
		}
		sc.stats.Rows++
		w := sc.fixed
		if sc.sel != nil {
			if err := idc.at(row); err != nil {
				return err
			}
			id, _ := idc.int(row)
			key.EventID = int32(id)
			key.Channel = ""
			if chc != nil {
				if err := chc.at(row); err != nil {
					return err
				}
				key.Channel = chc.str(row)
			}
			key.row = row
			w = sc.sel(&key)
			if key.err != nil {
				return key.err
			}
			if w.Cols == 0 {
				continue
			}
			w.Cols |= refColumns
		}
		ev := sc.next()
		if err := sc.fill(ev, src, r, row, w); err != nil {
			return err
		}
		sc.stats.Selected++
		if err := sc.fn(ev); err != nil {
			return errStop{err}
		}
	}
	return nil
}

func (sc *scanner) fill(ev *event.Event, src string, r *rgScan, row int64, w Want) error {
	*ev = event.Event{Source: src}
	for m := uint64(w.Cols); m != 0; m &= m - 1 {
		col := Column(bits.TrailingZeros64(m))
		c, err := r.cursor(col)
		if err != nil {
			return err
		}
		if c == nil {
			continue // an older file without this column
		}
		if err := c.at(row); err != nil {
			return err
		}
		if int(col) == len(sc.l.cols) {
			raw := c.str(row)
			if !w.Dict {
				ev.RawFields = raw
				continue
			}
			d, err := event.UnmarshalFieldsString(raw)
			if err != nil {
				return fmt.Errorf("fields of %s@%d: %v", ev.Evidence, ev.Offset, err)
			}
			ev.Fields = d
			continue
		}
		ec := &sc.l.cols[col]
		if c.null(row) {
			continue // the zero Event already says absent
		}
		switch ec.Kind {
		case event.KindString:
			ec.Set(ev, event.Value{Str: c.str(row)})
		case event.KindTime:
			n, _ := c.int(row)
			ec.Set(ev, event.Value{Time: time.UnixMicro(n).UTC()})
		default:
			n, _ := c.int(row)
			ec.Set(ev, event.Value{Int: n})
		}
	}
	return nil
}

func logicalTimestamp(t parquet.Type) (*format.TimestampType, bool) {
	lt := t.LogicalType()
	if lt == nil {
		return nil, false
	}
	ts, ok := lt.Value.(*format.TimestampType)
	return ts, ok
}

// checkKinds refuses a part file whose columns have other physical types
// than the table says (an older store: times were nanoseconds then).
func (l *layout) checkKinds(s *parquet.Schema) error {
	for _, p := range s.Columns() {
		i, ok := indexOf(l.cols, p[0])
		if !ok || len(p) != 1 {
			continue
		}
		leaf, _ := s.Lookup(p...)
		t := leaf.Node.Type()
		var want parquet.Kind
		switch l.cols[i].Kind {
		case event.KindString:
			want = parquet.ByteArray
		case event.KindInt32:
			want = parquet.Int32
		default:
			want = parquet.Int64
		}
		if t.Kind() != want {
			return fmt.Errorf("column %s is %s, want %s (a store of another spoor version: ingest again)", p[0], t.Kind(), want)
		}
		if l.cols[i].Kind == event.KindTime {
			if ts, ok := logicalTimestamp(t); !ok || ts.Unit.Value == nil || ts.Unit.Value.Duration() != time.Microsecond {
				return fmt.Errorf("column %s is not a microsecond timestamp (a store of another spoor version: ingest again)", p[0])
			}
		}
	}
	return nil
}

// rgScan reads one row group column by column; a column's pages are
// opened the first time a row asks for it.
type rgScan struct {
	l     *layout
	rg    parquet.RowGroup
	leaf  *[maxColumns]int
	cols  [maxColumns]*colCursor
	have  ColSet // cursors opened (or known missing)
	pages *int64 // ScanStats.Pages
}

func (r *rgScan) cursor(c Column) (*colCursor, error) {
	if r.have.Has(c) {
		return r.cols[c], nil
	}
	r.have = r.have.With(c)
	li := r.leaf[c]
	if li < 0 {
		if c == ColTime || c == ColEventID {
			return nil, fmt.Errorf("no %s column", c)
		}
		return nil, nil
	}
	chunk := r.rg.ColumnChunks()[li]
	cur := &colCursor{col: c, pages: chunk.Pages(), start: -1, end: -1, loads: r.pages, viBuf: getVI(),
		numeric: int(c) < len(r.l.cols) && r.l.cols[c].Kind != event.KindString}
	if oi, err := chunk.OffsetIndex(); err == nil && oi != nil && oi.NumPages() > 0 {
		cur.firstRows = make([]int64, oi.NumPages())
		for i := range cur.firstRows {
			cur.firstRows[i] = oi.FirstRowIndex(i)
		}
		cur.pi = -1
	}
	r.cols[c] = cur
	return cur, nil
}

func (r *rgScan) close() {
	for _, c := range r.cols {
		if c != nil {
			c.close()
			putVI(c.viBuf)
			c.vi, c.viBuf = nil, nil
		}
	}
}

// viPool keeps NULL index buffers between column chunks: every optional
// column of every row group scanned needs one as long as its pages.
var viPool sync.Pool // *[]int32

func getVI() []int32 {
	if p, ok := viPool.Get().(*[]int32); ok {
		return (*p)[:0]
	}
	return nil
}

func putVI(b []int32) {
	if cap(b) > 0 {
		viPool.Put(&b)
	}
}

// colCursor holds the current page of one column chunk, decoded into
// typed slices; rows are asked for in increasing order, and pages between
// two asked rows are skipped through the offset index without being read.
type colCursor struct {
	col        Column
	pages      parquet.Pages
	firstRows  []int64 // first row of each page (offset index); nil: read pages in order
	pi         int     // index in firstRows of the loaded page
	page       parquet.Page
	start, end int64 // rows [start, end) of the loaded page

	loads *int64 // counts the pages read

	i32     []int32
	i64     []int64
	numeric bool     // a number column (NULL rows are not "empty strings")
	vi      []int32  // value index of each row of the page, -1 for NULL; nil: no NULLs (row i is value i)
	viBuf   []int32  // vi's memory, kept across pages
	idx     []int32  // dictionary indexes, for dictionary-encoded pages
	dict    []string // the chunk's dictionary as strings, made once
	data    []byte
	offs    []uint32
	// aliased says str handed out strings pointing into the loaded
	// page's values, which then must not go back to parquet-go's buffer
	// pool (where the next page would overwrite them): the page is left
	// to the garbage collector instead. A copy per value was a fifth of
	// the hunt's allocations (every selected row's raw fields): a fresh
	// page buffer costs the page faults those copies did, without the
	// copying and an allocation per value.
	aliased bool
}

var errPageRows = errors.New("page row count does not match its values (repeated values are not event rows)")

func (c *colCursor) at(row int64) error {
	if row < c.end && row >= c.start {
		return nil
	}
	if c.firstRows != nil {
		// The next page is the usual case; a binary search and a seek
		// skip the pages no asked row falls in.
		p := c.pi + 1
		if p >= len(c.firstRows) || c.firstRows[p] > row || (p+1 < len(c.firstRows) && c.firstRows[p+1] <= row) {
			p = sort.Search(len(c.firstRows), func(i int) bool { return c.firstRows[i] > row }) - 1
			if p < 0 {
				return fmt.Errorf("column %s: row %d before the first page", c.col, row)
			}
		}
		if p != c.pi+1 {
			if err := c.pages.SeekToRow(c.firstRows[p]); err != nil {
				return fmt.Errorf("column %s: seek to row %d: %v", c.col, c.firstRows[p], err)
			}
		}
		if err := c.load(); err != nil {
			return err
		}
		c.pi = p
		c.start = c.firstRows[p]
		c.end = c.start + c.page.NumRows()
		if row >= c.end {
			return fmt.Errorf("column %s: row %d not in page %d (rows %d-%d)", c.col, row, p, c.start, c.end)
		}
		return nil
	}
	for row >= c.end || c.page == nil {
		next := c.end
		if c.page == nil {
			next = 0
		}
		if err := c.load(); err != nil {
			return err
		}
		c.start = next
		c.end = next + c.page.NumRows()
	}
	if row < c.start {
		return fmt.Errorf("column %s: row %d asked after row %d", c.col, row, c.start)
	}
	return nil
}

// load reads the next page and exposes its values.
func (c *colCursor) load() error {
	if c.page != nil {
		if !c.aliased {
			parquet.Release(c.page)
		}
		c.page, c.aliased = nil, false
	}
	pg, err := c.pages.ReadPage()
	if err != nil {
		return fmt.Errorf("column %s: %v", c.col, err)
	}
	*c.loads++
	if pg.NumValues() != pg.NumRows() {
		parquet.Release(pg)
		return fmt.Errorf("column %s: %w", c.col, errPageRows)
	}
	c.page = pg
	c.i32, c.i64, c.idx, c.data, c.offs = nil, nil, nil, nil, nil
	nvals := int(pg.NumRows())
	c.vi = nil
	if pg.NumNulls() != 0 {
		nvals = 0
		vi := slices.Grow(c.viBuf[:0], int(pg.NumRows()))
		for _, d := range pg.DefinitionLevels() {
			if d == 0 {
				vi = append(vi, -1)
			} else {
				vi = append(vi, int32(nvals))
				nvals++
			}
		}
		c.vi, c.viBuf = vi, vi
		if len(c.vi) != int(pg.NumRows()) {
			return fmt.Errorf("column %s: %d definition levels for %d rows", c.col, len(c.vi), pg.NumRows())
		}
	}
	vals := pg.Data()
	if d := pg.Dictionary(); d != nil {
		c.idx = vals.Int32()
		if len(c.idx) != nvals {
			return fmt.Errorf("column %s: %d dictionary indexes for %d values", c.col, len(c.idx), nvals)
		}
		if c.dict == nil {
			dv := d.Page().Data()
			data, offs := dv.ByteArray()
			c.dict = make([]string, max(len(offs)-1, 0))
			for i := range c.dict {
				c.dict[i] = string(data[offs[i]:offs[i+1]])
			}
		}
		for _, x := range c.idx {
			if x < 0 || int(x) >= len(c.dict) {
				return fmt.Errorf("column %s: dictionary index %d out of %d", c.col, x, len(c.dict))
			}
		}
		return nil
	}
	switch pg.Type().Kind() {
	case parquet.Int32:
		c.i32 = vals.Int32()
		if len(c.i32) != nvals {
			return fmt.Errorf("column %s: %d values for %d rows", c.col, len(c.i32), nvals)
		}
	case parquet.Int64:
		c.i64 = vals.Int64()
		if len(c.i64) != nvals {
			return fmt.Errorf("column %s: %d values for %d rows", c.col, len(c.i64), nvals)
		}
	case parquet.ByteArray:
		c.data, c.offs = vals.ByteArray()
		if nvals == 0 && len(c.offs) == 0 {
			break // every row NULL
		}
		if len(c.offs) != nvals+1 {
			return fmt.Errorf("column %s: %d offsets for %d values", c.col, len(c.offs), nvals)
		}
	default:
		return fmt.Errorf("column %s: unexpected type %s", c.col, pg.Type())
	}
	return nil
}

// value is the index of row's value among the page's values, -1 for
// NULL.
func (c *colCursor) value(row int64) int {
	i := int(row - c.start)
	if c.vi != nil {
		return int(c.vi[i])
	}
	return i
}

// null reports whether row holds NULL.
func (c *colCursor) null(row int64) bool { return c.value(row) < 0 }

// int returns a number column's value (0 and true for NULL).
func (c *colCursor) int(row int64) (int64, bool) {
	i := c.value(row)
	switch {
	case i < 0:
		return 0, true
	case c.i64 != nil:
		return c.i64[i], false
	case c.i32 != nil:
		return int64(c.i32[i]), false
	}
	return 0, true
}

// str returns a string column's value, "" for NULL (a fresh copy for
// plain pages, the shared dictionary string otherwise: nothing handed out
// points into pooled page memory).
func (c *colCursor) str(row int64) string {
	i := c.value(row)
	if i < 0 {
		return ""
	}
	if c.idx != nil {
		return c.dict[c.idx[i]]
	}
	if c.offs == nil {
		return ""
	}
	a, b := c.offs[i], c.offs[i+1]
	if a == b {
		return ""
	}
	v := c.data[a:b] // bounds-checked: a corrupt page's offsets must not read past it
	c.aliased = true
	return unsafe.String(&v[0], len(v))
}

// empty reports whether a string column is NULL or "" in row (false for
// numbers).
func (c *colCursor) empty(row int64) bool {
	i := c.value(row)
	if i < 0 {
		return !c.numeric
	}
	if c.i32 != nil || c.i64 != nil {
		return false // not a string column
	}
	if c.idx != nil {
		return c.dict[c.idx[i]] == ""
	}
	if c.offs == nil {
		return true
	}
	return c.offs[i] == c.offs[i+1]
}

func (c *colCursor) close() {
	if c.page != nil && !c.aliased {
		parquet.Release(c.page)
		c.page = nil
	}
	c.pages.Close()
}
