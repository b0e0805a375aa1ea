package binxml

import (
	"encoding/binary"
	"time"
)

// Sizes and magics of the EVTX container.
const (
	FileHeaderSize   = 4096
	ChunkSize        = 65536
	ChunkHeaderSize  = 512
	RecordHeaderSize = 24
)

// Magic numbers of the file header, the chunk header and a record.
var (
	FileMagic   = [8]byte{'E', 'l', 'f', 'F', 'i', 'l', 'e', 0}
	ChunkMagic  = [8]byte{'E', 'l', 'f', 'C', 'h', 'n', 'k', 0}
	RecordMagic = [4]byte{'*', '*', 0, 0}
)

// Field is one EventData/UserData value. Value is a string, a []string
// (array types), or []Field for nested structure (UserData, ComplexData).
type Field struct {
	Name  string
	Value any
}

// Record is one decoded event record: the System section as typed values
// and the event's own data as ordered fields.
type Record struct {
	// Offset is the record's byte offset in the file (or stream).
	Offset int64
	// HeaderID is the record id in the record header; RecordID is the
	// System section's EventRecordID (HeaderID when the section lacks it).
	HeaderID uint64
	RecordID uint64
	// Written is the header's written time; Time is System/TimeCreated.
	Written time.Time
	Time    time.Time

	Provider        string
	ProviderGUID    string
	EventSourceName string
	EventID         int32
	Qualifiers      int32
	Version         int32
	Level           int32
	Task            int32
	Opcode          int32
	Keywords        string
	ActivityID      string
	RelatedActivity string
	ProcessID       uint32
	ThreadID        uint32
	Channel         string
	Computer        string
	UserID          string

	// Fields are EventData (Data elements by their Name attribute; unnamed
	// ones as Data, Data_2, …) or the children of UserData's root element,
	// in document order.
	Fields []Field
	// Message is RenderingInfo/Message, present in forwarded (WEC) events.
	Message string
	// Decoder names who decoded the record ("fast" or "golang-evtx").
	Decoder string
	// Damaged is set when the record decoded although its trailing size
	// copy was wrong (a partly overwritten record): values may be off.
	Damaged bool
	// Recovered is set for a record read from a chunk's slack (past its
	// free-space offset) or, in a chunk whose header is damaged, after the
	// run of records it starts with: possibly a stale copy of an
	// overwritten record, not a current one.
	Recovered bool
}

// Reset clears r for reuse, keeping the Fields backing array.
func (r *Record) Reset() {
	f := r.Fields[:0]
	*r = Record{}
	r.Fields = f
}

// Bad describes a record (or a whole chunk, RecordID 0) that was not decoded.
type Bad struct {
	Offset   int64  // byte offset of the record or chunk
	RecordID uint64 // header record id if known
	Reason   string // short, countable: "bad record size", "binxml", …
	Err      error
}

// Decoder decodes one 64 KiB chunk. out is called once per decoded record in
// chunk order; the *Record is only valid during the call. bad is called for
// every record the decoder had to give up on. The returned error means the
// chunk as a whole could not be decoded (its records were not reported).
type Decoder interface {
	DecodeChunk(chunk []byte, chunkOffset int64, out func(*Record), bad func(Bad)) error
}

// ChunkHeader is the part of the chunk header the decoders use.
type ChunkHeader struct {
	FirstRecordID uint64
	LastRecordID  uint64
	LastRecordOff uint32
	FreeSpaceOff  uint32
	DataCRC       uint32
	HeaderCRC     uint32
}

// ParseChunkHeader reads the chunk header fields; it does not validate them.
func ParseChunkHeader(c []byte) (h ChunkHeader, ok bool) {
	if len(c) < ChunkHeaderSize {
		return h, false
	}
	h.FirstRecordID = binary.LittleEndian.Uint64(c[24:])
	h.LastRecordID = binary.LittleEndian.Uint64(c[32:])
	h.LastRecordOff = binary.LittleEndian.Uint32(c[44:])
	h.FreeSpaceOff = binary.LittleEndian.Uint32(c[48:])
	h.DataCRC = binary.LittleEndian.Uint32(c[52:])
	h.HeaderCRC = binary.LittleEndian.Uint32(c[124:])
	return h, true
}

// HasChunkMagic reports whether b starts with "ElfChnk\0".
func HasChunkMagic(b []byte) bool {
	return len(b) >= 8 && [8]byte(b[:8]) == ChunkMagic
}

// HasFileMagic reports whether b starts with "ElfFile\0".
func HasFileMagic(b []byte) bool {
	return len(b) >= 8 && [8]byte(b[:8]) == FileMagic
}

// filetimeEpochDelta is 1601-01-01 to 1970-01-01 in 100 ns units.
const filetimeEpochDelta = 116444736000000000

// FileTime converts a Windows FILETIME (100 ns since 1601, UTC).
func FileTime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	d := int64(ft) - filetimeEpochDelta
	if int64(ft) < 0 {
		// beyond year 30828: nonsense from a damaged record
		return time.Time{}
	}
	return time.Unix(d/10_000_000, (d%10_000_000)*100).UTC()
}
