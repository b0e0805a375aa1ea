package simulate

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/simulate/evtxw"
)

// Label is one line of labels.jsonl: a malicious session or event and the
// detection that should find it.
type Label struct {
	Kind      string     `json:"kind"`
	Host      string     `json:"host"`
	Time      time.Time  `json:"time"`
	End       *time.Time `json:"end,omitempty"`
	SessionID string     `json:"session_id,omitempty"`
	Detection string     `json:"detection"`
	Detail    string     `json:"detail,omitempty"`
	Evidence  []Evidence `json:"evidence"`

	seq uint64
}

// Evidence points at one record or line, with the path as spoor records
// it (relative to the collection root, "evidence/" first).
type Evidence struct {
	File     string `json:"file"`
	RecordID uint64 `json:"record_id,omitempty"`
	Line     int    `json:"line,omitempty"`
}

// entry is one record or line before it is written; entries are sorted by
// time (then creation order) per file, which fixes record ids and lines.
type entry struct {
	t      time.Time
	seq    uint64
	rec    *evtxw.Record
	line   string
	labels []*Label
}

// sink is one evidence file.
type sink struct {
	rel     string // relative to OUT/evidence, slash-separated
	evtx    bool
	header  string
	crlf    bool
	entries []*entry
}

// collector holds all evidence files and labels until they are written.
type collector struct {
	sinks  map[string]*sink
	labels []*Label
	seq    uint64
}

func newCollector() *collector { return &collector{sinks: map[string]*sink{}} }

func (c *collector) sink(rel string, evtx bool) *sink {
	s := c.sinks[rel]
	if s == nil {
		s = &sink{rel: rel, evtx: evtx}
		c.sinks[rel] = s
	}
	return s
}

// add appends an entry to the file rel and returns it for labelling.
func (c *collector) add(rel string, t time.Time, rec *evtxw.Record, line string) *entry {
	c.seq++
	e := &entry{t: t.UTC(), seq: c.seq, rec: rec, line: line}
	s := c.sink(rel, rec != nil)
	s.entries = append(s.entries, e)
	return e
}

// label registers a label; attach it to entries with mark.
func (c *collector) label(l *Label) *Label {
	c.seq++
	l.seq = c.seq
	l.Time = l.Time.UTC()
	c.labels = append(c.labels, l)
	return l
}

func mark(l *Label, es ...*entry) {
	for _, e := range es {
		if e != nil && l != nil {
			e.labels = append(e.labels, l)
		}
	}
}

// write writes every file under out/evidence, then labels.jsonl, and
// returns the number of bytes of evidence written.
func (c *collector) write(out string) (int64, error) {
	keys := make([]string, 0, len(c.sinks))
	for k := range c.sinks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var total int64
	for _, k := range keys {
		s := c.sinks[k]
		slices.SortStableFunc(s.entries, func(a, b *entry) int {
			if r := a.t.Compare(b.t); r != 0 {
				return r
			}
			return cmp.Compare(a.seq, b.seq)
		})
		path := filepath.Join(out, "evidence", filepath.FromSlash(s.rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return total, err
		}
		ev := "evidence/" + s.rel
		var err error
		if s.evtx {
			err = writeEvtx(path, ev, s)
		} else {
			err = writeText(path, ev, s)
		}
		if err != nil {
			return total, fmt.Errorf("%s: %w", path, err)
		}
		if fi, err := os.Stat(path); err == nil {
			total += fi.Size()
		}
	}
	return total, c.writeLabels(filepath.Join(out, "labels.jsonl"))
}

func writeEvtx(path, ev string, s *sink) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := evtxw.NewWriter(f)
	for _, e := range s.entries {
		e.rec.Time = e.t
		id, err := w.Write(e.rec)
		if err != nil {
			f.Close()
			return err
		}
		for _, l := range e.labels {
			l.Evidence = append(l.Evidence, Evidence{File: ev, RecordID: id})
		}
	}
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeText(path, ev string, s *sink) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	nl := "\n"
	if s.crlf {
		nl = "\r\n"
	}
	line := 0
	if s.header != "" {
		for _, h := range strings.Split(strings.TrimSuffix(s.header, "\n"), "\n") {
			bw.WriteString(h)
			bw.WriteString(nl)
			line++
		}
	}
	for _, e := range s.entries {
		line++
		bw.WriteString(e.line)
		bw.WriteString(nl)
		for _, l := range e.labels {
			l.Evidence = append(l.Evidence, Evidence{File: ev, Line: line})
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (c *collector) writeLabels(path string) error {
	ls := slices.Clone(c.labels)
	slices.SortStableFunc(ls, func(a, b *Label) int {
		if r := a.Time.Compare(b.Time); r != 0 {
			return r
		}
		return cmp.Compare(a.seq, b.seq)
	})
	var sb strings.Builder
	for _, l := range ls {
		slices.SortFunc(l.Evidence, func(a, b Evidence) int {
			if r := cmp.Compare(a.File, b.File); r != 0 {
				return r
			}
			if r := cmp.Compare(a.RecordID, b.RecordID); r != 0 {
				return r
			}
			return cmp.Compare(a.Line, b.Line)
		})
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		sb.Write(b)
		sb.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

// Windows event log file names (as in winevt\Logs) per channel.
const (
	chSecurity = "Security"
	chSystem   = "System"
	chApp      = "Application"
	chWinPS    = "Windows PowerShell"
	chPSOp     = "Microsoft-Windows-PowerShell/Operational"
	chSysmon   = "Microsoft-Windows-Sysmon/Operational"
	chLSM      = "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"
	chRCM      = "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"
)

// allChannels is the fixed list of channels written for every host, so
// that empty logs exist as they do on a real machine.
var allChannels = []string{chSecurity, chSystem, chApp, chWinPS, chPSOp, chSysmon, chLSM, chRCM}

// evtxRel is the collection path of a host's channel file.
func evtxRel(host, channel string) string {
	return host + "/Windows/System32/winevt/Logs/" + strings.ReplaceAll(channel, "/", "%4") + ".evtx"
}
