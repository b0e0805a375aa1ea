package rule

import (
	"fmt"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// TestResult is the outcome of one embedded test.
type TestResult struct {
	Rule *Rule
	Test Test
	Pass bool
	// Got says what happened ("matched", "did not match", "2 findings").
	Got string
}

// RunTests runs a rule's embedded tests. A spoor rule is recompiled for
// its tests against its test_case (or the default case), so the outcome
// does not depend on the case being hunted. Single-event tests pass the
// filter and the condition as the hunt does; threshold tests feed the
// events in order to fresh state and count the findings.
func RunTests(r *Rule) ([]TestResult, error) {
	tr := r
	if r.def != nil {
		cfg := r.def.testCase
		if cfg == nil {
			cfg = caseconf.Default()
		}
		built, errs := build(cfg, r.def)
		if len(errs) > 0 {
			return nil, fmt.Errorf("compiling for test_case: %v", errs[0])
		}
		tr = built
	}
	var out []TestResult
	for _, t := range r.Tests {
		res := TestResult{Rule: r, Test: t}
		if st := tr.State(); st != nil {
			n := 0
			emit := func(event.Finding) { n++ }
			for _, ev := range t.Events {
				if Evaluate(tr, ev) {
					st.Observe(ev, emit)
				}
			}
			st.Flush(emit)
			res.Pass = n == t.Count
			res.Got = fmt.Sprintf("%d findings, want %d", n, t.Count)
		} else {
			all := true
			for _, ev := range t.Events {
				if Evaluate(tr, ev) != t.Match {
					all = false
				}
			}
			res.Pass = all
			switch {
			case all && t.Match:
				res.Got = "matched"
			case all:
				res.Got = "did not match"
			case t.Match:
				res.Got = "did not match, want a match"
			default:
				res.Got = "matched, want no match"
			}
		}
		out = append(out, res)
	}
	return out, nil
}
