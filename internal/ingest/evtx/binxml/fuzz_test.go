package binxml

import (
	"os"
	"path/filepath"
	"testing"
)

// seedChunks returns the first chunk of each testdata sample.
func seedChunks(_ *testing.F) [][]byte {
	files, _ := filepath.Glob("../../../../testdata/evtx/*.evtx")
	var out [][]byte
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil || len(b) < FileHeaderSize+ChunkSize {
			continue
		}
		out = append(out, b[FileHeaderSize:FileHeaderSize+ChunkSize])
	}
	return out
}

// FuzzDecodeChunk: no input may make the decoder panic or loop, and every
// record it reports lies inside the chunk.
func FuzzDecodeChunk(f *testing.F) {
	for _, c := range seedChunks(f) {
		f.Add(c)
		f.Add(c[:4096])
	}
	f.Add([]byte("ElfChnk\x00"))
	d := NewFast()
	d.Notes = func(int64, string) {}
	f.Fuzz(func(t *testing.T, chunk []byte) {
		_ = d.DecodeChunk(chunk, 4096, func(r *Record) {
			if r.Offset < 4096 || r.Offset >= 4096+int64(len(chunk)) {
				t.Fatalf("record offset %d outside the chunk", r.Offset)
			}
		}, func(b Bad) {
			if b.Reason == "" || b.Err == nil {
				t.Fatalf("bad record without reason: %+v", b)
			}
		})
	})
}
