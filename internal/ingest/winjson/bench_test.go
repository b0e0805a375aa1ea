package winjson

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// BenchmarkNXLog ingests one real NXLog recording (12.6 MB, 4348 events)
// from memory; b.SetBytes makes MB/s comparable across machines' loads
// only per CPU (run with -cpu 1).
func BenchmarkNXLog(b *testing.B) {
	root := testutil.Shared(b, "samples", "json", "otrf")
	data := archiveEntries(b, filepath.Join(root, "lateral_movement/host/empire_psexec_dcerpc_tcp_svcctl.zip"))[0].data
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		err := NXLog{}.Parse(context.Background(), memInput("x.json", data), func(*event.Event) error { n++; return nil }, &input.Stats{})
		if err != nil || n != 4348 {
			b.Fatalf("%d events, %v", n, err)
		}
	}
}
