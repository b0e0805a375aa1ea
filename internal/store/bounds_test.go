package store

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/spoor-dfir/spoor/internal/event"
)

// TestNoBounds checks that every column named in noBounds exists (a typo
// would silently keep its bounds) and is written without statistics, while
// the other columns, time first, keep theirs.
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
	seen := map[string]bool{}
	for _, cc := range pf.Metadata().RowGroups[0].Columns {
		name := cc.MetaData.PathInSchema[0]
		seen[name] = true
		has := len(cc.MetaData.Statistics.MinValue) > 0
		if skip := slices.Contains(noBounds, name); skip == has {
			t.Errorf("column %s: statistics %v, want %v", name, has, !skip)
		}
	}
	for _, name := range noBounds {
		if !seen[name] {
			t.Errorf("noBounds names %q, which is no column", name)
		}
	}
}
