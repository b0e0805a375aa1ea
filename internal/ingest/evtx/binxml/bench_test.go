package binxml

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// denseChunks collects the real chunks of the shared samples that hold at
// least 100 records (the density of a busy Security log), or skips.
func denseChunks(b *testing.B) [][]byte {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			b.Skip("repository root not found")
		}
		dir = filepath.Dir(dir)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "..", "shared", "samples", "evtx", "*", "*.evtx"))
	if len(files) == 0 {
		b.Skip("samples absent")
	}
	var out [][]byte
	d := NewFast()
	for _, fn := range files {
		data, err := os.ReadFile(fn)
		if err != nil {
			b.Fatal(err)
		}
		for off := FileHeaderSize; off+ChunkSize <= len(data); off += ChunkSize {
			c := data[off : off+ChunkSize]
			n := 0
			_ = d.DecodeChunk(c, 0, func(*Record) { n++ }, func(Bad) {})
			if n >= 100 {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		b.Skip("no dense chunks")
	}
	return out
}

var dense struct {
	once   sync.Once
	chunks [][]byte
}

// BenchmarkFastDecode measures the decoder alone (chunk → Records, all
// values rendered), on one core.
func BenchmarkFastDecode(b *testing.B) {
	dense.once.Do(func() { dense.chunks = denseChunks(b) })
	chunks := dense.chunks
	if len(chunks) == 0 {
		b.Skip("no dense chunks")
	}
	d := NewFast()
	b.SetBytes(int64(len(chunks)) * ChunkSize)
	b.ReportAllocs()
	recs := 0
	for b.Loop() {
		for _, c := range chunks {
			_ = d.DecodeChunk(c, 0, func(*Record) { recs++ }, func(Bad) {})
		}
	}
	b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "events/s")
}
