// Package input is the contract between the ingest driver and the format
// parsers: what a parser is handed (one evidence file, already opened for
// it, with a sniffed head), and what it reports back (events and stats).
//
// It is a leaf package so that parser packages (evtx, firewall, rmm,
// textfmt) and the driver (ingest) can both import it.
package input

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// HeadSize is how many bytes of a file are sniffed for detection.
const HeadSize = 64 << 10

// Input is one evidence file handed to a parser.
type Input struct {
	// Path is the evidence path as recorded in events and the manifest:
	// relative to the PATH argument, with that argument's base name first
	// (evtx/deepbluecli/new-user-security.evtx; triage.zip/C/…/Security.evtx).
	Path string
	// Size is the (uncompressed, if known) size in bytes; -1 if unknown.
	Size int64
	// Raw is up to HeadSize bytes from the start of the (decompressed)
	// content, exactly as stored.
	Raw []byte
	// Text is Raw decoded to UTF-8 (UTF-16 with BOM converted, UTF-8 BOM
	// dropped), or nil when the content looks binary.
	Text []byte
	// Open returns the (decompressed) content from its start. It may be
	// called more than once; each call returns a fresh reader.
	Open func() (io.ReadCloser, error)
	// Config is the case; parsers take zones for zone-less formats from
	// Config.SourceLocation.
	Config *caseconf.Config
	// Workers is how many goroutines the parser may use for this file.
	Workers int
}

// Parser reads one kind of evidence file.
type Parser interface {
	// Name is the format name recorded in the manifest and in Event.Format
	// (e.g. "evtx", "pfirewall", "fortigate", "anydesk-trace").
	Name() string
	// Detect says how sure the parser is that in is its format, from the
	// head alone: 0 = not mine; 100 = certain (magic number); values in
	// between for heuristics. Detect must be cheap and must not call Open.
	Detect(in *Input) int
	// Parse reads the whole file and calls emit once per event, in file
	// order. emit must not retain ev after it returns (the parser may reuse
	// it). A returned error means the file could not be read on; events
	// already emitted stand. Records that could not be parsed are counted
	// in st with a reason, not returned as errors.
	Parse(ctx context.Context, in *Input, emit func(ev *event.Event) error, st *Stats) error
}

// Stats is what a parser reports about one file.
type Stats struct {
	Records int64 // events emitted
	Skipped int64 // records or lines not turned into events
	// Recovered counts emitted records that are carved remains (e.g.
	// EVTX chunk slack), possibly stale copies rather than current ones.
	Recovered int64
	Reasons   map[string]int64 // skip reason → count
	Notes     []string         // things an investigator should know (e.g. time zone assumed)
	Errors    []string         // problems with position: "record 1234: …", "line 17: …"
	TimeZone  string           // zone assumed for zone-less timestamps, if any
	First     time.Time
	Last      time.Time
}

// maxErrors bounds the error list per file; the rest are only counted.
const maxErrors = 50

// Skip counts one skipped record with a reason, and keeps the first few
// detailed messages (with position) as errors.
func (s *Stats) Skip(reason string, detail string) {
	s.Skipped++
	if s.Reasons == nil {
		s.Reasons = map[string]int64{}
	}
	s.Reasons[reason]++
	if detail != "" {
		s.Error(detail)
	}
}

// Error records a problem (with its position in the message).
func (s *Stats) Error(msg string) {
	if len(s.Errors) < maxErrors {
		s.Errors = append(s.Errors, msg)
	} else if len(s.Errors) == maxErrors {
		s.Errors = append(s.Errors, "… more errors not listed (see counts by reason)")
	}
}

// Note records a remark once.
func (s *Stats) Note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	for _, x := range s.Notes {
		if x == n {
			return
		}
	}
	s.Notes = append(s.Notes, n)
}

// Saw widens the first/last time range with t (zero times are ignored).
func (s *Stats) Saw(t time.Time) {
	if t.IsZero() {
		return
	}
	if s.First.IsZero() || t.Before(s.First) {
		s.First = t
	}
	if s.Last.IsZero() || t.After(s.Last) {
		s.Last = t
	}
}

// ReasonList renders Reasons sorted by name, for messages.
func (s *Stats) ReasonList() string {
	keys := make([]string, 0, len(s.Reasons))
	for k := range s.Reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", k, s.Reasons[k])
	}
	return b.String()
}

// ParseError is a problem at a position in an evidence file, in the
// manner of encoding/csv's ParseError.
type ParseError struct {
	File   string
	Line   int64 // 1-based line, or 0
	Offset int64 // byte offset or record id when Line is 0
	Err    error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s@%d: %v", e.File, e.Offset, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }
