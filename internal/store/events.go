package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/spoor-dfir/spoor/internal/event"
)

// eventRow is the Parquet layout of an event. The source is not a column:
// it is the Hive partition (events/source=…), as DuckDB expects.
type eventRow struct {
	Time          int64  `parquet:"time,timestamp(nanosecond)"`
	Format        string `parquet:"format,dict"`
	Host          string `parquet:"host,dict"`
	Channel       string `parquet:"channel,dict"`
	Provider      string `parquet:"provider,dict"`
	EventID       int32  `parquet:"event_id"`
	RecordID      int64  `parquet:"record_id"`
	User          string `parquet:"user,dict"`
	UserDomain    string `parquet:"user_domain,dict"`
	UserSID       string `parquet:"user_sid,dict"`
	SubjectUser   string `parquet:"subject_user,dict"`
	LogonType     int32  `parquet:"logon_type"`
	LogonID       string `parquet:"logon_id"`
	SrcIP         string `parquet:"src_ip,dict"`
	SrcPort       int32  `parquet:"src_port"`
	DstIP         string `parquet:"dst_ip,dict"`
	DstPort       int32  `parquet:"dst_port"`
	Protocol      string `parquet:"protocol,dict"`
	Action        string `parquet:"action,dict"`
	BytesOut      int64  `parquet:"bytes_out"`
	BytesIn       int64  `parquet:"bytes_in"`
	Process       string `parquet:"process,dict"`
	ParentProcess string `parquet:"parent_process,dict"`
	CommandLine   string `parquet:"command_line"`
	ScriptText    string `parquet:"script_text"`
	SessionID     string `parquet:"session_id"`
	Operator      string `parquet:"operator,dict"`
	Message       string `parquet:"message"`
	Evidence      string `parquet:"evidence,dict"`
	Offset        int64  `parquet:"offset"`
	Fields        string `parquet:"fields"` // JSON object, keys in source order
}

// rowsPerGroup bounds memory while writing and sets the pruning grain.
const rowsPerGroup = 128 << 10

func writerOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.MaxRowsPerRowGroup(rowsPerGroup),
		parquet.CreatedBy("spoor", "0.1", ""),
	}
}

func toRow(ev *event.Event, r *eventRow) error {
	fields, err := event.MarshalFields(ev.Fields)
	if err != nil {
		return err
	}
	var t int64
	if !ev.Time.IsZero() {
		t = ev.Time.UnixNano()
	}
	*r = eventRow{
		Time: t, Format: ev.Format, Host: ev.Host, Channel: ev.Channel, Provider: ev.Provider,
		EventID: ev.EventID, RecordID: ev.RecordID, User: ev.User, UserDomain: ev.UserDomain,
		UserSID: ev.UserSID, SubjectUser: ev.SubjectUser, LogonType: ev.LogonType, LogonID: ev.LogonID,
		SrcIP: ev.SrcIP, SrcPort: ev.SrcPort, DstIP: ev.DstIP, DstPort: ev.DstPort,
		Protocol: ev.Protocol, Action: ev.Action, BytesOut: ev.BytesOut, BytesIn: ev.BytesIn,
		Process: ev.Process, ParentProcess: ev.ParentProcess, CommandLine: ev.CommandLine,
		ScriptText: ev.ScriptText, SessionID: ev.SessionID, Operator: ev.Operator,
		Message: ev.Message, Evidence: ev.Evidence, Offset: ev.Offset, Fields: string(fields),
	}
	return nil
}

func fromRow(r *eventRow, source string, ev *event.Event, withFields bool) error {
	var t time.Time
	if r.Time != 0 {
		t = time.Unix(0, r.Time).UTC()
	}
	*ev = event.Event{
		Time: t, Source: source, Format: r.Format, Host: r.Host, Channel: r.Channel, Provider: r.Provider,
		EventID: r.EventID, RecordID: r.RecordID, User: r.User, UserDomain: r.UserDomain,
		UserSID: r.UserSID, SubjectUser: r.SubjectUser, LogonType: r.LogonType, LogonID: r.LogonID,
		SrcIP: r.SrcIP, SrcPort: r.SrcPort, DstIP: r.DstIP, DstPort: r.DstPort,
		Protocol: r.Protocol, Action: r.Action, BytesOut: r.BytesOut, BytesIn: r.BytesIn,
		Process: r.Process, ParentProcess: r.ParentProcess, CommandLine: r.CommandLine,
		ScriptText: r.ScriptText, SessionID: r.SessionID, Operator: r.Operator,
		Message: r.Message, Evidence: r.Evidence, Offset: r.Offset,
	}
	if withFields {
		d, err := event.UnmarshalFieldsString(r.Fields)
		if err != nil {
			return fmt.Errorf("fields of %s@%d: %v", r.Evidence, r.Offset, err)
		}
		ev.Fields = d
	}
	return nil
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
	w     *parquet.GenericWriter[eventRow]
	buf   []eventRow
	n     int64
}

