package simulate

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestFleetLabelsAndDeterminism: the answer key names the requested number
// of touched clients with orders 1..n whose first attack sessions come one
// after another, untouched clients carry the normal scenario (no attack
// labels), and the same seed writes the same bytes.
func TestFleetLabelsAndDeterminism(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	o := FleetOptions{Out: a, Clients: 4, Touched: 2, Seed: 3, Hosts: 6, Days: 8}
	sum, err := Fleet(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Clients) != 4 {
		t.Fatalf("%d clients", len(sum.Clients))
	}
	var firsts [3]int64
	n := 0
	for _, c := range sum.Clients {
		labels, err := os.ReadFile(filepath.Join(a, c.Client, "labels.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if !c.Touched {
			if c.Scenario != "normal" || len(labels) != 0 || c.First != nil || c.Order != 0 {
				t.Errorf("untouched %+v has %d bytes of labels", c, len(labels))
			}
			continue
		}
		n++
		if c.Order < 1 || c.Order > 2 || c.First == nil || !bytes.Contains(labels, []byte(`"rmm_session"`)) {
			t.Fatalf("touched %+v", c)
		}
		firsts[c.Order] = c.First.Unix()
	}
	if n != 2 || firsts[1] >= firsts[2] {
		t.Fatalf("%d touched, first sessions %v: want 2, the first reached before the second", n, firsts)
	}
	o.Out = b
	if _, err := Fleet(o); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"fleet-labels.jsonl", "client-01/case.yaml", "client-03/labels.jsonl"} {
		x, _ := os.ReadFile(filepath.Join(a, rel))
		y, _ := os.ReadFile(filepath.Join(b, rel))
		if len(x) == 0 && rel == "fleet-labels.jsonl" || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed (or is empty)", rel)
		}
	}
	if _, err := Fleet(FleetOptions{Out: t.TempDir(), Clients: 3, Touched: 4}); err == nil {
		t.Error("more touched than clients should be an error")
	}
}
