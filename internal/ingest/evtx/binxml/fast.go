package binxml

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Fast is the project's own BinXML decoder. It is not safe for concurrent
// use: give each worker its own.
type Fast struct {
	ctx chunkCtx
	w   walker
	rec Record
	// Tail, when set, also decodes records found in a chunk's slack space
	// after the free-space offset (stale records left by earlier use of
	// the chunk). Off by default: they may repeat or predate other records.
	Tail bool
	// Notes receives remarks about a chunk (bad CRC, …) with the chunk's
	// offset; may be nil. The message itself carries no offset, so equal
	// remarks on many chunks can be counted as one.
	Notes func(chunkOffset int64, msg string)
}

// NewFast returns a fast decoder.
func NewFast() *Fast {
	f := &Fast{}
	f.ctx.names = make(map[uint32]string, 128)
	f.ctx.templates = make(map[uint32]*template, 32)
	return f
}

// Sentinel reasons for Bad records.
const (
	ReasonRecordHeader = "bad record header"
	ReasonBinXML       = "undecodable binxml"
	ReasonPanic        = "decoder panic"
)

// ErrNotChunk means the bytes do not start with a chunk header.
var ErrNotChunk = errors.New("evtx: no chunk magic")

// DecodeChunk implements Decoder.
func (f *Fast) DecodeChunk(chunk []byte, chunkOffset int64, out func(*Record), bad func(Bad)) error {
	if len(chunk) < ChunkHeaderSize+RecordHeaderSize {
		return fmt.Errorf("evtx: chunk at offset %d: %w (%d bytes)", chunkOffset, errTruncated, len(chunk))
	}
	if len(chunk) > ChunkSize {
		chunk = chunk[:ChunkSize]
	}
	h, _ := ParseChunkHeader(chunk)
	end := len(chunk)
	free := int(h.FreeSpaceOff)
	off := ChunkHeaderSize
	// recovered: past the records the chunk holds now (see Record.Recovered).
	recovered, noHeader := false, false
	if !HasChunkMagic(chunk) {
		noHeader = true
		// A damaged chunk header: its records may still be intact (their
		// names and templates are chunk offsets, valid without the header).
		off = nextRecord(chunk, ChunkHeaderSize, end)
		if off < 0 {
			return fmt.Errorf("evtx: chunk at offset %d: %w", chunkOffset, ErrNotChunk)
		}
		free = end
		recovered = off != ChunkHeaderSize
		if f.Notes != nil {
			f.Notes(chunkOffset, "chunk has no chunk magic; records read from its body")
		}
	} else if f.Notes != nil {
		f.checkCRC(chunk, h, chunkOffset)
	}
	f.ctx.reset(chunk)
	f.w.c = &f.ctx
	if free < ChunkHeaderSize || free > end {
		free = end
	}
	for off+RecordHeaderSize <= end {
		size, ok := recordAt(chunk, off)
		if !ok {
			if noHeader {
				// Without a header the end of the current records is
				// unknown: what follows the first gap is carved.
				recovered = true
				if off = nextRecord(chunk, off+1, end); off < 0 {
					break
				}
				continue
			}
			if off >= free {
				if !f.Tail {
					break // end of the used area
				}
				// Slack space: stale records sit among remains of others.
				if off = nextRecord(chunk, off+1, end); off < 0 {
					break
				}
				continue
			}
			next := nextRecord(chunk, off+1, free)
			bad(Bad{Offset: chunkOffset + int64(off), Reason: ReasonRecordHeader,
				Err: fmt.Errorf("no valid record at chunk offset %d; resynced at %d", off, next)})
			if next < 0 {
				break
			}
			off = next
			continue
		}
		if off >= free {
			if !f.Tail {
				break
			}
			// A stale record that no longer decodes is not a loss: the
			// allocated records are all before free.
			bad = func(Bad) {}
			recovered = true
		}
		f.record(chunk, off, size, chunkOffset, out, bad, recovered)
		off += size
	}
	return nil
}

