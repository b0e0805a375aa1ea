package store

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// TestDuckDBReadsTypedNullableColumns: DuckDB (an independent Parquet
// reader) describes the events store as the column table says: every
// table column with its SQL type, nullable ones holding NULL where the
// event had no value (not an empty string or 0), 0 where 0 was said, times as
// microsecond timestamps, addresses in canonical form.
func TestDuckDBReadsTypedNullableColumns(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 29, 0, 59, 59, 123456789, time.UTC)
	w := s.NewEventWriter("part-duck")
	evs := []*event.Event{
		// A system logon (type 0) from an IPv4-mapped address.
		{Time: t0, Source: event.SourceEVTX, Format: "evtx", Host: "DC01", Channel: "Security", EventID: 4624, RecordID: 7,
			User: "SYSTEM", LogonType: event.Some[int32](0), SrcIP: "::ffff:10.0.0.5", Level: event.Some[int32](0),
			Keywords: "0x8020000000000000", Evidence: "DC01/Security.evtx", Offset: 7},
		// A firewall flow of 0 bytes out, nothing said of bytes in.
		{Time: t0.Add(time.Second), Source: event.SourceFirewall, Format: "fortigate", DstIP: "203.0.113.9",
			DstPort: event.Some[int32](443), BytesOut: event.Some[int64](0), Evidence: "fw.log", Offset: 12},
	}
	for _, ev := range evs {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	glob := filepath.ToSlash(filepath.Join(dir, "events", "*", "*.parquet"))
	from := fmt.Sprintf("read_parquet('%s', hive_partitioning = true)", glob)

	desc := testutil.DuckDB(t, "DESCRIBE SELECT * FROM "+from)
	types := map[string]string{}
	for _, r := range desc {
		types[fmt.Sprint(r["column_name"])] = fmt.Sprint(r["column_type"])
	}
	sqlType := map[event.Kind]string{event.KindString: "VARCHAR", event.KindInt32: "INTEGER", event.KindInt64: "BIGINT",
		event.KindTime: "TIMESTAMP WITH TIME ZONE"}
	for _, c := range event.Columns {
		if got := types[c.Name]; got != sqlType[c.Kind] {
			t.Errorf("column %s: DuckDB type %q, want %q", c.Name, got, sqlType[c.Kind])
		}
	}
	if types["fields"] != "VARCHAR" || types["source"] != "VARCHAR" {
		t.Errorf("fields %q, source %q", types["fields"], types["source"])
	}

	rows := testutil.DuckDB(t, `SELECT source, src_ip, src_port IS NULL AS no_src_port, logon_type, logon_type IS NULL AS no_logon_type,
		bytes_out, bytes_in IS NULL AS no_bytes_in, host IS NULL AS no_host, event_id IS NULL AS no_event_id,
		level, keywords, task IS NULL AS no_task, epoch_us(time) AS us FROM `+from+` ORDER BY time`)
	if len(rows) != 2 {
		t.Fatalf("rows %v", rows)
	}
	got := func(i int, k string) string { return fmt.Sprint(rows[i][k]) }
	want := []map[string]string{
		{"source": "evtx", "src_ip": "10.0.0.5", "no_src_port": "true", "logon_type": "0", "no_logon_type": "false",
			"bytes_out": "<nil>", "no_bytes_in": "true", "no_host": "false", "no_event_id": "false",
			"level": "0", "keywords": "0x8020000000000000", "no_task": "true", "us": fmt.Sprint(t0.UnixMicro())},
		{"source": "firewall", "src_ip": "<nil>", "no_src_port": "true", "logon_type": "<nil>", "no_logon_type": "true",
			"bytes_out": "0", "no_bytes_in": "true", "no_host": "true", "no_event_id": "true",
			"level": "<nil>", "keywords": "<nil>", "no_task": "true", "us": fmt.Sprint(t0.Add(time.Second).UnixMicro())},
	}
	for i := range want {
		var bad []string
		for k, v := range want[i] {
			if g := got(i, k); g != v {
				bad = append(bad, fmt.Sprintf("%s=%s (want %s)", k, g, v))
			}
		}
		if len(bad) > 0 {
			t.Errorf("row %d: %s", i, strings.Join(bad, ", "))
		}
	}
}
