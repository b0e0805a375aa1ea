// Package densecorpus builds benchmark corpora from real EVTX chunks: it
// picks the dense chunks of some real files (those holding many records,
// all of which decode) and writes them, repeated to the size wanted, as
// valid EVTX files. Chunks are renumbered on the way (chunk header record
// numbers, each record header's id, both CRC32s, and a file header counting
// the chunks), so libevtx and golang-evtx read the files as they would a
// file Windows wrote, and no two written files have the same content (the
// ingest skips repeated content). The EventRecordID inside each record's
// binary XML is left as recorded: rewriting it would mean re-encoding the
// template instance values.
package densecorpus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
)

// MinRecords is the fewest records a chunk holds to count as dense.
const MinRecords = 100

// maxChunksPerFile is what the file header's uint16 chunk count can hold.
const maxChunksPerFile = 0xffff

// Chunks returns copies of the dense chunks of files, in file and chunk
// order: chunks with the chunk magic and at least minRecords records, every
// one of which the fast decoder reads.
func Chunks(files []string, minRecords int) ([][]byte, error) {
	var out [][]byte
	d := binxml.NewFast()
	for _, fn := range files {
		data, err := os.ReadFile(fn)
		if err != nil {
			return nil, err
		}
		if !binxml.HasFileMagic(data) {
			continue
		}
		for off := binxml.FileHeaderSize; off+binxml.ChunkSize <= len(data); off += binxml.ChunkSize {
			c := data[off : off+binxml.ChunkSize]
			if !binxml.HasChunkMagic(c) || len(recordOffsets(c)) < minRecords {
				continue
			}
			n, bad := 0, false
			err := d.DecodeChunk(c, int64(off), func(*binxml.Record) { n++ }, func(binxml.Bad) { bad = true })
			if err == nil && !bad && n >= minRecords && n == len(recordOffsets(c)) {
				out = append(out, append([]byte(nil), c...))
			}
		}
	}
	return out, nil
}

// recordOffsets lists the records of a chunk's used area, from the first
// record up to the free-space offset, stopping at the first that is not a
// well-formed record header.
func recordOffsets(c []byte) []int {
	free := int(binary.LittleEndian.Uint32(c[48:]))
	if free > len(c) || free < binxml.ChunkHeaderSize {
		free = len(c)
	}
	var offs []int
	for off := binxml.ChunkHeaderSize; off+binxml.RecordHeaderSize <= free; {
		if [4]byte(c[off:off+4]) != binxml.RecordMagic {
			break
		}
		size := int(binary.LittleEndian.Uint32(c[off+4:]))
		if size < binxml.RecordHeaderSize+4 || off+size > free {
			break
		}
		offs = append(offs, off)
		off += size
	}
	return offs
}

// Renumber rewrites chunk c in place so that its records carry the ids
// firstID, firstID+1, …, with the chunk header's record numbers and both
// CRC32s to match. It returns the id after the last record.
func Renumber(c []byte, firstID uint64) uint64 {
	le := binary.LittleEndian
	offs := recordOffsets(c)
	id := firstID
	for _, off := range offs {
		le.PutUint64(c[off+8:], id)
		id++
	}
	last := id - 1
	if len(offs) == 0 {
		last = firstID
	} else {
		le.PutUint32(c[44:], uint32(offs[len(offs)-1]))
		end := offs[len(offs)-1] + int(le.Uint32(c[offs[len(offs)-1]+4:]))
		le.PutUint32(c[48:], uint32(end))
	}
	le.PutUint64(c[8:], firstID)
	le.PutUint64(c[16:], last)
	le.PutUint64(c[24:], firstID)
	le.PutUint64(c[32:], last)
	free := int(le.Uint32(c[48:]))
	le.PutUint32(c[52:], crc32.ChecksumIEEE(c[binxml.ChunkHeaderSize:free]))
	crc := crc32.Update(crc32.ChecksumIEEE(c[:120]), crc32.IEEETable, c[128:binxml.ChunkHeaderSize])
	le.PutUint32(c[124:], crc)
	return id
}

// fileHeader is a clean EVTX 3.1 file header for nchunks chunks whose next
// record id is nextID.
func fileHeader(nchunks int, nextID uint64) []byte {
	h := make([]byte, binxml.FileHeaderSize)
	le := binary.LittleEndian
	copy(h, binxml.FileMagic[:])
	if nchunks > 0 {
		le.PutUint64(h[16:], uint64(nchunks-1))
	}
	le.PutUint64(h[24:], nextID)
	le.PutUint32(h[32:], 128)
	le.PutUint16(h[36:], 1) // minor version
	le.PutUint16(h[38:], 3) // major version
	le.PutUint16(h[40:], binxml.FileHeaderSize)
	le.PutUint16(h[42:], uint16(nchunks))
	le.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
	return h
}

// File returns one EVTX file of n chunks: chunks[start], chunks[start+1],
// … (cycling), renumbered from record id firstID. It also returns the
// index of the next chunk and the next record id, to continue in another
// file.
func File(chunks [][]byte, start, n int, firstID uint64) ([]byte, int, uint64) {
	out := make([]byte, binxml.FileHeaderSize, binxml.FileHeaderSize+n*binxml.ChunkSize)
	id := firstID
	for k := range n {
		out = append(out, chunks[(start+k)%len(chunks)]...)
		id = Renumber(out[len(out)-binxml.ChunkSize:], id)
	}
	copy(out, fileHeader(n, id))
	return out, start + n, id
}

// Build writes EVTX files of at most perFile bytes into dir, together
// total bytes (at least one chunk), cycling through chunks, and returns
// their paths. Record ids run on across files, so every file differs.
// Files are written under a temporary name and renamed when complete.
func Build(dir string, chunks [][]byte, total, perFile int64) ([]string, error) {
	if len(chunks) == 0 {
		return nil, errors.New("densecorpus: no dense chunks")
	}
	perChunks := int((perFile - binxml.FileHeaderSize) / binxml.ChunkSize)
	perChunks = max(1, min(perChunks, maxChunksPerFile))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	next, id := 0, uint64(1)
	for written := int64(0); written < total; {
		n := int(min(int64(perChunks), (total-written+binxml.ChunkSize-1)/binxml.ChunkSize))
		var data []byte
		data, next, id = File(chunks, next, n, id)
		path := filepath.Join(dir, fmt.Sprintf("dense-%04d.evtx", len(paths)+1))
		if err := writeFile(path, data); err != nil {
			return paths, err
		}
		paths = append(paths, path)
		written += int64(len(data))
	}
	return paths, nil
}

// writeFile writes data to path under a temporary name, renamed when complete.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
