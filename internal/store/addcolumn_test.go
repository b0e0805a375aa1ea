package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

// TestNewColumnIsOneLine adds one column to the table (here, a copy of
// event.Columns with one more entry whose value a test map holds, since
// Event has no field for it) and follows it through everything derived
// from the table at run time: the Parquet schema, the writer, the column
// scan (NULL where unset) and the golden rendering. The rule environment
// and its README table are generated from the same table (see
// internal/rule TestEnvColumnsGenerated, which renders them with an extra
// column too).
func TestNewColumnIsOneLine(t *testing.T) {
	notes := map[int64]string{} // the new column's values, by offset
	extra := event.Column{Name: "ticket", Kind: event.KindString, Nullable: true, Var: "ticket", Field: "Ticket",
		Doc: "a ticket number",
		Get: func(e *event.Event) event.Value { s := notes[e.Offset]; return event.Value{Str: s, Null: s == ""} },
		Set: func(e *event.Event, v event.Value) { notes[e.Offset] = v.Str }}
	cols := append(slices.Clone(event.Columns), extra)

	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.cols = schemaOf(cols)
	if _, ok := s.cols.schema.Lookup("ticket"); !ok {
		t.Fatal("the schema built from the table has no ticket column")
	}
	w := s.NewEventWriter("part-extra")
	t0 := time.Date(2026, 11, 14, 10, 0, 0, 0, time.UTC)
	for i := int64(0); i < 4; i++ {
		if i%2 == 0 {
			notes[i] = fmt.Sprintf("T-%d", i)
		}
		if err := w.Write(&event.Event{Time: t0.Add(time.Duration(i) * time.Second), Source: event.SourceRMM, Format: "x",
			Host: "H", Evidence: "e.log", Offset: i}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{0: "T-0", 2: "T-2"}
	clear(notes) // what the scan reads back, it sets again
	all := ColSet(1)<<(len(cols)+1) - 1
	var lines []string
	_, err = s.ScanSelect(context.Background(), ScanOptions{}, func(*RowKey) Want { return Want{Cols: all, Dict: true} },
		func(ev *event.Event) error {
			lines = append(lines, string(event.ColumnsJSON(cols, ev)))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != len(want) || notes[0] != want[0] || notes[2] != want[2] {
		t.Fatalf("scanned ticket values %v, want %v (NULL rows unset)", notes, want)
	}
	if len(lines) != 4 || !strings.Contains(lines[0], `"ticket":"T-0"`) || !strings.Contains(lines[1], `"ticket":null`) {
		t.Fatalf("golden lines do not show the new column:\n%s", strings.Join(lines, "\n"))
	}
}
