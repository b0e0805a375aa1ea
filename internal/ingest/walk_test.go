package ingest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/store"
)

// runLines ingests paths with the test line parser into a fresh store and
// returns the manifest entries by path.
func runLines(t *testing.T, paths ...string) map[string]store.FileEntry {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Options{Store: st, Paths: paths, Parsers: []input.Parser{lineParser{}}, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	out := map[string]store.FileEntry{}
	for _, f := range st.Manifest().Files {
		out[f.Path] = f
	}
	return out
}

// peakHeap runs fn and returns the highest HeapAlloc sampled meanwhile.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak
}

// writeNestedBomb writes to path a zip holding n zips of about size bytes
// each (a small log plus stored padding), streamed so the generator
// itself holds nothing.
func writeNestedBomb(t *testing.T, path string, n int, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	outer := zip.NewWriter(f)
	for i := 0; i < n; i++ {
		w, err := outer.Create("inner" + string(rune('0'+i)) + ".zip")
		if err != nil {
			t.Fatal(err)
		}
		inner := zip.NewWriter(w)
		lw, _ := inner.Create("a.log")
		io.WriteString(lw, "LINES\nx"+string(rune('0'+i))+"\ny\n")
		pw, _ := inner.CreateHeader(&zip.FileHeader{Name: "pad.bin", Method: zip.Store})
		if _, err := io.CopyN(pw, zeroReader{}, size); err != nil {
			t.Fatal(err)
		}
		if err := inner.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestNestedZipBombBoundedMemory: nested archives are copied to temporary
// files, not read into memory and kept (a 6 MB zip of six 500 MiB zips
// reached 5 GB). Scaled down: six 24 MiB zips must ingest completely with
// the heap staying far below what holding them would take.
func TestNestedZipBombBoundedMemory(t *testing.T) {
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.zip")
	const n, size = 6, 24 << 20
	writeNestedBomb(t, bomb, n, size)
	var byPath map[string]store.FileEntry
	peak := peakHeap(func() { byPath = runLines(t, bomb) })
	for i := 0; i < n; i++ {
		p := "bomb.zip/inner" + string(rune('0'+i)) + ".zip/a.log"
		if f := byPath[p]; f.Status != store.StatusIngested || f.Records != 2 {
			t.Errorf("%s: %+v", p, f)
		}
	}
	if peak > n*size/2 {
		t.Fatalf("heap peaked at %d MiB for %d nested zips of %d MiB", peak>>20, n, size>>20)
	}
	t.Logf("heap peak %d MiB", peak>>20)
}

// TestNestedZipLimits: an archive nested deeper than two levels, or over
// the spill budget, is listed as skipped with the reason, not dropped as
// "no known format".
func TestNestedZipLimits(t *testing.T) {
	dir := t.TempDir()
	l3 := makeZip(t, map[string][]byte{"deep.log": []byte("LINES\nd\n")})
	l2 := makeZip(t, map[string][]byte{"l3.zip": l3, "two.log": []byte("LINES\nt\n")})
	l1 := makeZip(t, map[string][]byte{"l2.zip": l2})
	write(t, filepath.Join(dir, "ev", "deep.zip"), string(l1))
	m := runLines(t, filepath.Join(dir, "ev"))
	if f := m["ev/deep.zip/l2.zip/two.log"]; f.Status != store.StatusIngested {
		t.Errorf("depth-2 entry: %+v", f)
	}
	f := m["ev/deep.zip/l2.zip/l3.zip"]
	if f.Status != store.StatusSkipped || !strings.Contains(strings.Join(f.Notes, " "), "nested deeper than 2") {
		t.Errorf("depth-3 archive: %+v", f)
	}

	old := maxSpill
	maxSpill = 1
	defer func() { maxSpill = old }()
	m = runLines(t, filepath.Join(dir, "ev"))
	f = m["ev/deep.zip/l2.zip"]
	if f.Status != store.StatusSkipped || !strings.Contains(strings.Join(f.Notes, " "), "extract them") {
		t.Errorf("archive over the spill budget: %+v", f)
	}
}

// TestDamagedZipSalvaged: a zip without its central directory or end
// record gives the intact local entries, with a note saying so.
func TestDamagedZipSalvaged(t *testing.T) {
	full := makeZip(t, map[string][]byte{
		"a.log": []byte("LINES\na1\na2\n"),
		"b.log": []byte("LINES\nb1\n" + strings.Repeat("pad pad\n", 2000)),
		"c.log": []byte("LINES\nc1\n"),
	})
	cd := bytes.LastIndex(full, []byte("PK\x01\x02"))
	first := bytes.Index(full, []byte("PK\x01\x02"))
	for name, data := range map[string][]byte{
		"no-end-record.zip":        full[:len(full)-22],
		"no-central-directory.zip": full[:first],
		"corrupt-directory.zip":    append(append([]byte(nil), full[:cd]...), bytes.Repeat([]byte{0xee}, len(full)-cd)...),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "ev", name), string(data))
			m := runLines(t, filepath.Join(dir, "ev"))
			for _, e := range []string{"a.log", "b.log", "c.log"} {
				f := m["ev/"+name+"/"+e]
				if f.Status != store.StatusIngested || f.Records == 0 {
					t.Errorf("%s: %+v (have %v)", e, f, keys(m))
					continue
				}
				if !strings.Contains(strings.Join(f.Notes, " "), "salvaged") {
					t.Errorf("%s: no salvage note: %q", e, f.Notes)
				}
			}
		})
	}
}

