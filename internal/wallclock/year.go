package wallclock

import (
	"regexp"
	"time"
)

// Ref is what a year-less time (RFC 3164 syslog "Oct 25 02:30:00", a
// format whose layout has no year) is dated against. Year tries, in
// order: Anchor, the window From–To, Now.
type Ref struct {
	// Anchor is a full date written in the same file (see [Anchor]); the
	// year-less time gets the year that puts it nearest to it, so a file
	// running over New Year gets both years right.
	Anchor time.Time
	// From and To are the case's analysis window (either may be zero);
	// the time gets the latest year that puts it inside, else the year
	// nearest to the window.
	From, To time.Time
	// Now is the current date, the last resort (the usual syslog rule:
	// the latest year that is at most a month in the future). Not
	// reproducible across years, which is why the how of Year says so.
	// Zero means time.Now().
	Now time.Time
}

// Year infers the year of the wall time mo-d h:mi:s written in loc and
// says in how which reference gave it (for a note to the user).
func (r Ref) Year(loc *time.Location, mo time.Month, d, h, mi, s int) (year int, how string) {
	if loc == nil {
		loc = time.UTC
	}
	at := func(y int) time.Time { return time.Date(y, mo, d, h, mi, s, 0, loc) }
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
	case !r.Anchor.IsZero():
		return nearest(r.Anchor), "dated lines in the same file (" + r.Anchor.Format("2006-01-02") + ")"
	case !r.From.IsZero() || !r.To.IsZero():
		lo, hi := r.From, r.To
		if lo.IsZero() {
			lo = hi.AddDate(-1, 0, 0)
		}
		if hi.IsZero() {
			hi = lo.AddDate(1, 0, 0)
		}
		for y := hi.Year(); y >= lo.Year(); y-- {
			if t := at(y); !t.Before(lo) && t.Before(hi) {
				return y, "the case window"
			}
		}
		return nearest(lo), "the case window"
	default:
		now := r.Now
		if now.IsZero() {
			now = time.Now()
		}
		y := now.Year()
		if at(y).After(now.AddDate(0, 1, 0)) {
			y--
		}
		return y, "the current date (" + now.Format("2006") + "; set a case window for reproducible years)"
	}
}

var anchorRE = regexp.MustCompile(`\b((?:19|20)\d\d)[-/](0[1-9]|1[0-2])[-/](0[1-9]|[12]\d|3[01])\b|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ 0-3]\d) ((?:19|20)\d\d) \d\d:`)

var months = map[string]int{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// Anchor returns the first full date (2024-06-02, 2024/06/02 or
// "Jun  2 2024 10:") in head, the start of a file, as noon UTC of that
// day; zero if there is none. It is the Ref.Anchor for the file's
// year-less times.
func Anchor(head []byte) time.Time {
	m := anchorRE.FindSubmatch(head)
	if m == nil {
		return time.Time{}
	}
	var y, mo, d int
	if len(m[1]) > 0 {
		y, mo, d = atoi(m[1]), atoi(m[2]), atoi(m[3])
	} else {
		day := m[5]
		if day[0] == ' ' {
			day = day[1:]
		}
		y, mo, d = atoi(m[6]), months[string(m[4])], atoi(day)
	}
	if !Valid(y, mo, d, 0, 0, 0) {
		return time.Time{}
	}
	return time.Date(y, time.Month(mo), d, 12, 0, 0, 0, time.UTC)
}

// atoi reads the digits the anchor pattern matched.
func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}
