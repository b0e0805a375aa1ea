package main

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEverydayCommandsOnDemo runs search, logons, metrics and attack-layer
// on the demo case's store and checks each against what the store and the
// findings say by other routes (query, the manifest, the hunt summary).
func TestEverydayCommandsOnDemo(t *testing.T) {
	cs := comtechCase(t)
	caseFile := filepath.Join(cs, "case.yaml")
	st := filepath.Join(t.TempDir(), "store")
	if code, _, stderr := spoor(t, "run", "--store", st, cs); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}

	// logons: successes and failures add up to the 4624 and 4625 events a
	// query finds; provider accounts are marked.
	code, out, stderr := spoor(t, "logons", "--store", st, "--case", caseFile, "--system", "--format", "csv")
	if code != 0 {
		t.Fatalf("logons: %d %s", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var ok, bad int
	provider := false
	for _, r := range rows[1:] {
		s, _ := strconv.Atoi(r[5])
		f, _ := strconv.Atoi(r[6])
		ok, bad = ok+s, bad+f
		if strings.HasPrefix(strings.ToLower(r[0]), `corp\ct-`) {
			provider = true
			if r[9] == "" {
				t.Errorf("provider account not marked: %v", r)
			}
		}
	}
	count := func(expr string) int {
		_, qout, _ := spoor(t, "query", "--store", st, "--format", "jsonl", expr)
		return strings.Count(qout, "\n")
	}
	if want := count(`event_id == 4624 && channel == "Security"`); ok != want || ok == 0 {
		t.Errorf("logons count %d successes, query %d", ok, want)
	}
	if want := count(`event_id == 4625 && channel == "Security"`); bad != want || bad == 0 {
		t.Errorf("logons count %d failures, query %d", bad, want)
	}
	if !provider {
		t.Error("no provider account in the demo's logon summary")
	}

	// metrics: every table adds up to the store's event count.
	code, out, stderr = spoor(t, "metrics", "--store", st, "--case", caseFile, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("metrics: %d %s", code, stderr)
	}
	sums := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]string
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(m["events"])
		sums[m["table"]] += n
	}
	total := count(`true`)
	for _, tb := range []string{"eid", "channel", "host", "evidence"} {
		if sums[tb] != total {
			t.Errorf("metrics by %s add up to %d, store holds %d", tb, sums[tb], total)
		}
	}

	// search: every hit holds the term; the hits are what a query on the
	// columns that can hold an address finds (the address is in no other
	// column of the demo's events).
	code, out, stderr = spoor(t, "search", "--store", st, "--format", "jsonl", "203.0.113.91")
	if code != 0 {
		t.Fatalf("search: %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if !strings.Contains(l, "203.0.113.91") {
			t.Fatalf("search hit without the term: %s", l)
		}
	}
	if want := count(`src_ip == "203.0.113.91" || dst_ip == "203.0.113.91" || field("IpAddress") == "203.0.113.91"`); len(lines) < want || want == 0 {
		t.Errorf("search found %d events, query on the address columns %d", len(lines), want)
	}

	// attack-layer: a valid layer whose techniques are the findings'.
	code, out, stderr = spoor(t, "attack-layer", "--store", st, "--min-severity", "high")
	if code != 0 {
		t.Fatalf("attack-layer: %d %s", code, stderr)
	}
	var layer struct {
		Name       string                 `json:"name"`
		Versions   struct{ Layer string } `json:"versions"`
		Techniques []struct {
			TechniqueID string `json:"techniqueID"`
			Score       int    `json:"score"`
		} `json:"techniques"`
	}
	if err := json.Unmarshal([]byte(out), &layer); err != nil {
		t.Fatal(err)
	}
	if layer.Versions.Layer != "4.5" || len(layer.Techniques) == 0 || layer.Name == "" {
		t.Fatalf("layer %+v", layer)
	}
	for _, tq := range layer.Techniques {
		if tq.Score < 4 {
			t.Errorf("%s scored %d with --min-severity high", tq.TechniqueID, tq.Score)
		}
	}
	if code, _, _ := spoor(t, "attack-layer", "--store", st, "--min-severity", "severe"); code != exitUsage {
		t.Errorf("bad severity: exit %d", code)
	}
}