// FuzzZipWalk: any bytes named .zip are walked and every entry read
// without a panic; entries are listed or the file is handed to detection.
func FuzzZipWalk(f *testing.F) {
	f.Add([]byte("PK\x03\x04"))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("a.log")
	w.Write([]byte("LINES\nx\n"))
	zw.Close()
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()-30])
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, zipMagic) {
			data = append(append([]byte(nil), zipMagic...), data...)
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "f.zip")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var wk walker
		defer wk.close()
		items, err := wk.walk([]string{p})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.open == nil {
				continue
			}
			rc, err := it.open()
			if err != nil {
				continue
			}
			io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
			rc.Close()
		}
	})
}

// drainParser takes files starting with "DRAIN\n", emits one event and
// reads the rest to its end, returning the read error: a parser that
// streams a whole file.
type drainParser struct{}

func (drainParser) Name() string { return "drain" }
func (drainParser) Detect(in *input.Input) int {
	if bytes.HasPrefix(in.Raw, []byte("DRAIN\n")) {
		return 100
	}
	return 0
}
func (drainParser) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	rc, err := in.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := emit(&event.Event{Source: event.SourceFirewall, Format: "drain", Evidence: in.Path, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		return err
	}
	st.Records++
	_, err = io.Copy(io.Discard, rc)
	return err
}

// TestGzipBombBounded: a .gz that inflates beyond its ratio bound is read
// up to the bound, the events so far kept, and the manifest says why the
// rest was not read; memory stays flat throughout.
func TestGzipBombBounded(t *testing.T) {
	oldFree := maxGzipFree
	maxGzipFree = 4 << 20
	defer func() { maxGzipFree = oldFree }()
	dir := t.TempDir()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	io.WriteString(zw, "DRAIN\n")
	io.CopyN(zw, zeroReader{}, 128<<20)
	zw.Close()
	write(t, filepath.Join(dir, "ev", "bomb.log.gz"), buf.String())
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	peak := peakHeap(func() {
		_, err = Run(context.Background(), Options{Store: st, Paths: []string{filepath.Join(dir, "ev")}, Parsers: []input.Parser{drainParser{}}, Workers: 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	f := st.Manifest().Files[0]
	if f.Status != store.StatusIngested || f.Records != 1 || !strings.Contains(strings.Join(f.Errors, " "), "gzip bomb guard") {
		t.Fatalf("%+v", f)
	}
	if peak > 64<<20 {
		t.Fatalf("heap peaked at %d MiB", peak>>20)
	}
}

// TestManySmallFilesBoundedMemory: heads are no longer kept from hashing
// to parsing (30,000 small files held 4.4 GB). 1,000 files of 64 KiB
// would hold 64 MiB that way; they are text of no known format, so the
// test measures the walk, hashing and detection alone.
func TestManySmallFilesBoundedMemory(t *testing.T) {
	dir := t.TempDir()
	body := strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n", 1024)
	for i := 0; i < 1000; i++ {
		write(t, filepath.Join(dir, "ev", fmt.Sprintf("d%02d", i%50), fmt.Sprintf("f%04d.txt", i)), fmt.Sprintf("%d%s", i, body))
	}
	var m map[string]store.FileEntry
	peak := peakHeap(func() { m = runLines(t, filepath.Join(dir, "ev")) })
	if len(m) != 1000 {
		t.Fatalf("%d manifest entries", len(m))
	}
	if peak > 40<<20 {
		t.Fatalf("heap peaked at %d MiB", peak>>20)
	}
	t.Logf("heap peak %d MiB", peak>>20)
}
