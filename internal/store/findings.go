package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/parallel"
)

// findingRow is the Parquet layout of a finding. Details and Refs are JSON
// so that any reader can use them without nested-type support.
type findingRow struct {
	ID         string   `parquet:"id"`
	Time       int64    `parquet:"time,timestamp(microsecond)"`
	End        int64    `parquet:"end,timestamp(microsecond)"`
	RuleID     string   `parquet:"rule_id,dict"`
	Title      string   `parquet:"title,dict"`
	Severity   string   `parquet:"severity,dict"`
	Tags       []string `parquet:"tags,list"`
	Host       string   `parquet:"host,dict"`
	User       string   `parquet:"user,dict"`
	Summary    string   `parquet:"summary"`
	Reason     string   `parquet:"reason,dict"`
	Analyzer   string   `parquet:"analyzer,dict"`
	IncidentID string   `parquet:"incident_id,dict"`
	SessionID  string   `parquet:"session_id"`
	Details    string   `parquet:"details"` // JSON object, ordered
	Refs       string   `parquet:"refs"`    // JSON array of event references
	// Triage's verdict (see event.Finding); empty when triage did not
	// judge the finding.
	SeverityOriginal string `parquet:"severity_original,dict"`
	Triage           string `parquet:"triage,dict"`
	Shape            string `parquet:"shape,dict"`
}

const findingsFile = "findings/part-0001.parquet"
const incidentsFile = "incidents.json"

// caseMetaKey is the findings file's key-value metadata entry holding the
// SHA-256 of the case file they were judged under ("" for the defaults).
const caseMetaKey = "spoor.case_sha256"

// FindingsCase is the SHA-256 of the case file the stored findings were
// judged under ("" for the defaults); ok is false when there are no
// findings.
func (s *Store) FindingsCase() (sha string, ok bool, err error) {
	f, err := os.Open(filepath.Join(s.Dir, findingsFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", false, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return "", false, fmt.Errorf("%s: %v", findingsFile, err)
	}
	sha, _ = pf.Lookup(caseMetaKey)
	return sha, true, nil
}

// micros is a finding time as stored: microseconds, as the events'.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

// WriteFindings atomically replaces the stored findings and incidents
// with the results of a hunt.
func (s *Store) WriteFindings(findings []event.Finding, incidents []event.Incident) error {
	dir := filepath.Join(s.Dir, "findings")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".part-0001.parquet.tmp-*")
	if err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	// The findings remember the case they were judged under: the same
	// events give other findings under other business hours or providers.
	s.mu.Lock()
	judged := ""
	if s.manifest.Case != nil {
		judged = s.manifest.Case.SHA256
	}
	s.mu.Unlock()
	opts := []parquet.WriterOption{parquet.Compression(zstdCodec), parquet.CreatedBy("spoor", "0.1", ""),
		parquet.KeyValueMetadata(caseMetaKey, judged)}
	// Text columns have no useful bounds (no reader prunes pages on a
	// summary's or a reference list's minimum, and the findings of a hunt
	// are read whole); working them out for every page was a tenth of
	// writing the findings, and the page headers' statistics (the same
	// bounds, worked out again per page) another twentieth. The times
	// keep both.
	for _, c := range []string{"id", "rule_id", "title", "severity", "host", "user", "summary", "reason", "analyzer", "incident_id",
		"session_id", "details", "refs", "severity_original", "triage", "shape"} {
		opts = append(opts, parquet.SkipPageBounds(c), parquet.SkipPageStatistics(c))
	}
	// The incidents are laid out beside the findings (a brute force's
	// incident lists a hundred thousand of them).
	if incidents == nil {
		incidents = []event.Incident{}
	}
	var ib []byte
	var ierr error
	parallel.Both(func() { ib, ierr = json.MarshalIndent(incidents, "", "  ") }, func() {
		err = writeFindingsFile(tmp, findings, opts)
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
	})
	if err == nil {
		err = ierr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.Dir, findingsFile)); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(s.Dir, incidentsFile), append(ib, '\n')); err != nil {
		return err
	}
	m := s.Manifest()
	hb, err := json.Marshal(HuntedState{Generation: m.Generation, Records: m.TotalRecords()})
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.Dir, huntedFile), append(hb, '\n'))
}