// checkCRC notes (does not reject) chunks whose checksums do not match.
func (f *Fast) checkCRC(c []byte, h ChunkHeader, at int64) {
	hc := crc32.NewIEEE()
	hc.Write(c[:120])
	hc.Write(c[128:512])
	if hc.Sum32() != h.HeaderCRC {
		f.Notes(at, "chunk header CRC mismatch (decoded anyway)")
	}
	if fs := int(h.FreeSpaceOff); fs >= ChunkHeaderSize && fs <= len(c) {
		if crc32.ChecksumIEEE(c[ChunkHeaderSize:fs]) != h.DataCRC {
			f.Notes(at, "chunk record data CRC mismatch (decoded anyway)")
		}
	}
}

// recordAt validates the record header at off: magic and a size that fits
// the chunk.
func recordAt(c []byte, off int) (int, bool) {
	if off+RecordHeaderSize > len(c) || [4]byte(c[off:off+4]) != RecordMagic {
		return 0, false
	}
	size := int(binary.LittleEndian.Uint32(c[off+4:]))
	if size < RecordHeaderSize+4 || off+size > len(c) || size > len(c) {
		return 0, false
	}
	// The trailing copy of the size is not checked: records whose tail
	// was zeroed often still decode, and a failed decode is reported.
	return size, true
}

// nextRecord finds the next valid record header at or after off, or -1.
func nextRecord(c []byte, off, limit int) int {
	for ; off+RecordHeaderSize <= len(c) && off < limit; off++ {
		if c[off] == '*' {
			if _, ok := recordAt(c, off); ok {
				return off
			}
		}
	}
	return -1
}

// record decodes one record, recovering from any panic so that one
// hostile record cannot take the chunk down.
func (f *Fast) record(c []byte, off, size int, base int64, out func(*Record), bad func(Bad), recovered bool) {
	r := &f.rec
	r.Reset()
	r.Recovered = recovered
	r.Offset = base + int64(off)
	r.HeaderID = binary.LittleEndian.Uint64(c[off+8:])
	r.Written = FileTime(binary.LittleEndian.Uint64(c[off+16:]))
	r.Decoder = "fast"
	err := f.decodeBody(c, off+RecordHeaderSize, off+size-4)
	if err == nil && int(binary.LittleEndian.Uint32(c[off+size-4:])) != size {
		r.Damaged = true
	}
	if err != nil {
		bad(Bad{Offset: r.Offset, RecordID: r.HeaderID, Reason: ReasonBinXML, Err: err})
		return
	}
	if r.RecordID == 0 {
		r.RecordID = r.HeaderID
	}
	out(r)
}

func (f *Fast) decodeBody(c []byte, start, end int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(error); ok && errors.Is(e, errExpansion) {
				err = e
				return
			}
			err = fmt.Errorf("%s: %v", ReasonPanic, p)
		}
	}()
	f.ctx.depth = 0
	f.ctx.arena = f.ctx.arena[:0]
	f.ctx.nestedAt = f.ctx.nestedAt[:0]
	clear(f.ctx.nestedNodes)
	f.ctx.nestedNodes = f.ctx.nestedNodes[:0]
	w := &f.w
	w.rec = &f.rec
	w.unnamed = 0
	w.depth, w.budget = 0, maxVisits
	f.ctx.nstack, f.ctx.astack = f.ctx.nstack[:0], f.ctx.astack[:0] // after a recovered panic
	rd := reader{c: &f.ctx, pos: start, end: end, depID: true}
	nodes, err := rd.fragment()
	if err != nil {
		// Records without a template instance sometimes omit the
		// dependency identifiers; try that reading before giving up.
		rd2 := reader{c: &f.ctx, pos: start, end: end, depID: false}
		n2, err2 := rd2.fragment()
		if err2 != nil {
			return err
		}
		nodes = n2
	}
	if len(nodes) == 0 {
		return errors.New("binxml: empty record")
	}
	w.event(nodes, nil)
	return nil
}
