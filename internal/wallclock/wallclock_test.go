package wallclock

import (
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no tzdata for %s: %v", name, err)
	}
	return l
}

func wall(t *testing.T, s string) time.Time {
	t.Helper()
	w, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// The expected instants are worked out by hand from each zone's rules
// (offsets before and after the change), not from Go's time.Date.
func TestResolveAcrossDST(t *testing.T) {
	cases := []struct {
		zone, wall, utc string
		kind            Kind
	}{
		// Europe/Berlin: +01 → +02 on 2026-03-29 02:00, +02 → +01 on 2026-10-25 03:00.
		{"Europe/Berlin", "2026-01-15 12:00:00", "2026-01-15 11:00:00", Exact},
		{"Europe/Berlin", "2026-07-15 12:00:00", "2026-07-15 10:00:00", Exact},
		{"Europe/Berlin", "2026-03-29 01:59:59", "2026-03-29 00:59:59", Exact},
		{"Europe/Berlin", "2026-03-29 02:30:00", "2026-03-29 01:30:00", Skipped},
		{"Europe/Berlin", "2026-03-29 03:00:00", "2026-03-29 01:00:00", Exact},
		{"Europe/Berlin", "2026-10-25 01:59:59", "2026-10-24 23:59:59", Exact},
		{"Europe/Berlin", "2026-10-25 02:30:00", "2026-10-25 00:30:00", Repeated},
		{"Europe/Berlin", "2026-10-25 03:30:00", "2026-10-25 02:30:00", Exact},
		// America/New_York: -05 → -04 on 2026-03-08 02:00, -04 → -05 on 2026-11-01 02:00.
		{"America/New_York", "2026-03-08 02:15:00", "2026-03-08 07:15:00", Skipped},
		{"America/New_York", "2026-03-08 03:15:00", "2026-03-08 07:15:00", Exact},
		{"America/New_York", "2026-11-01 01:30:00", "2026-11-01 05:30:00", Repeated},
		{"America/New_York", "2026-11-01 02:30:00", "2026-11-01 07:30:00", Exact},
		// Australia/Sydney (southern hemisphere): +11 → +10 on 2026-04-05 03:00,
		// +10 → +11 on 2026-10-04 02:00.
		{"Australia/Sydney", "2026-04-05 02:30:00", "2026-04-04 15:30:00", Repeated},
		{"Australia/Sydney", "2026-04-05 03:30:00", "2026-04-04 17:30:00", Exact},
		{"Australia/Sydney", "2026-10-04 02:30:00", "2026-10-03 16:30:00", Skipped},
		{"Australia/Sydney", "2026-01-10 12:00:00", "2026-01-10 01:00:00", Exact},
		{"Australia/Sydney", "2026-07-10 12:00:00", "2026-07-10 02:00:00", Exact},
		// Asia/Tokyo: no DST, +09 all year.
		{"Asia/Tokyo", "2026-03-29 02:30:00", "2026-03-28 17:30:00", Exact},
		{"Asia/Tokyo", "2026-10-25 02:30:00", "2026-10-24 17:30:00", Exact},
		// Pacific/Apia skipped 2011-12-30 whole (-10 → +14): read with -10.
		{"Pacific/Apia", "2011-12-30 12:00:00", "2011-12-30 22:00:00", Skipped},
	}
	for _, c := range cases {
		loc := zone(t, c.zone)
		got, kind := Resolve(wall(t, c.wall), loc, time.Time{})
		if !got.Equal(wall(t, c.utc)) || got.Location() != time.UTC || kind != c.kind {
			t.Errorf("%s %s: got %s (%v), want %s UTC (%v)", c.zone, c.wall, got, kind, c.utc, c.kind)
		}
	}
	if got, k := Resolve(wall(t, "2026-10-25 02:30:00"), nil, time.Time{}); !got.Equal(wall(t, "2026-10-25 02:30:00")) || k != Exact {
		t.Errorf("nil zone: %s %v", got, k)
	}
}

// A log running through the repeated hour keeps its order: after the
// clock went back, the repeated readings are the second occurrence; a
// file that starts inside the repeated hour gets the first.
func TestClockKeepsFileOrder(t *testing.T) {
	for _, c := range []struct {
		zone  string
		walls []string
		utc   []string
	}{
		{"Europe/Berlin",
			[]string{"2026-10-25 02:10:00", "2026-10-25 02:50:00", "2026-10-25 02:05:00", "2026-10-25 02:40:00", "2026-10-25 03:10:00"},
			[]string{"2026-10-25 00:10:00", "2026-10-25 00:50:00", "2026-10-25 01:05:00", "2026-10-25 01:40:00", "2026-10-25 02:10:00"}},
		{"Australia/Sydney",
			[]string{"2026-04-05 02:50:00", "2026-04-05 02:10:00"},
			[]string{"2026-04-04 15:50:00", "2026-04-04 16:10:00"}},
		{"America/New_York",
			[]string{"2026-11-01 01:30:00", "2026-11-01 01:20:00"},
			[]string{"2026-11-01 05:30:00", "2026-11-01 06:20:00"}},
	} {
		clk := New(zone(t, c.zone))
		for i, w := range c.walls {
			got, _ := clk.Wall(wall(t, w))
			if !got.Equal(wall(t, c.utc[i])) {
				t.Errorf("%s #%d %s: got %s, want %s UTC", c.zone, i, w, got, c.utc[i])
			}
		}
		if clk.Repeated != int64(len(c.walls))-btoi(c.zone == "Europe/Berlin") {
			t.Errorf("%s: %d repeated", c.zone, clk.Repeated)
		}
	}
}

func btoi(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func TestClockLeapSecond(t *testing.T) {
	got, _ := New(nil).At(2016, time.December, 31, 23, 59, 60, 0)
	if !got.Equal(time.Date(2016, 12, 31, 23, 59, 59, 0, time.UTC)) {
		t.Errorf("got %s", got)
	}
}

func TestYear(t *testing.T) {
	utc := func(s string) time.Time {
		x, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	berlin := zone(t, "Europe/Berlin")
	for _, c := range []struct {
		name   string
		ref    Ref
		mo     time.Month
		d, h   int
		want   int
		howHas string
	}{
		// Year roll-over: a file dated 30 Dec whose year-less lines run into January.
		{"anchor before new year", Ref{Anchor: utc("2025-12-30T12:00:00Z")}, time.December, 31, 23, 2025, "same file"},
		{"anchor, line after new year", Ref{Anchor: utc("2025-12-30T12:00:00Z")}, time.January, 2, 1, 2026, "same file"},
		{"anchor wins over window", Ref{Anchor: utc("2019-06-02T12:00:00Z"), From: utc("2026-01-01T00:00:00Z")}, time.June, 3, 11, 2019, "same file"},
		// A window over new year: December is the earlier year, January the later.
		{"window december", Ref{From: utc("2025-11-01T00:00:00Z"), To: utc("2026-02-01T00:00:00Z")}, time.December, 31, 23, 2025, "case window"},
		{"window january", Ref{From: utc("2025-11-01T00:00:00Z"), To: utc("2026-02-01T00:00:00Z")}, time.January, 1, 0, 2026, "case window"},
		{"outside window: nearest", Ref{From: utc("2026-03-01T00:00:00Z"), To: utc("2026-04-01T00:00:00Z")}, time.December, 20, 0, 2025, "case window"},
		{"window from only", Ref{From: utc("2026-10-01T00:00:00Z")}, time.February, 1, 0, 2027, "case window"},
		// Berlin midnight of 1 Jan is still 31 Dec in UTC: the zone counts.
		{"window edge in zone", Ref{From: utc("2025-12-31T23:00:00Z"), To: utc("2026-01-02T00:00:00Z")}, time.January, 1, 0, 2026, "case window"},
		// Current date: the latest year at most a month ahead.
		{"now: december last year", Ref{Now: utc("2026-01-15T00:00:00Z")}, time.December, 30, 0, 2025, "current date"},
		{"now: this january", Ref{Now: utc("2026-01-15T00:00:00Z")}, time.January, 10, 0, 2026, "current date"},
		{"now: within a month ahead", Ref{Now: utc("2026-01-15T00:00:00Z")}, time.February, 10, 0, 2026, "current date"},
		{"now: beyond a month", Ref{Now: utc("2026-01-15T00:00:00Z")}, time.March, 1, 0, 2025, "current date"},
	} {
		y, how := c.ref.Year(berlin, c.mo, c.d, c.h, 0, 0)
		if y != c.want || !strings.Contains(how, c.howHas) {
			t.Errorf("%s: year %d (%s), want %d (%s)", c.name, y, how, c.want, c.howHas)
		}
	}
}

func TestAnchor(t *testing.T) {
	for _, c := range []struct{ head, want string }{
		{"Jun  2 10:00:00 fw x: 2019-06-02 10:00:00 ERROR\n", "2019-06-02"},
		{"Oct 03 2018 17:34:08: %ASA-4-106023", "2018-10-03"},
		{"date=2024/02/29 time=1", "2024-02-29"},
		{"Jun  2 10:00:00 no year here", ""},
		{"2023-02-29 is not a day", ""},
		{"", ""},
	} {
		got := Anchor([]byte(c.head))
		s := ""
		if !got.IsZero() {
			s = got.Format("2006-01-02")
		}
		if s != c.want {
			t.Errorf("Anchor(%q) = %q, want %q", c.head, s, c.want)
		}
	}
}

func TestValid(t *testing.T) {
	for _, c := range []struct {
		y, mo, d, h, mi, s int
		want               bool
	}{
		{2024, 2, 29, 0, 0, 0, true}, {2025, 2, 29, 0, 0, 0, false}, {2025, 13, 1, 0, 0, 0, false},
		{2025, 1, 0, 0, 0, 0, false}, {2025, 1, 1, 24, 0, 0, false}, {2025, 1, 1, 23, 59, 60, true},
		{0, 1, 1, 0, 0, 0, false},
	} {
		if got := Valid(c.y, c.mo, c.d, c.h, c.mi, c.s); got != c.want {
			t.Errorf("Valid%v = %v", c, got)
		}
	}
}

// BenchmarkClockAt places a day of one-second readings in Berlin, as a
// firewall log written in local time is read (every line goes through
// At).
func BenchmarkClockAt(b *testing.B) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Skip(err)
	}
	c := New(loc)
	for i := 0; i < b.N; i++ {
		s := i % 86400
		c.At(2026, time.July, 15, s/3600, s/60%60, s%60, 0)
	}
}

// resolveRef is Resolve as first written (every probe's offset read back
// on its own, candidates collected and sorted): TestResolveMatchesRef
// holds the deduplicating Resolve to it.
func resolveRef(wall time.Time, loc *time.Location, after time.Time) (time.Time, Kind) {
	y, mo, d := wall.Date()
	h, mi, s := wall.Clock()
	asUTC := time.Date(y, mo, d, h, mi, s, wall.Nanosecond(), time.UTC)
	if loc == nil || loc == time.UTC {
		return asUTC, Exact
	}
	same := func(t time.Time) bool {
		l := t.In(loc)
		return l.Year() == asUTC.Year() && l.YearDay() == asUTC.YearDay() && l.Hour() == asUTC.Hour() &&
			l.Minute() == asUTC.Minute() && l.Second() == asUTC.Second()
	}
	var cands []time.Time
	for _, h := range []time.Duration{-26, -12, 0, 12, 26} {
		_, off := asUTC.Add(h * time.Hour).In(loc).Zone()
		t := asUTC.Add(-time.Duration(off) * time.Second)
		if !same(t) {
			continue
		}
		dup := false
		for _, o := range cands {
			dup = dup || o.Equal(t)
		}
		if !dup {
			cands = append(cands, t)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Before(cands[j]) })
	switch len(cands) {
	case 0:
		_, before := asUTC.Add(-26 * time.Hour).In(loc).Zone()
		return asUTC.Add(-time.Duration(before) * time.Second), Skipped
	case 1:
		return cands[0], Exact
	}
	early, late := cands[0], cands[len(cands)-1]
	if !after.IsZero() && early.Before(after) && !late.Before(after) {
		return late, Repeated
	}
	return early, Repeated
}

// TestResolveMatchesRef compares Resolve with resolveRef on random wall
// times, most of them near a DST change, in zones with gaps, overlaps,
// half-hour changes and a skipped day, with and without a previous
// instant.
func TestResolveMatchesRef(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Apia", "Asia/Tokyo", "America/Santiago"} {
		loc := zone(t, name)
		var changes []time.Time // the zone's offset changes, 2010-2030
		for at := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() < 2030; at = at.Add(time.Hour) {
			if _, a := at.In(loc).Zone(); func() bool { _, b := at.Add(time.Hour).In(loc).Zone(); return a != b }() {
				changes = append(changes, at)
			}
		}
		if len(changes) == 0 && name != "Asia/Tokyo" {
			t.Fatalf("%s: no offset changes found", name)
		}
		for i := 0; i < 4000; i++ {
			var w time.Time
			if len(changes) > 0 && i%4 != 0 {
				c := changes[rng.Intn(len(changes))].In(loc)
				c = c.Add(time.Duration(rng.Intn(4*3600)-2*3600) * time.Second)
				w = time.Date(c.Year(), c.Month(), c.Day(), c.Hour(), c.Minute(), c.Second(), 0, time.UTC)
			} else {
				w = time.Date(2010+rng.Intn(20), time.Month(1+rng.Intn(12)), 1+rng.Intn(28), rng.Intn(24), rng.Intn(60), rng.Intn(60), 0, time.UTC)
			}
			var after time.Time
			if i%2 == 1 {
				after = w.Add(time.Duration(rng.Intn(6*3600)-4*3600) * time.Second)
			}
			got, gk := Resolve(w, loc, after)
			want, wk := resolveRef(w, loc, after)
			if !got.Equal(want) || gk != wk || got.Location() != want.Location() {
				t.Fatalf("%s %s after %s: got %s %v, want %s %v", name, w.Format(time.DateTime), after, got, gk, want, wk)
			}
		}
	}
}
