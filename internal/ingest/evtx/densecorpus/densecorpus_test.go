package densecorpus

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	gevtx "github.com/0xrawsec/golang-evtx/evtx"

	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

func samples(t *testing.T) []string {
	dir := testutil.Shared(t, "samples", "evtx")
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".evtx" {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files
}

// TestBuild builds a small corpus from the shared samples and reads it back
// with the fast decoder (no CRC remark, every record, ids in sequence), with
// golang-evtx's file reader (which checks the file header and every chunk
// CRC) and, where installed, with libevtx's evtxexport.
func TestBuild(t *testing.T) {
	chunks, err := Chunks(samples(t), MinRecords)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) < 10 {
		t.Fatalf("only %d dense chunks in the samples", len(chunks))
	}
	perChunk := 0
	for _, c := range chunks {
		perChunk += len(recordOffsets(c))
	}
	dir := t.TempDir()
	// Two files and a part: more chunks than the samples have, so they repeat.
	perFile := int64(binxml.FileHeaderSize + (len(chunks)/2+1)*binxml.ChunkSize)
	paths, err := Build(dir, chunks, int64(len(chunks)+3)*binxml.ChunkSize, perFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("%d files, want 3", len(paths))
	}
	wantID := uint64(1)
	total := 0
	t.Logf("%d dense chunks, %d records per pass", len(chunks), perChunk)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		nchunks := (len(data) - binxml.FileHeaderSize) / binxml.ChunkSize
		if got := int(binary.LittleEndian.Uint16(data[42:])); got != nchunks {
			t.Errorf("%s: header counts %d chunks, file has %d", p, got, nchunks)
		}
		d := binxml.NewFast()
		d.Notes = func(at int64, msg string) { t.Errorf("%s@%d: %s", p, at, msg) }
		n := 0
		for off := binxml.FileHeaderSize; off < len(data); off += binxml.ChunkSize {
			err := d.DecodeChunk(data[off:off+binxml.ChunkSize], int64(off), func(r *binxml.Record) {
				if r.HeaderID != wantID {
					t.Fatalf("%s@%d: record id %d, want %d", p, r.Offset, r.HeaderID, wantID)
				}
				wantID++
				n++
			}, func(b binxml.Bad) { t.Errorf("%s: bad record %+v", p, b) })
			if err != nil {
				t.Fatal(err)
			}
		}
		if next := binary.LittleEndian.Uint64(data[24:]); next != wantID {
			t.Errorf("%s: header's next record id %d, want %d", p, next, wantID)
		}
		total += n

		ef, err := gevtx.Open(p)
		if err != nil {
			t.Fatalf("golang-evtx: %s: %v", p, err)
		}
		g := 0
		for range ef.FastEvents() {
			g++
		}
		ef.Close()
		if g != n {
			t.Errorf("%s: golang-evtx reads %d records, fast decoder %d", p, g, n)
		}
		if bin, err := exec.LookPath("evtxexport"); err == nil {
			out, _ := exec.Command(bin, "-f", "xml", p).Output()
			if got := len(regexp.MustCompile(`<Event `).FindAllIndex(out, -1)); got != n {
				t.Errorf("%s: evtxexport reads %d records, fast decoder %d", p, got, n)
			}
		}
	}
	if total <= perChunk {
		t.Errorf("%d records in the corpus, not more than the %d of one pass over the chunks", total, perChunk)
	}
	// Repetition must not make two files identical (the ingest skips repeats).
	a, _ := os.ReadFile(paths[0])
	b, _ := os.ReadFile(paths[1])
	if bytes.Equal(a[binxml.FileHeaderSize:binxml.FileHeaderSize+binxml.ChunkSize], b[binxml.FileHeaderSize:binxml.FileHeaderSize+binxml.ChunkSize]) {
		t.Error("first chunks of two files are identical")
	}
}

// TestRenumberCRC checks that Renumber leaves CRCs that match, by
// corrupting a chunk's ids and CRCs first.
func TestRenumberCRC(t *testing.T) {
	chunks, err := Chunks(samples(t), MinRecords)
	if err != nil || len(chunks) == 0 {
		t.Fatalf("no chunks: %v", err)
	}
	c := append([]byte(nil), chunks[0]...)
	binary.LittleEndian.PutUint32(c[52:], 0)
	binary.LittleEndian.PutUint32(c[124:], 0)
	next := Renumber(c, 1000)
	if want := uint64(1000 + len(recordOffsets(c))); next != want {
		t.Errorf("next id %d, want %d", next, want)
	}
	d := binxml.NewFast()
	d.Notes = func(_ int64, msg string) { t.Error(msg) }
	_ = d.DecodeChunk(c, 0, func(*binxml.Record) {}, func(binxml.Bad) {})
}
