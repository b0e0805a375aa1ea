package firewall

import (
	"regexp"
	"time"

	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// clock turns the timestamps firewalls write into UTC instants.
//
// Zone-less wall-clock times are read in the zone the case config gives
// the format (or the firewall source); UTC by default. Around DST changes
// a wall-clock time may not exist (spring gap) or exist twice (autumn
// overlap): a gap time is read with the offset in force before the change
// (02:30 in Berlin on the spring day becomes 03:30 CEST, as the device's
// clock most likely meant); an overlap time is the first occurrence,
// unless the previous event of the file already lies after it and the
// second occurrence does not break the file order — so a log running
// through the repeated hour stays in order.
//
// Syslog headers without a year (RFC 3164) get one inferred, in this
// order: from the first full date found in the file's head (other dated
// lines of the same file), else the case's analysis window (the year that
// puts the time inside it), else the current date (the latest year that
// is not more than a month in the future — the usual syslog rule; not
// reproducible across years, so a note says to set a window).
type clock struct {
	loc    *time.Location
	st     *input.Stats
	format string
	last   time.Time

	usedLocal bool
	ambiguous int64
	gaps      int64

	from, to time.Time // case window
	anchor   time.Time // a full date seen in the file's head
	yearless int64
	yearHow  string
	now      func() time.Time
}

func newClock(in *input.Input, format string, st *input.Stats) *clock {
	c := &clock{loc: time.UTC, st: st, format: format, now: time.Now}
	if in != nil && in.Config != nil {
		c.loc = in.Config.SourceLocation(format, "firewall")
		c.from, c.to = in.Config.Window.Bounds()
	}
	if in != nil {
		c.anchor = findAnchor(in.Text)
	}
	return c
}

// finish records what was assumed, once per file.
func (c *clock) finish() {
	if c.st == nil {
		return
	}
	if c.usedLocal {
		c.st.TimeZone = c.loc.String()
		c.st.Note("timestamps without zone read as %s (case config source_timezones[%q] or [firewall]; default UTC)", c.loc, c.format)
	}
	if c.gaps > 0 {
		c.st.Note("%d timestamps fell in a DST gap of %s; read with the offset before the change", c.gaps, c.loc)
	}
	if c.ambiguous > 0 {
		c.st.Note("%d timestamps fell in a DST overlap of %s; resolved by file order (first occurrence unless that goes back in time)", c.ambiguous, c.loc)
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
	if s == 60 { // a leap second as written by some syslogs
		s = 59
	}
	c.usedLocal = true
	wall := time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	t := c.resolve(wall)
	c.last = t
	return t, true
}

// resolve finds the instant whose wall clock in c.loc is wall.
func (c *clock) resolve(wall time.Time) time.Time {
	if c.loc == time.UTC {
		return wall
	}
	// Offsets in force a little before and after: at most one change
	// lies between them for any real zone.
	_, o1 := wall.Add(-26 * time.Hour).In(c.loc).Zone()
	_, o2 := wall.Add(26 * time.Hour).In(c.loc).Zone()
	try := func(o int) (time.Time, bool) {
		t := wall.Add(-time.Duration(o) * time.Second)
		_, oo := t.In(c.loc).Zone()
		return t, oo == o
	}
	t1, ok1 := try(o1)
	if o1 == o2 {
		if ok1 {
			return t1
		}
		// A change of less than 52 h ago/ahead that we did not see
		// (zone tables with two changes in two days): fall back to Go.
		return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), c.loc)
	}
	t2, ok2 := try(o2)
	switch {
	case ok1 && ok2:
		c.ambiguous++
		early, late := t1, t2
		if late.Before(early) {
			early, late = late, early
		}
		if !c.last.IsZero() && early.Before(c.last) && !late.Before(c.last) {
			return late
		}
		return early
	case ok1:
		return t1
	case ok2:
		return t2
	default:
		c.gaps++
		return t1
	}
}

// yearlessTime resolves an RFC 3164 time (no year).
func (c *clock) yearlessTime(mo, d, h, mi, s, ns int) (time.Time, bool) {
	if !validDate(2000, mo, d, h, mi, s) { // 2000 is a leap year: Feb 29 passes here
		return time.Time{}, false
	}
	c.yearless++
	y := c.guessYear(mo, d, h, mi, s)
	if !validDate(y, mo, d, h, mi, s) { // Feb 29 in a common year
		return time.Time{}, false
	}
	return c.local(y, mo, d, h, mi, s, ns)
}

func (c *clock) guessYear(mo, d, h, mi, s int) int {
	at := func(y int) time.Time { return time.Date(y, time.Month(mo), d, h, mi, s, 0, c.loc) }
	nearest := func(ref time.Time) int {
		best, bestD := ref.Year(), time.Duration(1<<62)
		for y := ref.Year() - 1; y <= ref.Year()+1; y++ {
			dd := at(y).Sub(ref)
			if dd < 0 {
				dd = -dd
			}
			if dd < bestD {
				best, bestD = y, dd
			}
		}
		return best
	}
	switch {
	case !c.anchor.IsZero():
		c.yearHow = "dated lines in the same file (" + c.anchor.Format("2006-01-02") + ")"
		return nearest(c.anchor)
	case !c.from.IsZero() || !c.to.IsZero():
		c.yearHow = "the case window"
		lo, hi := c.from, c.to
		if lo.IsZero() {
			lo = hi.AddDate(-1, 0, 0)
		}
		if hi.IsZero() {
			hi = lo.AddDate(1, 0, 0)
		}
		for y := hi.Year(); y >= lo.Year(); y-- {
			t := at(y)
			if !t.Before(lo) && t.Before(hi) {
				return y
			}
		}
		return nearest(lo)
	default:
		now := c.now()
		c.yearHow = "the current date (" + now.Format("2006") + "; set a case window for reproducible years)"
		y := now.Year()
		if at(y).After(now.AddDate(0, 1, 0)) {
			y--
		}
		return y
	}
}

func validDate(y, mo, d, h, mi, s int) bool {
	if y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 {
		return false
	}
	return d <= time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

var anchorRE = regexp.MustCompile(`\b((?:19|20)\d\d)[-/](0[1-9]|1[0-2])[-/](0[1-9]|[12]\d|3[01])\b|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ 0-3]\d) ((?:19|20)\d\d) \d\d:`)

// findAnchor returns the first full date in the head of a file, the
// reference for syslog times without a year.
func findAnchor(text []byte) time.Time {
	if len(text) == 0 {
		return time.Time{}
	}
	m := anchorRE.FindSubmatch(text)
	if m == nil {
		return time.Time{}
	}
	if len(m[1]) > 0 {
		y, mo, d := atoiB(m[1]), atoiB(m[2]), atoiB(m[3])
		if validDate(y, mo, d, 0, 0, 0) {
			return time.Date(y, time.Month(mo), d, 12, 0, 0, 0, time.UTC)
		}
		return time.Time{}
	}
	mo := monthIndex(string(m[4]))
	d := atoiB([]byte(trimSpaceB(m[5])))
	y := atoiB(m[6])
	if validDate(y, mo, d, 0, 0, 0) {
		return time.Date(y, time.Month(mo), d, 12, 0, 0, 0, time.UTC)
	}
	return time.Time{}
}

func atoiB(b []byte) int {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
		if n > 1e9 {
			return -1
		}
	}
	return n
}

func trimSpaceB(b []byte) string {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return string(b)
}
