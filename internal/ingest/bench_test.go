package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/spoor-dfir/spoor/internal/ingest/evtx/densecorpus"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// BenchmarkIngestDense times what `spoor ingest` does (hash, detect,
// parse, write the Parquet store, commit) on 128 MiB of dense real EVTX
// chunks from the shared samples (package densecorpus), as 20 MiB files,
// into a fresh store per run, with every core and with one worker.
func BenchmarkIngestDense(b *testing.B) {
	dir := testutil.Shared(b, "samples", "evtx")
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".evtx" {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	chunks, err := densecorpus.Chunks(files, densecorpus.MinRecords)
	if err != nil {
		b.Fatal(err)
	}
	if len(chunks) == 0 {
		b.Skip("no dense sample chunks")
	}
	corpus := filepath.Join(b.TempDir(), "corpus")
	paths, err := densecorpus.Build(corpus, chunks, 128<<20, 20<<20)
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
	}
	for _, workers := range []int{0, 1} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(size)
			var events int64
			cpu0 := testutil.CPUSeconds()
			for i := 0; b.Loop(); i++ {
				st, err := store.Open(filepath.Join(b.TempDir(), fmt.Sprint("store-", i)))
				if err != nil {
					b.Fatal(err)
				}
				sum, err := Run(context.Background(), Options{Store: st, Paths: []string{corpus}, Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				if sum.Ingested != len(paths) || sum.Failed != 0 {
					b.Fatalf("%s", sum)
				}
				events += sum.Events
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			if cpu := testutil.CPUSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(float64(size)*float64(b.N)/1e6/cpu, "MB/cpu-s")
			}
		})
	}
}
