// Package testutil finds the repository root and the shared evidence
// beside it for tests. It is a normal package so that every test package
// can import it, but only tests may: production code has no repository.
package testutil

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RepoRoot returns the module root: the nearest directory at or above the
// working directory (a test's package directory) that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// SharedPath returns ../shared/<elem...> beside the repository root and
// whether it exists. Elements may use forward slashes. Tests that need to
// do something other than skip when the evidence is absent use this.
func SharedPath(t testing.TB, elem ...string) (string, bool) {
	t.Helper()
	parts := []string{RepoRoot(t), "..", "shared"}
	for _, e := range elem {
		parts = append(parts, filepath.FromSlash(e))
	}
	p := filepath.Join(parts...)
	_, err := os.Stat(p)
	return p, err == nil
}

// Shared returns ../shared/<elem...> beside the repository root, or skips
// the test: the shared evidence is not part of the repository, so a clean
// clone without it must still pass.
func Shared(t testing.TB, elem ...string) string {
	t.Helper()
	p, ok := SharedPath(t, elem...)
	if !ok {
		t.Skipf("%s not present (shared evidence lives beside the repository)", p)
	}
	return p
}

// duckdbScript runs the SQL on stdin through DuckDB's Node API and prints
// the rows as JSON. DuckDB is an independent engine (an oracle for the
// store and for exported SQL); memory and threads are capped because the
// test machine is shared.
const duckdbScript = `
const { DuckDBInstance } = require('@duckdb/node-api');
const fs = require('fs');
(async () => {
  const db = await DuckDBInstance.create(':memory:', { memory_limit: '3GB', threads: '2' });
  const con = await db.connect();
  const res = await con.runAndReadAll(fs.readFileSync(0, 'utf8'));
  process.stdout.write(JSON.stringify(res.getRowObjectsJson()));
})().catch(e => { console.error(e.message); process.exit(1); });
`

// DuckDB runs sql and returns the rows (values as DuckDB's JSON renders
// them), skipping the test when DuckDB for Node is not installed
// (.ci/run installs it into $SPOOR_DUCKDB_DIR).
func DuckDB(t testing.TB, sql string) []map[string]any {
	t.Helper()
	dir := os.Getenv("SPOOR_DUCKDB_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "spoor-ci", "duckdb")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
		t.Skip("DuckDB for Node not installed (run .ci/run, or npm install @duckdb/node-api in $SPOOR_DUCKDB_DIR)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	cmd := exec.Command(node, "-e", duckdbScript)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	cmd.Stdin = strings.NewReader(sql)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("duckdb: %v: %s", err, errb.String())
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("duckdb output: %v: %.300s", err, out.String())
	}
	return rows
}