// parallelFindingsMin is the number of findings from which the halves
// are encoded on two cores (see writeFindingsFile).
const parallelFindingsMin = 16384

// writeFindingsFile writes findings as one Parquet file to out. Many
// findings are encoded in two halves at once, each into a file of its
// own in memory, whose row groups are then copied into out as they are
// (parquet-go splices compressed column chunks without decoding them):
// encoding was most of a hunt's last step, on one core while the other
// idled. The file then has a row group per half; readers see the same
// rows in the same order.
func writeFindingsFile(out io.Writer, findings []event.Finding, opts []parquet.WriterOption) error {
	if len(findings) < parallelFindingsMin {
		w := parquet.NewGenericWriter[findingRow](out, opts...)
		if err := writeFindingRows(w, findings); err != nil {
			return err
		}
		return w.Close()
	}
	half := (len(findings) + 1) / 2
	var bufs [2]bytes.Buffer
	var errs [2]error
	parallel.Chunks(len(findings), half, func(lo, hi int) {
		k := lo / half
		w := parquet.NewGenericWriter[findingRow](&bufs[k], opts...)
		if errs[k] = writeFindingRows(w, findings[lo:hi]); errs[k] == nil {
			errs[k] = w.Close()
		}
	})
	if err := errors.Join(errs[:]...); err != nil {
		return err
	}
	w := parquet.NewGenericWriter[findingRow](out, opts...)
	for k := range bufs {
		f, err := parquet.OpenFile(bytes.NewReader(bufs[k].Bytes()), int64(bufs[k].Len()))
		if err != nil {
			return err
		}
		for _, rg := range f.RowGroups() {
			if _, err := w.WriteRowGroup(rg); err != nil {
				return err
			}
		}
	}
	return w.Close()
}

// writeFindingRows lays findings out for Parquet (details and references
// as JSON) a chunk at a time on one goroutine while w encodes the chunk
// before on another, the chunks' memory reused: laying out all of them
// first made a slice of tens of megabytes, touched once.
func writeFindingRows(w *parquet.GenericWriter[findingRow], findings []event.Finding) error {
	const chunk = 4096
	type rows struct {
		rows []findingRow
		// text holds the chunk's details and references as JSON, which
		// its rows' strings point into: w copies them into its pages,
		// and the chunk comes back only after that (a string copied out
		// of a reused buffer per value was a tenth of writing them).
		text []byte
		err  error
	}
	free := make(chan *rows, 3)
	for range cap(free) {
		free <- &rows{rows: make([]findingRow, 0, chunk)}
	}
	full := make(chan *rows, cap(free))
	go func() {
		defer close(full)
		for lo := 0; lo < len(findings); lo += chunk {
			c := <-free
			c.rows, c.text = c.rows[:0], c.text[:0]
			for i := lo; i < min(lo+chunk, len(findings)); i++ {
				f := &findings[i]
				var details, refs string
				details, c.text, c.err = appendText(c.text, func(b []byte) ([]byte, error) { return event.AppendFields(b, f.Details) })
				if c.err == nil {
					refs, c.text, c.err = appendText(c.text, func(b []byte) ([]byte, error) { return event.AppendRefsJSON(b, f.Refs) })
				}
				if c.err != nil {
					break
				}
				c.rows = append(c.rows, findingRow{ID: f.ID, Time: micros(f.Time), End: micros(f.End), RuleID: f.RuleID, Title: f.Title,
					Severity: f.Severity, Tags: f.Tags, Host: f.Host, User: f.User, Summary: f.Summary, Reason: f.Reason,
					Analyzer: f.Analyzer, IncidentID: f.IncidentID, SessionID: f.SessionID, Details: details, Refs: refs,
					SeverityOriginal: f.SeverityOriginal, Triage: f.Triage, Shape: f.Shape})
			}
			full <- c
			if c.err != nil {
				return
			}
		}
	}()
	var first error
	for c := range full {
		if first == nil {
			first = c.err
		}
		if first == nil {
			_, first = w.Write(c.rows)
		}
		clear(c.rows) // the strings they hold are the findings' own
		free <- c
	}
	return first
}

