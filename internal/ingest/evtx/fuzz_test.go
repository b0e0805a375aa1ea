package evtx

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// FuzzParse runs the whole ingest path (stream, chunking, parallel decode,
// fallback, mapping) on arbitrary bytes: it must never panic or hang, and
// must count what it emits.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdataDir, "*.evtx"))
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("ElfFile\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st := &input.Stats{}
		n := int64(0)
		err := New().Parse(context.Background(), memInput("fuzz.evtx", data, 2), func(ev *event.Event) error {
			n++
			if ev.Source != "evtx" || ev.FieldDict() == nil {
				t.Fatalf("event without source or fields: %+v", ev)
			}
			return nil
		}, st)
		if err != nil {
			t.Fatalf("in-memory input gave an error: %v", err)
		}
		if st.Records != n {
			t.Fatalf("stats say %d records, %d emitted", st.Records, n)
		}
	})
}
