package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStaleFindingsRefused: a report or timeline written after a new
// ingest but before a new hunt would state results "based on N records"
// from a hunt that never saw them; it refuses, naming the cause, unless
// --allow-stale, which says so on stderr (issue #13, case 5).
func TestStaleFindingsRefused(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../../testdata/evtx/new-user-security.evtx")
	if err != nil {
		t.Fatal(err)
	}
	ev1, ev2 := filepath.Join(dir, "ev1"), filepath.Join(dir, "ev2")
	os.MkdirAll(ev1, 0o755)
	os.MkdirAll(ev2, 0o755)
	os.WriteFile(filepath.Join(ev1, "a.evtx"), src, 0o644)
	other, err := os.ReadFile("../../testdata/evtx/sliver-sysmon.evtx")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ev2, "b.evtx"), other, 0o644)
	st := filepath.Join(dir, "store")
	for _, args := range [][]string{{"ingest", "--store", st, ev1}, {"hunt", "--store", st}} {
		if code, _, e := spoor(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, e)
		}
	}
	if code, _, e := spoor(t, "report", "--store", st, "-o", filepath.Join(dir, "r.md")); code != 0 {
		t.Fatalf("fresh report: exit %d: %s", code, e)
	}
	if code, _, e := spoor(t, "ingest", "--store", st, ev2); code != 0 {
		t.Fatalf("second ingest: exit %d: %s", code, e)
	}
	for _, args := range [][]string{
		{"report", "--store", st, "-o", filepath.Join(dir, "r2.md")},
		{"timeline", "--store", st, "-o", filepath.Join(dir, "t.csv")},
	} {
		code, _, e := spoor(t, args...)
		if code == 0 || !strings.Contains(e, "stale findings") || !strings.Contains(e, "run spoor hunt again") && !strings.Contains(e, "Run spoor hunt again") {
			t.Errorf("%v over stale findings: exit %d, stderr %q", args[0], code, e)
		}
		code, _, e = spoor(t, append(args, "--allow-stale")...)
		if code != 0 || !strings.Contains(e, "WARNING: stale findings") {
			t.Errorf("%v --allow-stale: exit %d, stderr %q", args[0], code, e)
		}
	}
	if code, _, e := spoor(t, "hunt", "--store", st); code != 0 {
		t.Fatalf("hunt: exit %d: %s", code, e)
	}
	if code, _, e := spoor(t, "report", "--store", st, "-o", filepath.Join(dir, "r3.md")); code != 0 || strings.Contains(e, "stale") {
		t.Fatalf("report after a new hunt: exit %d: %s", code, e)
	}
}
