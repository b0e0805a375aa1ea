package main

import (
	"fmt"
	"os"

	"github.com/spoor-dfir/spoor/internal/ingest/evtx/densecorpus"
	"github.com/spoor-dfir/spoor/internal/simulate"
)

// realFileSize is the size of each file of a dense real corpus: the
// default maximum size of a Windows Security log.
const realFileSize = 20 << 20

// buildReal writes (or reuses) a corpus of size bytes in dst made of the
// dense chunks (≥ 100 records) of the EVTX files under src, repeated, as
// valid EVTX files of up to 20 MiB, and returns dst.
func buildReal(src, dst, size string) (string, error) {
	n, err := simulate.ParseSize(size)
	if err != nil {
		return "", err
	}
	// The mark of a complete corpus sits beside it: in it, the ingest
	// would count it as a file of unknown format.
	done := dst + ".complete"
	if _, err := os.Stat(done); err == nil {
		return dst, nil
	}
	_, files := evtxBytes(src)
	chunks, err := densecorpus.Chunks(files, densecorpus.MinRecords)
	if err != nil {
		return "", err
	}
	fmt.Printf("building a %s corpus of dense real chunks in %s: %d chunks with ≥ %d records from %d files in %s …\n",
		size, dst, len(chunks), densecorpus.MinRecords, len(files), src)
	os.RemoveAll(dst)
	if _, err := densecorpus.Build(dst, chunks, n, realFileSize); err != nil {
		return "", err
	}
	return dst, os.WriteFile(done, nil, 0o644)
}
