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

// TestEscapesReachNoTerminal: evidence fields and file names carrying
// escape sequences (clear screen, window title, OSC 8 link, bare CR) are
// shown escaped by ingest, run and query --format table (issue #13,
// case 6).
func TestEscapesReachNoTerminal(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev")
	os.MkdirAll(ev, 0o755)
	evil := "\x1b[2J\x1b]0;owned\x07\x1b]8;;http://x.example/\x1b\\click\x1b]8;;\x1b\\\rFAKE\u202e"
	row := "545021772\tHOST" + evil + "\t13-08-2025 10:12:35\t13-08-2025 10:25:05\tadmin" + evil + "\tRemoteControl\t{584b3e18-f0af-49e9-af50-f4de1b82e8df}\t\n"
	bad := "not a row" + evil + "\n"
	name := "Connections_incoming" + "\x1b[31m" + ".txt"
	if err := os.WriteFile(filepath.Join(ev, name), []byte(row+row+bad), 0o644); err != nil {
		t.Skipf("file system refuses the name: %v", err)
	}
	st := filepath.Join(dir, "store")
	var all strings.Builder
	for _, args := range [][]string{
		{"ingest", "--store", st, ev},
		{"run", "--store", st, ev},
		{"query", "--store", st, "--format", "table", "true"},
	} {
		code, out, errb := spoor(t, args...)
		if code != 0 && code != 3 {
			t.Fatalf("%v: exit %d: %s", args, code, errb)
		}
		all.WriteString(out + errb)
		for _, b := range []byte{0x1b, '\r', 0x07} {
			if strings.IndexByte(out+errb, b) >= 0 {
				t.Errorf("%s: raw byte %#x reached the terminal:\n%q", args[0], b, out+errb)
			}
		}
	}
	if !strings.Contains(all.String(), `\x1b`) || !strings.Contains(all.String(), `admin\x1b[2J`) {
		t.Errorf("escaped evidence not shown:\n%s", all.String())
	}
}

// TestBrokenRuleExitsNonZero: a rule over its evaluation budget is
// reported by name and the hunt exits non-zero unless --keep-going; the
// other rules' findings are still stored (issue #13, case 8).
func TestBrokenRuleExitsNonZero(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev")
	os.MkdirAll(ev, 0o755)
	src, err := os.ReadFile("../../testdata/evtx/new-user-security.evtx")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ev, "s.evtx"), src, 0o644)
	rules := filepath.Join(dir, "bomb.yml")
	os.WriteFile(rules, []byte(`rules:
  - id: string-bomb
    title: builds a huge string
    severity: low
    condition: len(repeat(repeat("a", 1000), 1000000)) > 0
  - id: reduce-bomb
    title: builds a string in a loop
    severity: low
    condition: 'len(reduce(1..100000, #acc + repeat("x", 1000), "")) > 0'
`), 0o644)
	st := filepath.Join(dir, "store")
	if code, _, e := spoor(t, "ingest", "--store", st, ev); code != 0 {
		t.Fatalf("ingest: %d %s", code, e)
	}
	code, _, e := spoor(t, "hunt", "--store", st, "--rules", rules)
	if code != exitError || !strings.Contains(e, "rule string-bomb") || !strings.Contains(e, "rule reduce-bomb") || !strings.Contains(e, "budget") {
		t.Fatalf("hunt with bombs: exit %d, stderr %s", code, e)
	}
	code, _, e = spoor(t, "hunt", "--store", st, "--rules", rules, "--keep-going")
	if code != exitOK || !strings.Contains(e, "rule string-bomb") {
		t.Fatalf("hunt --keep-going: exit %d, stderr %s", code, e)
	}
	code, _, e = spoor(t, "hunt", "--store", st)
	if code != exitOK || strings.Contains(e, "budget") {
		t.Fatalf("built-in rules alone: exit %d, stderr %s", code, e)
	}
}
