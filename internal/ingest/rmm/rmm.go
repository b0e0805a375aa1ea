// Package rmm reads the local logs of remote-management and remote-access
// agents (AnyDesk, TeamViewer) and turns the ScreenConnect client's
// Application-log events into normalised RMM session events.
//
// Every recognised line becomes one event with Source "rmm"; lines that
// say something about a remote session (start, end, login, file transfer,
// command) carry an action, the others keep action empty so nothing the
// agent wrote is lost. Lines that cannot be read are counted with a reason.
package rmm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/textio"
	"github.com/spoor-dfir/spoor/internal/wallclock"
)

// Parsers is the explicit list of the RMM text-log parsers, most specific
// first.
func Parsers() []input.Parser {
	return []input.Parser{
		anydeskTrace{},
		anydeskConnTrace{},
		tvConnections{},
		tvLogfile{},
	}
}

// maxMessage bounds Event.Message; the full text stays in the evidence.
const maxMessage = 4096

// headLines bounds how many lines Detect looks at.
const headLines = 40

// Skip reasons shared by the parsers.
const (
	reasonBlank     = "blank line"
	reasonTooLong   = "line over 1 MiB"
	reasonUnknown   = "unrecognised line"
	reasonTimestamp = "bad timestamp"
	reasonPadding   = "NUL padding"
	reasonBanner    = "banner line"
	reasonHeader    = "header line"
)

// head returns the sniffed text of in. Agents that preallocate their
// trace files leave runs of NUL bytes, which make the driver treat the head
// as binary; those bytes carry nothing, so they are dropped here.
func head(in *input.Input) []byte {
	if in.Text != nil {
		return in.Text
	}
	if len(in.Raw) == 0 || !bytes.Contains(in.Raw, []byte{0}) {
		return nil
	}
	raw := bytes.ReplaceAll(in.Raw, []byte{0}, nil)
	if len(raw) < 16 || !utf8.Valid(trimCut(raw)) {
		return nil
	}
	return raw
}

// trimCut drops a multi-byte sequence cut off at the end of a head.
func trimCut(b []byte) []byte {
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return b
}

// headSplit returns up to n lines of the head; the last (possibly cut
// off) line is dropped when the head was truncated.
func headSplit(text []byte, n int, truncated bool) [][]byte {
	lines := bytes.Split(text, []byte("\n"))
	if truncated && len(lines) > 1 {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[:n]
	}
	for i, l := range lines {
		lines[i] = bytes.TrimRight(l, "\r")
	}
	return lines
}

func truncatedHead(in *input.Input) bool {
	return in.Size < 0 || int64(len(in.Raw)) < in.Size
}

// headLine is how a Detect judges one non-blank head line.
type headLine int

const (
	lineOther  headLine = iota // not this format: counts against it
	lineMatch                  // a line of this format
	lineIgnore                 // neutral (banners, headers)
)

// countHead classifies the non-blank lines of in's head (see headSplit)
// and counts the matches and the others. Without a readable head both
// are zero, which every Detect scores as 0.
func countHead(in *input.Input, classify func(s string) headLine) (ok, other int) {
	text := head(in)
	if text == nil {
		return 0, 0
	}
	for _, l := range headSplit(text, headLines, truncatedHead(in)) {
		s := string(l)
		if strings.TrimSpace(s) == "" {
			continue
		}
		switch classify(s) {
		case lineMatch:
			ok++
		case lineOther:
			other++
		}
	}
	return ok, other
}

// bound cuts s to maxMessage bytes on a rune boundary.
func bound(s string) string { return textio.Truncate(s, maxMessage) }

// lineFunc handles one line (without end-of-line bytes, NULs removed).
type lineFunc func(n int64, line string) error

// eachLine runs fn over every line of in, counting the lines fn cannot use
// via st; blank and over-long lines are counted here.
func eachLine(ctx context.Context, in *input.Input, st *input.Stats, fn lineFunc) error {
	rc, err := in.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", in.Path, err)
	}
	defer rc.Close()
	r := textio.NewReader(rc)
	for {
		if r.Line()%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b, err := r.Next()
		if errors.Is(err, textio.ErrLineTooLong) {
			st.Skip(reasonTooLong, fmt.Sprintf("%s:%d: line over 1 MiB skipped", in.Path, r.Line()))
			continue
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &input.ParseError{File: in.Path, Line: r.Line() + 1, Err: err}
		}
		n := r.Line()
		if bytes.IndexByte(b, 0) >= 0 {
			b = bytes.ReplaceAll(b, []byte{0}, nil)
			if len(bytes.TrimSpace(b)) == 0 {
				st.Skip(reasonPadding, "")
				continue
			}
		}
		if len(bytes.TrimSpace(b)) == 0 {
			st.Skip(reasonBlank, "")
			continue
		}
		if err := fn(n, string(b)); err != nil {
			return err
		}
	}
}

// clock reads zone-less local times for one file, noting the zone once
// and every DST oddity.
type clock struct {
	wc *wallclock.Clock
	st *input.Stats
}

func newClock(in *input.Input, format string, st *input.Stats) *clock {
	loc := time.UTC
	if in.Config != nil {
		loc = in.Config.SourceLocation(format, event.SourceRMM)
	}
	st.TimeZone = loc.String()
	st.Note("%s has no time zone; read as %s (case config source_timezones)", format, loc)
	return &clock{wc: wallclock.New(loc), st: st}
}

// parse reads value with layout as wall-clock time in the file's zone.
func (c *clock) parse(layout, value string, line int64, path string) (time.Time, bool) {
	w, err := time.Parse(layout, value)
	if err != nil {
		return time.Time{}, false
	}
	t, kind := c.wc.Wall(w)
	if note := kind.Note(); note != "" {
		c.st.Note("%s: %s", path, note)
		c.st.Error(fmt.Sprintf("%s:%d: %s in %s", path, line, note, c.wc.Loc))
	}
	return t, true
}

// lineTime is parse for a line's own timestamp: an unreadable one skips
// the line, counted under reasonTimestamp.
func (c *clock) lineTime(layout, value string, line int64, path string) (time.Time, bool) {
	t, ok := c.parse(layout, value, line, path)
	if !ok {
		c.st.Skip(reasonTimestamp, fmt.Sprintf("%s:%d: bad timestamp %q", path, line, value))
	}
	return t, ok
}

// base fills the columns every RMM event has.
func base(in *input.Input, format string, n int64, line string) *event.Event {
	return &event.Event{
		Source:   event.SourceRMM,
		Format:   format,
		Evidence: in.Path,
		Offset:   n,
		Message:  bound(strings.TrimSpace(line)),
	}
}

// emitOne sends ev on and keeps the counters right.
func emitOne(emit func(*event.Event) error, st *input.Stats, ev *event.Event) error {
	st.Records++
	st.Saw(ev.Time)
	return emit(ev)
}
