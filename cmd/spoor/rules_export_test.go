package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestRulesExportCLI: the export writes SQL whose header counts the
// exported and the listed rules, names each listed rule with its reason
// on stderr too, and rejects a missing or unknown dialect as a usage error.
func TestRulesExportCLI(t *testing.T) {
	code, out, stderr := spoor(t, "rules", "export", "--sql", "trino", "--store", "hive.spoor.acme_events")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^-- trino: \d+ rules exported \(.*\); \d+ cannot be expressed in SQL`).MatchString(out) {
		t.Errorf("SQL header lacks the counts: %.300s", out)
	}
	for _, want := range []string{"--   failed-logon-burst (threshold", "FROM hive.spoor.acme_events", "CROSS JOIN UNNEST"} {
		if !strings.Contains(out, want) {
			t.Errorf("SQL lacks %q", want)
		}
	}
	if !strings.Contains(stderr, "not exported: recon-accounts") || !strings.Contains(stderr, "decode_ps") {
		t.Errorf("stderr does not list the rules left out: %s", stderr)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "rules.sql")
	code, out, stderr = spoor(t, "rules", "export", "--sql", "duckdb", "--per-rule", "--store", "/data/store", "-o", file)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`-- duckdb: (\d+) rules exported`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no counts in the header: %.300s", b)
	}
	if n := strings.Count(string(b), "\nFROM spoor_events\n"); strconv.Itoa(n) != m[1] || n == 0 {
		t.Errorf("%d per-rule queries, the header says %s", n, m[1])
	}
	if !strings.Contains(string(b), "read_parquet('/data/store/events/**/*.parquet', hive_partitioning = true)") {
		t.Error("the view does not read the store's Hive layout")
	}

	for _, args := range [][]string{{"rules", "export"}, {"rules", "export", "--sql", "oracle"}, {"rules", "export", "--sql", "duckdb", "--no-builtin"}} {
		if code, _, _ := spoor(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
