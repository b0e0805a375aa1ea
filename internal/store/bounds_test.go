package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/spoor-dfir/spoor/internal/event"
)

// TestNoBounds checks that the columns the table marks without Bounds
// (and fields) are written without statistics, while the other columns,
// time first, keep theirs (where they hold a value).
func TestNoBounds(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := s.NewEventWriter("part-bounds")
	for i := range 3 {
		ev := &event.Event{Time: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC), Source: event.SourceEVTX, Format: "evtx",
			Host: "h", Channel: "Security", Provider: "p", User: "u" + string(rune('a'+i)), SrcIP: "10.0.0.1",
			Process: "x.exe", CommandLine: "x.exe /y", Message: "m", Evidence: "e.evtx", RawFields: `{"a":"b"}`}
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	paths, err := w.Commit()
	if err != nil || len(paths) != 1 {
		t.Fatalf("commit: %v %v", paths, err)
	}
	f, err := os.Open(filepath.Join(s.Dir, paths[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, cc := range pf.Metadata().RowGroups[0].Columns {
		name := cc.MetaData.PathInSchema[0]
		if cc.MetaData.Statistics.NullCount == cc.MetaData.NumValues {
			continue // all NULL: nothing to bound
		}
		i, ok := event.ColumnIndex(name)
		skip := name == fieldsColumn || ok && !event.Columns[i].Bounds
		has := len(cc.MetaData.Statistics.MinValue) > 0
		if skip == has {
			t.Errorf("column %s: statistics %v, want %v", name, has, !skip)
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d columns held values", checked)
	}
}