// appendText appends what add writes to text and returns it as a string
// pointing into text's memory, which must not change while the string
// is in use. When text grows, the string keeps pointing at the array it
// was written in (left to the garbage collector once unused).
func appendText(text []byte, add func([]byte) ([]byte, error)) (string, []byte, error) {
	start := len(text)
	text, err := add(text)
	if err != nil || len(text) == start {
		return "", text, err
	}
	v := text[start:]
	return unsafe.String(&v[0], len(v)), text, nil
}

// huntedFile records which state of the store the findings came from.
const huntedFile = "findings/hunted.json"

// HuntedState is the store state a hunt saw: the manifest generation of
// its snapshot and the records that snapshot held.
type HuntedState struct {
	Generation int64 `json:"generation"`
	Records    int64 `json:"records"`
}

// FindingsStale says whether the stored findings were hunted over an older
// state of the store than this snapshot holds, and if so, why in words an
// investigator can act on. Findings of a store never hunted, or hunted
// before the generation was recorded, count as stale when events exist.
func (s *Store) FindingsStale() (bool, string) {
	m := s.Manifest()
	b, err := os.ReadFile(filepath.Join(s.Dir, huntedFile))
	if err != nil {
		if m.TotalRecords() == 0 {
			return false, ""
		}
		return true, fmt.Sprintf("no record of which ingest the stored findings were hunted over; the store now holds %d records: run spoor hunt again", m.TotalRecords())
	}
	var h HuntedState
	if err := json.Unmarshal(b, &h); err != nil {
		return true, fmt.Sprintf("%s: %v: run spoor hunt again", huntedFile, err)
	}
	if h.Generation == m.Generation {
		return false, ""
	}
	return true, fmt.Sprintf("the findings were hunted over %d records (ingest %d); the store now holds %d records (ingest %d): they do not cover events ingested since. Run spoor hunt again",
		h.Records, h.Generation, m.TotalRecords(), m.Generation)
}

// Findings reads the stored findings in their stored (deterministic)
// order; none stored yet is an empty list.
func (s *Store) Findings() ([]event.Finding, error) {
	path := filepath.Join(s.Dir, findingsFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := parquet.NewGenericReader[findingRow](f)
	defer r.Close()
	var out []event.Finding
	buf := make([]findingRow, 256)
	for {
		n, err := r.Read(buf)
		for i := 0; i < n; i++ {
			row := &buf[i]
			fd := event.Finding{ID: row.ID, Time: fromMicros(row.Time), End: fromMicros(row.End), RuleID: row.RuleID,
				Title: row.Title, Severity: row.Severity, Tags: append([]string(nil), row.Tags...), Host: row.Host, User: row.User,
				Summary: row.Summary, Reason: row.Reason, Analyzer: row.Analyzer, IncidentID: row.IncidentID, SessionID: row.SessionID,
				SeverityOriginal: row.SeverityOriginal, Triage: row.Triage, Shape: row.Shape}
			if fd.Details, err = event.UnmarshalFields([]byte(row.Details)); err != nil {
				return nil, fmt.Errorf("%s: finding %s details: %v", path, row.ID, err)
			}
			if err := json.Unmarshal([]byte(row.Refs), &fd.Refs); err != nil {
				return nil, fmt.Errorf("%s: finding %s refs: %v", path, row.ID, err)
			}
			out = append(out, fd)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	return out, nil
}

// Incidents reads the stored incidents.
func (s *Store) Incidents() ([]event.Incident, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, incidentsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []event.Incident
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %v", incidentsFile, err)
	}
	return out, nil
}
