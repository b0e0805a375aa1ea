package evtx

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/densecorpus"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/goevtx"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

var corpus struct {
	once sync.Once
	data []byte
}

// denseCorpus builds (in memory, once) a 64 MiB EVTX file of the dense
// real sample chunks (package densecorpus: ≥ 100 records, all decodable),
// the corpus spoor-bench --real times end to end.
func denseCorpus(b *testing.B) []byte {
	corpus.once.Do(func() {
		chunks, err := densecorpus.Chunks(sampleFiles(b), densecorpus.MinRecords)
		if err != nil {
			b.Fatal(err)
		}
		if len(chunks) > 0 {
			corpus.data, _, _ = densecorpus.File(chunks, 0, (64<<20)/binxml.ChunkSize, 1)
		}
	})
	if corpus.data == nil {
		b.Skip("no dense sample chunks")
	}
	return corpus.data
}

// BenchmarkParse measures the whole EVTX ingest path short of the store:
// streaming, parallel decoding, mapping to event.Event (with the ordered
// fields dictionary) and in-order emission.
func BenchmarkParse(b *testing.B) {
	data := denseCorpus(b)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			events := 0
			cpu0 := testutil.CPUSeconds()
			for b.Loop() {
				st := &input.Stats{}
				err := New().Parse(context.Background(), memInput("bench.evtx", data, workers), func(*event.Event) error {
					events++
					return nil
				}, st)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			reportCPU(b, cpu0, int64(len(data)))
		})
	}
}

// reportCPU adds MB per CPU-second (all goroutines, GC included).
func reportCPU(b *testing.B, cpu0 float64, bytesPerOp int64) {
	if cpu := testutil.CPUSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/1e6/cpu, "MB/cpu-s")
	}
}

// BenchmarkDecoders compares the two decoders alone on the dense corpus
// (one core, chunk → records, no mapping).
func BenchmarkDecoders(b *testing.B) {
	data := denseCorpus(b)
	decoders := []struct {
		name string
		d    binxml.Decoder
	}{{"fast", binxml.NewFast()}, {"golang-evtx", goevtx.Decoder{}}}
	for _, dec := range decoders {
		b.Run(dec.name, func(b *testing.B) {
			n := len(data) - binxml.FileHeaderSize
			if dec.name == "golang-evtx" {
				n = min(n, 64*binxml.ChunkSize) // it is slow: 4 MiB is enough
			}
			b.SetBytes(int64(n))
			events := 0
			cpu0 := testutil.CPUSeconds()
			for b.Loop() {
				for off := binxml.FileHeaderSize; off < binxml.FileHeaderSize+n; off += binxml.ChunkSize {
					_ = dec.d.DecodeChunk(data[off:off+binxml.ChunkSize], int64(off), func(*binxml.Record) { events++ }, func(binxml.Bad) {})
				}
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			reportCPU(b, cpu0, int64(n))
		})
	}
}
