package main

import (
	"testing"

	"github.com/spoor-dfir/spoor/internal/testutil"
)

// duckdb runs sql through DuckDB (an independent Parquet reader: the
// oracle for the store) and returns the rows; it skips when DuckDB for
// Node is not installed.
func duckdb(t *testing.T, sql string) []map[string]any {
	t.Helper()
	return testutil.DuckDB(t, sql)
}
