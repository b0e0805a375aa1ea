package textfmt

import "time"

// Wall turns a zone-less wall-clock reading (given as the fields of w,
// whose own location is ignored) into an instant in loc, deterministically
// across daylight-saving changes. Go's time.Date leaves the choice for
// skipped and repeated clock times unspecified, which would make two runs
// or two platforms disagree on evidence times; here a repeated time
// (autumn overlap) resolves to its first occurrence and a skipped time
// (spring gap) is read with the offset in force before the change, and
// note says which happened ("" when the reading was unambiguous).
func Wall(w time.Time, loc *time.Location) (t time.Time, note string) {
	if loc == nil {
		loc = time.UTC
	}
	y, mo, d := w.Date()
	h, mi, s := w.Clock()
	asUTC := time.Date(y, mo, d, h, mi, s, w.Nanosecond(), time.UTC)
	if loc == time.UTC {
		return asUTC, ""
	}
	// The offsets in force half a day either side cover any single
	// transition; each yields a candidate instant, valid if it reads back
	// as the same wall clock.
	_, before := asUTC.Add(-12 * time.Hour).In(loc).Zone()
	_, after := asUTC.Add(12 * time.Hour).In(loc).Zone()
	c1 := asUTC.Add(-time.Duration(before) * time.Second)
	c2 := asUTC.Add(-time.Duration(after) * time.Second)
	ok1, ok2 := sameWall(c1, loc, asUTC), sameWall(c2, loc, asUTC)
	switch {
	case ok1 && ok2 && !c1.Equal(c2):
		if c2.Before(c1) {
			c1 = c2
		}
		return c1.UTC(), "ambiguous local time (DST overlap): first occurrence used"
	case ok1:
		return c1.UTC(), ""
	case ok2:
		return c2.UTC(), ""
	default:
		return c1.UTC(), "nonexistent local time (DST gap): read with the offset before the change"
	}
}

func sameWall(t time.Time, loc *time.Location, wall time.Time) bool {
	l := t.In(loc)
	return l.Year() == wall.Year() && l.YearDay() == wall.YearDay() && l.Hour() == wall.Hour() &&
		l.Minute() == wall.Minute() && l.Second() == wall.Second()
}
