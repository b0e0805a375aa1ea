package evtx

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// samplesDir returns ../shared/samples/evtx next to the repository, or
// skips the test when it is absent (a fresh clone has no ../shared).
func samplesDir(t testing.TB) string {
	t.Helper()
	return testutil.Shared(t, "samples", "evtx")
}

// sampleFiles lists every .evtx file under the samples folder, sorted.
func sampleFiles(t testing.TB) []string {
	dir := samplesDir(t)
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".evtx" {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Skip("no sample files")
	}
	return files
}

// corpusFiles is every EVTX file the cross-checks run on: the shared
// samples (skipping when absent) plus every .evtx under the repository's
// testdata tree (the copied samples and any generated scenario files).
func corpusFiles(t *testing.T) []string {
	var files []string
	t.Run("samples", func(t *testing.T) { files = sampleFiles(t) })
	_ = filepath.WalkDir("../../../testdata", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".evtx" {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skip("no EVTX files")
	}
	return files
}

// memInput makes an Input over bytes whose Open returns a plain reader
// (no ReaderAt), as a zip entry would.
func memInput(path string, data []byte, workers int) *input.Input {
	head := data
	if len(head) > input.HeadSize {
		head = head[:input.HeadSize]
	}
	return &input.Input{
		Path: path, Size: int64(len(data)), Raw: head, Workers: workers,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(onlyReader{bytes.NewReader(data)}), nil },
	}
}

type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// parseAll parses data with p and returns the events (copied) and stats.
func parseAll(t testing.TB, p *Parser, path string, data []byte, workers int) ([]event.Event, *input.Stats) {
	t.Helper()
	var evs []event.Event
	st := &input.Stats{}
	err := p.Parse(context.Background(), memInput(path, data, workers), func(ev *event.Event) error {
		evs = append(evs, *ev)
		return nil
	}, st)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return evs, st
}
