package analyzers_test

import (
	"testing"

	"github.com/spoor-dfir/spoor/analyzers"
	"github.com/spoor-dfir/spoor/analyzers/akit"
)

// TestDescribeListsAll keeps `spoor rules list` honest: every analyzer
// All runs (the shared session set reports no findings and is not one a
// person picks) is described, in the same order.
func TestDescribeListsAll(t *testing.T) {
	var run []string
	for _, a := range analyzers.All(nil) {
		if a.Name() != akit.SessionSetName {
			run = append(run, a.Name())
		}
	}
	desc := analyzers.Describe()
	if len(desc) != len(run) {
		t.Fatalf("Describe lists %d analyzers, All runs %d: %v", len(desc), len(run), run)
	}
	for i, d := range desc {
		if d.Name != run[i] || d.What == "" {
			t.Errorf("Describe[%d] = %q (%q), All runs %q there", i, d.Name, d.What, run[i])
		}
	}
}
