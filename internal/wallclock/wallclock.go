// Package wallclock turns the local wall-clock times evidence writes
// (no zone, sometimes no year) into UTC instants, under one policy for
// every ingester:
//
//   - A time in a skipped hour (spring gap) does not exist; it is read
//     with the offset in force before the change, as a clock that was
//     not yet set forward meant it (02:30 on the Berlin spring day is
//     01:30 UTC, i.e. 03:30 CEST).
//   - A time in a repeated hour (autumn overlap) exists twice; it is the
//     first occurrence, unless the previous time of the same file
//     already lies after that one and the second occurrence does not go
//     back before it — so a log running through the repeated hour stays
//     in order. Without a previous time it is the first occurrence.
//   - A time without a year gets the year inferred against a reference
//     (see [Ref.Year]): a full date from the same file, else the case
//     window, else the current date.
//
// Go's time.Date leaves the first two cases unspecified (and picks the
// second occurrence of a repeated hour), so spoor never places a wall
// time with it.
package wallclock

import (
	"slices"
	"time"
)

// Kind says how a wall time was placed.
type Kind int

const (
	// Exact: the wall time exists once in the zone.
	Exact Kind = iota
	// Repeated: the wall time exists twice (DST overlap); the policy chose one.
	Repeated
	// Skipped: the wall time does not exist (DST gap); read with the offset before the change.
	Skipped
)

// Note is the human-readable statement of what the policy did for k,
// "" for Exact.
func (k Kind) Note() string {
	switch k {
	case Repeated:
		return "ambiguous local time (DST overlap): first occurrence used unless that goes back in time"
	case Skipped:
		return "nonexistent local time (DST gap): read with the offset before the change"
	}
	return ""
}

// Clock places the wall times of one file, in file order: it remembers
// the last instant it returned so that a repeated hour keeps the file's
// order. The zero Clock reads UTC. Not safe for concurrent use.
type Clock struct {
	// Loc is the zone the wall times were written in; nil means UTC.
	Loc *time.Location

	last time.Time
	// Repeated and Skipped count the times that fell in a DST overlap or gap.
	Repeated, Skipped int64
}

// New returns a Clock for wall times written in loc (nil: UTC).
func New(loc *time.Location) *Clock { return &Clock{Loc: loc} }

// Wall places the reading given by the date and clock fields of w (its
// own location is ignored).
func (c *Clock) Wall(w time.Time) (time.Time, Kind) {
	y, mo, d := w.Date()
	h, mi, s := w.Clock()
	return c.At(y, mo, d, h, mi, s, w.Nanosecond())
}

// At places the wall time y-mo-d h:mi:s.ns. The fields must form a valid
// date and time (see [Valid]); a leap second (s = 60) is read as :59.
func (c *Clock) At(y int, mo time.Month, d, h, mi, s, ns int) (time.Time, Kind) {
	if s == 60 {
		s = 59
	}
	t, k := Resolve(time.Date(y, mo, d, h, mi, s, ns, time.UTC), c.Loc, c.last)
	switch k {
	case Repeated:
		c.Repeated++
	case Skipped:
		c.Skipped++
	}
	c.last = t
	return t, k
}

// Resolve places wall (its fields, read as a reading of loc's clock;
// loc nil means UTC) under the package policy, without state: after is
// the previous instant of the same file (zero: none), used only to
// choose between the two occurrences of a repeated time. The result is
// in UTC.
func Resolve(wall time.Time, loc *time.Location, after time.Time) (time.Time, Kind) {
	y, mo, d := wall.Date()
	h, mi, s := wall.Clock()
	asUTC := time.Date(y, mo, d, h, mi, s, wall.Nanosecond(), time.UTC)
	if loc == nil || loc == time.UTC {
		return asUTC, Exact
	}
	// The offsets in force around the reading cover every transition
	// near it (a day either side also covers zones that skipped a whole
	// day); each offset gives a candidate instant, which is one if it
	// reads back as the same wall clock. Offsets are deduplicated before
	// the read-back (one offset, one instant): this runs for every line
	// of a log written in local time.
	var offs [len(probes)]int
	n := 0
	for _, p := range probes {
		_, off := asUTC.Add(p).In(loc).Zone()
		if !slices.Contains(offs[:n], off) {
			offs[n] = off
			n++
		}
	}
	var cands [len(probes)]time.Time
	nc := 0
	for _, off := range offs[:n] {
		if t := asUTC.Add(-time.Duration(off) * time.Second); sameWall(t, loc, y, mo, d, h, mi, s) {
			cands[nc] = t
			nc++
		}
	}
	switch nc {
	case 0:
		// offs[0] is the offset a day before (probes[0]).
		return asUTC.Add(-time.Duration(offs[0]) * time.Second), Skipped
	case 1:
		return cands[0], Exact
	}
	slices.SortFunc(cands[:nc], time.Time.Compare)
	early, late := cands[0], cands[nc-1]
	if !after.IsZero() && early.Before(after) && !late.Before(after) {
		return late, Repeated
	}
	return early, Repeated
}

// probes are the distances from a reading at which Resolve asks for the
// zone's offset; the first is a day before, the offset a skipped time is
// read with.
var probes = [...]time.Duration{-26 * time.Hour, -12 * time.Hour, 0, 12 * time.Hour, 26 * time.Hour}

// sameWall reports whether t reads as y-mo-d h:mi:s on loc's clock.
func sameWall(t time.Time, loc *time.Location, y int, mo time.Month, d, h, mi, s int) bool {
	l := t.In(loc)
	ly, lmo, ld := l.Date()
	lh, lmi, ls := l.Clock()
	return ly == y && lmo == mo && ld == d && lh == h && lmi == mi && ls == s
}

// Valid reports whether y-mo-d h:mi:s is a real date and time (s may be
// 60, a leap second as some syslogs write it).
func Valid(y, mo, d, h, mi, s int) bool {
	if y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 {
		return false
	}
	return d <= time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
