package event

import (
	"math/rand"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestCompareFindingsKeys checks each key of the one finding order in
// turn: two findings differing only in a later key are ordered by it.
func TestCompareFindingsKeys(t *testing.T) {
	t0 := time.Date(2024, 3, 9, 1, 0, 0, 0, time.UTC)
	base := Finding{Time: t0, RuleID: "r", Analyzer: "rule", Host: "h", User: "u", Summary: "s", ID: "f-1",
		Refs: []Ref{{Evidence: "e", Offset: 5}}}
	cases := []struct {
		name string
		less func(f *Finding)
	}{
		{"time", func(f *Finding) { f.Time = t0.Add(-time.Second) }},
		{"rule", func(f *Finding) { f.RuleID = "a" }},
		{"analyzer", func(f *Finding) { f.Analyzer = "a" }},
		{"host", func(f *Finding) { f.Host = "a" }},
		{"user", func(f *Finding) { f.User = "a" }},
		{"ref evidence", func(f *Finding) { f.Refs = []Ref{{Evidence: "a", Offset: 9}} }},
		{"ref offset", func(f *Finding) { f.Refs = []Ref{{Evidence: "e", Offset: 4}} }},
		{"no ref", func(f *Finding) { f.Refs = nil }},
		{"summary", func(f *Finding) { f.Summary = "a" }},
		{"id", func(f *Finding) { f.ID = "f-0" }},
	}
	for _, c := range cases {
		a := base
		c.less(&a)
		if CompareFindings(&a, &base) >= 0 || CompareFindings(&base, &a) <= 0 {
			t.Errorf("%s: a finding smaller in it does not sort first", c.name)
		}
	}
	// An earlier key wins over every later one.
	a, b := base, base
	a.Time, b.RuleID = t0.Add(-time.Second), "z"
	a.RuleID = "zz"
	if CompareFindings(&a, &b) >= 0 {
		t.Error("time does not come before rule")
	}
	if c := base; CompareFindings(&c, &base) != 0 {
		t.Error("equal findings do not compare equal")
	}
}

// TestSortFindingsIsStableSort compares SortFindings (indices, then one
// move per finding) with the standard library's stable sort by the same
// order on random findings with many ties.
func TestSortFindingsIsStableSort(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	t0 := time.Date(2024, 3, 9, 1, 0, 0, 0, time.UTC)
	for round := 0; round < 60; round++ {
		n := rng.Intn(300)
		if round%10 == 9 {
			n = parallelSortMin + rng.Intn(3*parallelSortMin) // the sort on two goroutines
		}
		fs := make([]Finding, n)
		for i := range fs {
			fs[i] = Finding{Time: t0.Add(time.Duration(rng.Intn(4)) * time.Second), RuleID: string(rune('a' + rng.Intn(3))),
				Host: string(rune('a' + rng.Intn(2))), Title: string(rune('A' + i%26)), Tags: []string{strconv.Itoa(i)}}
			if rng.Intn(2) == 0 {
				fs[i].Refs = []Ref{{Evidence: "e", Offset: int64(rng.Intn(3))}}
			}
		}
		want := slices.Clone(fs)
		slices.SortStableFunc(want, func(a, b Finding) int { return CompareFindings(&a, &b) })
		SortFindings(fs)
		for i := range fs {
			if fs[i].Tags[0] != want[i].Tags[0] {
				t.Fatalf("round %d: position %d differs from a stable sort", round, i)
			}
		}
	}
}
