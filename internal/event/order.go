package event

import (
	"slices"
	"strings"

	"github.com/spoor-dfir/spoor/internal/parallel"
)

// CompareFindings is the one order of findings, used wherever findings
// are ordered (the stored findings, an analyzer's output, the timeline):
// by time, then rule, analyzer, host, user, first reference (evidence,
// offset), summary and ID. Findings equal in all of these are the same
// finding for every reader, so any order among them prints alike.
func CompareFindings(a, b *Finding) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.RuleID, b.RuleID); c != 0 {
		return c
	}
	if c := strings.Compare(a.Analyzer, b.Analyzer); c != 0 {
		return c
	}
	if c := strings.Compare(a.Host, b.Host); c != 0 {
		return c
	}
	if c := strings.Compare(a.User, b.User); c != 0 {
		return c
	}
	ra, rb := firstRef(a), firstRef(b)
	if c := strings.Compare(ra.Evidence, rb.Evidence); c != 0 {
		return c
	}
	if ra.Offset != rb.Offset {
		if ra.Offset < rb.Offset {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Summary, b.Summary); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func firstRef(f *Finding) Ref {
	if len(f.Refs) == 0 {
		return Ref{}
	}
	return f.Refs[0]
}

// parallelSortMin is the number of findings from which SortFindings
// sorts on two goroutines.
const parallelSortMin = 1 << 13

// SortFindings orders findings by CompareFindings, stably (ties keep
// their order). It sorts indices, n log n, then moves each finding once:
// a stable sort of the large structs themselves costs n log² n moves.
func SortFindings(fs []Finding) {
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	cmp := func(i, j int) int {
		if c := CompareFindings(&fs[i], &fs[j]); c != 0 {
			return c
		}
		return i - j
	}
	if len(fs) < parallelSortMin {
		slices.SortFunc(order, cmp)
	} else {
		// A hunt sorts its findings while nothing else can run: the two
		// halves on two cores, then one merge. cmp is a total order (ties
		// broken by index), so the result is the one sort's.
		half := len(order) / 2
		parallel.Both(func() { slices.SortFunc(order[:half], cmp) }, func() { slices.SortFunc(order[half:], cmp) })
		merged := make([]int, 0, len(order))
		a, b := order[:half], order[half:]
		for len(a) > 0 && len(b) > 0 {
			if cmp(a[0], b[0]) <= 0 {
				merged, a = append(merged, a[0]), a[1:]
			} else {
				merged, b = append(merged, b[0]), b[1:]
			}
		}
		order = append(append(merged, a...), b...)
	}
	// Position k takes fs[order[k]]: follow each cycle of the
	// permutation, one finding held aside (no second copy of them all).
	for start := range order {
		if order[start] < 0 {
			continue
		}
		held := fs[start]
		for j := start; ; {
			src := order[j]
			order[j] = -1
			if src == start {
				fs[j] = held
				break
			}
			fs[j] = fs[src]
			j = src
		}
	}
}
