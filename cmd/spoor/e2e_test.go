package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// spoor runs the CLI in-process and returns exit code, stdout, stderr.
func spoor(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestIngestSamplesReadByDuckDB ingests every real EVTX sample and reads
// the store back with DuckDB, an independent Parquet reader: the row
// count is the manifest's, and the account-management rows are there.
func TestIngestSamplesReadByDuckDB(t *testing.T) {
	samples := testutil.Shared(t, "samples/evtx")
	dir := t.TempDir()
	code, _, stderr := spoor(t, "ingest", "--store", dir, samples)
	if code != 0 {
		t.Fatalf("ingest exit %d: %s", code, stderr)
	}
	st, err := store.OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := st.Manifest()
	for _, f := range m.Files {
		if f.Status != store.StatusIngested {
			t.Errorf("%s: %s %v", f.Path, f.Status, f.Errors)
		}
	}
	glob := filepath.Join(dir, "events", "**", "*.parquet")
	rows := duckdb(t, fmt.Sprintf(`SELECT count(*) AS n FROM read_parquet('%s', hive_partitioning=true)`, glob))
	if got := fmt.Sprint(rows[0]["n"]); got != fmt.Sprint(m.TotalRecords()) {
		t.Fatalf("DuckDB counts %s rows, manifest says %d", got, m.TotalRecords())
	}
	rows = duckdb(t, fmt.Sprintf(`SELECT event_id, "user", fields->>'$.TargetUserName' AS target, source FROM read_parquet('%s', hive_partitioning=true)
		WHERE evidence = 'evtx/deepbluecli/new-user-security.evtx' AND event_id IN (4720, 4732) ORDER BY record_id`, glob))
	var created, group bool
	for _, r := range rows {
		if r["source"] != "evtx" {
			t.Fatalf("hive partition value missing: %v", r)
		}
		switch fmt.Sprint(r["event_id"]) {
		case "4720":
			created = created || r["user"] == "IEUser"
		case "4732":
			group = group || strings.EqualFold(fmt.Sprint(r["target"]), "Administrators")
		}
	}
	if !created || !group {
		t.Fatalf("want a 4720 row for IEUser and a 4732 row naming Administrators; got %v", rows)
	}
}