// NewEventWriter starts the parts for one evidence file. name must be
// stable for the file's content (the ingest driver uses its SHA-256), so
// re-ingesting replaces instead of duplicating.
func (s *Store) NewEventWriter(name string) *EventWriter {
	return &EventWriter{store: s, name: name, parts: map[string]*partFile{}}
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
		p = &partFile{tmp: f, final: filepath.Join(dir, w.name+".parquet"),
			w: parquet.NewGenericWriter[eventRow](f, writerOptions()...), buf: make([]eventRow, 0, 1024)}
		w.parts[src] = p
		w.order = append(w.order, src)
	}
	p.buf = p.buf[:len(p.buf)+1]
	if err := toRow(ev, &p.buf[len(p.buf)-1]); err != nil {
		p.buf = p.buf[:len(p.buf)-1]
		return err
	}
	p.n++
	if len(p.buf) == cap(p.buf) {
		return p.flush()
	}
	return nil
}

func (p *partFile) flush() error {
	if len(p.buf) == 0 {
		return nil
	}
	_, err := p.w.Write(p.buf)
	p.buf = p.buf[:0]
	return err
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
			err = p.w.Close()
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
			out = append(out, [2]string{src, f})
		}
	}
	return out, nil
}

func wantFields(cols []string) bool {
	if len(cols) == 0 {
		return true
	}
	for _, c := range cols {
		if c == "fields" {
			return true
		}
	}
	return false
}

func (s *Store) scan(ctx context.Context, opts ScanOptions, fn func(ev *event.Event) error) error {
	files, err := s.partFiles(opts.Sources)
	if err != nil {
		return err
	}
	withFields := wantFields(opts.Columns)
	var ev event.Event
	rows := make([]eventRow, 256)
	from, to := int64(0), int64(0)
	if !opts.From.IsZero() {
		from = opts.From.UnixNano()
	}
	if !opts.To.IsZero() {
		to = opts.To.UnixNano()
	}
	for _, sf := range files {
		src, path := sf[0], sf[1]
		if err := s.scanFile(ctx, src, path, from, to, withFields, rows, &ev, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) scanFile(ctx context.Context, src, path string, from, to int64, withFields bool, rows []eventRow, ev *event.Event, fn func(*event.Event) error) error {
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
	md := pf.Metadata()
	timeCol := -1
	for i, c := range pf.Schema().Columns() {
		if len(c) == 1 && c[0] == "time" {
			timeCol = i
		}
	}
	for gi, rg := range pf.RowGroups() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if timeCol >= 0 && gi < len(md.RowGroups) && (from != 0 || to != 0) {
			stats := md.RowGroups[gi].Columns[timeCol].MetaData.Statistics
			if len(stats.MinValue) == 8 && len(stats.MaxValue) == 8 {
				lo := int64(binary.LittleEndian.Uint64(stats.MinValue))
				hi := int64(binary.LittleEndian.Uint64(stats.MaxValue))
				if (to != 0 && lo >= to) || (from != 0 && hi < from) {
					continue
				}
			}
		}
		r := parquet.NewGenericRowGroupReader[eventRow](rg)
		for {
			n, err := r.Read(rows)
			for i := 0; i < n; i++ {
				row := &rows[i]
				if (from != 0 && row.Time < from) || (to != 0 && row.Time >= to) {
					continue
				}
				if e := fromRow(row, src, ev, withFields); e != nil {
					r.Close()
					return e
				}
				if e := fn(ev); e != nil {
					r.Close()
					return e
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return fmt.Errorf("%s: row group %d: %v", path, gi, err)
			}
		}
		r.Close()
	}
	return nil
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
