package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIBasics: flags after the arguments, --version, rules list with
// the analyzers, query in time order and its vocabulary, and store and
// report files readable by others.
func TestCLIBasics(t *testing.T) {
	st := filepath.Join(t.TempDir(), "store")
	// Flags after the case folder, as people type them.
	if code, _, stderr := spoor(t, "run", comtechCase(t), "--store", st); code != 0 {
		t.Fatalf("run CASE --store S: exit %d\n%s", code, stderr)
	}
	for _, name := range []string{"manifest.json", "case.yaml", "incidents.json", "report.html", "report.appendix.json", "report.nis2.json"} {
		fi, err := os.Stat(filepath.Join(st, name))
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v, want mode 0644", name, fi.Mode(), err)
		}
	}
	parts, _ := filepath.Glob(filepath.Join(st, "events", "*", "*.parquet"))
	if len(parts) == 0 {
		t.Fatal("no event parts")
	}
	for _, p := range parts {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v", p, fi.Mode())
		}
	}

	if code, out, _ := spoor(t, "--version"); code != 0 || !strings.HasPrefix(out, "spoor ") {
		t.Errorf("--version: %d %q", code, out)
	}
	_, out, _ := spoor(t, "rules", "list")
	for _, a := range []string{"offhours", "rmmsessions", "psrecon", "newadmin", "outbound", "coverage"} {
		if !strings.Contains(out, a+" ") || !strings.Contains(out, "analyzers/"+a) {
			t.Errorf("rules list does not show analyzer %s", a)
		}
	}

	// query: expression first, flags after; rows in time order.
	code, out, stderr := spoor(t, "query", `source == "rmm" && action == "command"`, "--store", st, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("query: %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 20 {
		t.Fatalf("only %d RMM commands", len(lines))
	}
	var prev time.Time
	for i, l := range lines {
		j := strings.Index(l, `"datetime":"`)
		if j < 0 {
			t.Fatalf("line %d has no datetime: %s", i, l)
		}
		ts, err := time.Parse(time.RFC3339Nano, l[j+12:j+12+strings.IndexByte(l[j+12:], '"')])
		if err != nil {
			t.Fatal(err)
		}
		if ts.Before(prev) {
			t.Fatalf("line %d (%v) comes before line %d (%v)", i, ts, i-1, prev)
		}
		prev = ts
	}
	_, out, _ = spoor(t, "query", "--fields")
	for _, want := range []string{"command_line", "src_ip", "business_hours(time)", "provider(user)", `field("TargetUserName")`} {
		if !strings.Contains(out, want) {
			t.Errorf("query --fields lacks %s", want)
		}
	}
}
