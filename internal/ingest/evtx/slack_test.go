package evtx

import (
	"os"
	"testing"
)

// TestSlack: with Slack set, records in chunk slack space come in addition
// to the allocated ones, which all stay.
func TestSlack(t *testing.T) {
	total, extra := 0, 0
	for _, fn := range corpusFiles(t) {
		data, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		base, _ := parseAll(t, New(), fn, data, 2)
		p := New()
		p.Slack = true
		more, _ := parseAll(t, p, fn, data, 2)
		seen := map[int64]int{}
		for _, e := range more {
			seen[e.RecordID]++
		}
		for _, e := range base {
			if seen[e.RecordID] == 0 {
				t.Errorf("%s: record %d lost with Slack", fn, e.RecordID)
			}
		}
		total += len(base)
		extra += len(more) - len(base)
	}
	t.Logf("%d records, %d more from slack space", total, extra)
}
