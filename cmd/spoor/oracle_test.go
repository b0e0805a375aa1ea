package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// duckdbScript runs SQL through DuckDB's Node API and prints the rows as
// JSON; DuckDB is an independent Parquet reader (the oracle for the store).
const duckdbScript = `
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const res = await con.runAndReadAll(process.argv[1]);
  process.stdout.write(JSON.stringify(res.getRowObjectsJson()));
})().catch(e => { console.error(e.message); process.exit(1); });
`

// duckdb runs sql and returns the rows, skipping when DuckDB for Node is
// not installed (.ci/run installs it into $SPOOR_DUCKDB_DIR).
func duckdb(t *testing.T, sql string) []map[string]any {
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
	cmd := exec.CommandContext(context.Background(), node, "-e", duckdbScript, sql)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("duckdb: %v: %s", err, errb.String())
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("duckdb output: %v: %s", err, out.String())
	}
	return rows
}
