package rule

import (
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
)

func TestBuiltinLoadsAndPasses(t *testing.T) {
	rs, errs := Builtin(caseconf.Default())
	for _, e := range errs {
		t.Errorf("load: %v", e)
	}
	if len(rs) < 10 {
		t.Fatalf("built-in pack has %d rules, want at least 10", len(rs))
	}
	for _, r := range rs {
		if len(r.Tests) < 2 {
			t.Errorf("%s: %d tests; every built-in rule needs a match and a non-match", r.ID, len(r.Tests))
		}
		res, err := RunTests(r)
		if err != nil {
			t.Errorf("%s: %v", r.ID, err)
			continue
		}
		for _, x := range res {
			if !x.Pass {
				t.Errorf("%s:%d %s / %q: %s", r.File, x.Test.Line, r.ID, x.Test.Name, x.Got)
			}
		}
	}
}
