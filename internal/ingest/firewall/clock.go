package firewall

import (
	"time"

	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/wallclock"
)

// clock turns the timestamps firewalls write into UTC instants, under
// the wallclock policy (DST gaps and overlaps, missing years), and notes
// once per file what it assumed.
//
// Zone-less wall-clock times are read in the zone the case config gives
// the format (or the firewall source); UTC by default. Syslog headers
// without a year (RFC 3164) are dated against the first full date in the
// file's head, else the case window, else the current date.
type clock struct {
	wc     *wallclock.Clock
	st     *input.Stats
	format string

	usedLocal bool
	ref       wallclock.Ref
	yearless  int64
	yearHow   string
}

func newClock(in *input.Input, format string, st *input.Stats) *clock {
	c := &clock{wc: wallclock.New(time.UTC), st: st, format: format}
	if in != nil && in.Config != nil {
		c.wc.Loc = in.Config.SourceLocation(format, "firewall")
		c.ref.From, c.ref.To = in.Config.Window.Bounds()
	}
	if in != nil {
		c.ref.Anchor = wallclock.Anchor(in.Text)
	}
	return c
}

// finish records what was assumed, once per file.
func (c *clock) finish() {
	if c.st == nil {
		return
	}
	loc := c.wc.Loc
	if c.usedLocal {
		c.st.TimeZone = loc.String()
		c.st.Note("timestamps without zone read as %s (case config source_timezones[%q] or [firewall]; default UTC)", loc, c.format)
	}
	if c.wc.Skipped > 0 {
		c.st.Note("%d timestamps fell in a DST gap of %s; read with the offset before the change", c.wc.Skipped, loc)
	}
	if c.wc.Repeated > 0 {
		c.st.Note("%d timestamps fell in a DST overlap of %s; resolved by file order (first occurrence unless that goes back in time)", c.wc.Repeated, loc)
	}
	if c.yearless > 0 {
		c.st.Note("%d syslog timestamps have no year; year inferred from %s", c.yearless, c.yearHow)
	}
}

// local resolves a wall-clock time in the source zone. ok is false for
// an impossible date or time (month 0, Feb 30, 25:00).
func (c *clock) local(y, mo, d, h, mi, s, ns int) (time.Time, bool) {
	if !validDate(y, mo, d, h, mi, s) {
		return time.Time{}, false
	}
	c.usedLocal = true
	t, _ := c.wc.At(y, time.Month(mo), d, h, mi, s, ns)
	return t, true
}

// yearlessTime resolves an RFC 3164 time (no year).
func (c *clock) yearlessTime(mo, d, h, mi, s, ns int) (time.Time, bool) {
	if !validDate(2000, mo, d, h, mi, s) { // 2000 is a leap year: Feb 29 passes here
		return time.Time{}, false
	}
	c.yearless++
	y, how := c.ref.Year(c.wc.Loc, time.Month(mo), d, h, mi, s)
	c.yearHow = how
	if !validDate(y, mo, d, h, mi, s) { // Feb 29 in a common year
		return time.Time{}, false
	}
	return c.local(y, mo, d, h, mi, s, ns)
}

// validDate is wallclock.Valid, under the short name the parsers use.
func validDate(y, mo, d, h, mi, s int) bool { return wallclock.Valid(y, mo, d, h, mi, s) }
