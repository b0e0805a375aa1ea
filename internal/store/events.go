package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

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
var rowsPerGroup int64 = 128 << 10 // a variable so tests can make several row groups

// zstdCodec is shared by all writers: it pools its encoders, and an
// encoder is costly to make (it allocates its history window), so a codec
// per part file made new encoders for every evidence file.
var zstdCodec = &zstd.Codec{Level: zstd.SpeedFastest}

func writerOptions() []parquet.WriterOption {
	opts := []parquet.WriterOption{
		parquet.Compression(zstdCodec),
		parquet.MaxRowsPerRowGroup(rowsPerGroup),
		parquet.CreatedBy("spoor", "0.1", ""),
	}
	for _, col := range noBounds {
		opts = append(opts, parquet.SkipPageBounds(col))
	}
	return opts
}

// noBounds are the text columns written without min/max bounds (page and
// row-group statistics): free text, and values that vary from row to row
// within an evidence file, whose ranges span nearly everything and let a
// reader skip nothing. Computing them compared every value (6% of an
// ingest of dense real EVTX chunks). Columns that are constant or nearly
// so within a part (format, host, channel, provider, evidence) and the
// numbers (time above all: the hunt prunes row groups by it) keep theirs.
var noBounds = []string{"fields", "message", "script_text", "command_line",
	"user", "user_domain", "user_sid", "subject_user", "logon_id", "src_ip", "dst_ip",
	"protocol", "action", "process", "parent_process", "session_id", "operator"}

func toRow(ev *event.Event, r *eventRow) error {
	fields := ev.RawFields
	if ev.Fields != nil || fields == "" {
		b, err := event.MarshalFields(ev.Fields)
		if err != nil {
			return err
		}
		fields = string(b)
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
		Message: ev.Message, Evidence: ev.Evidence, Offset: ev.Offset, Fields: fields,
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
		if err := f.Chmod(0o644); err != nil { // readable by other users, as the store is
			f.Close()
			os.Remove(f.Name())
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
