// Package evtxw writes Windows XML Event Log (EVTX) files.
//
// It exists so that the scenario generator can produce evidence that reads
// the same in independent parsers (golang-evtx, libevtx's evtxexport and
// python-evtx). Those parsers disagree on many corner cases of the format, so
// the writer sticks to the shape Windows itself produces: a 4 KiB file
// header, 64 KiB chunks with their string and template tables and CRC32s,
// and every record written as a template instance whose definition is
// written inline the first time its shape appears in a chunk and referenced
// by offset afterwards.
//
// The layout follows libyal's "Windows XML Event Log (EVTX) format" and was
// checked against records written by Windows (samples in ../shared/samples).
//
// Values are written as UTF-16 string substitutions, except the System
// values Windows types (EventID, Version, Level, Task, Opcode, Keywords,
// TimeCreated, EventRecordID, ProcessID, ThreadID, a GUID ActivityID and a
// SID UserID), so every parser renders numbers and times as Windows does.
// Limits of the readers, not of the format, that a generator should avoid:
// control characters other than tab, CR and LF (python-evtx drops them,
// evtxexport emits invalid XML), NUL (golang-evtx trims it), and, for
// Debian's libevtx 20181227, a value that is exactly "&", "<", ">" (the
// record is skipped) or "\n" (read as empty); it also mis-decodes
// characters outside the BMP, which the other two read correctly.
package evtxw

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"time"
)

// Record is one event to write.
type Record struct {
	Time            time.Time // SystemTime; stored as a FILETIME (UTC, 100 ns precision)
	Provider        string    // Provider Name, e.g. "Microsoft-Windows-Security-Auditing"
	ProviderGUID    string    // e.g. "{54849625-5478-4994-A5BA-3E3B0328C30D}"; "" omits the attribute
	EventSourceName string    // "" omits the attribute (System 7045 carries both Name and EventSourceName)
	EventID         uint16
	Qualifiers      uint16 // written only when HasQualifiers is set
	HasQualifiers   bool
	Version         uint8
	Level           uint8
	Task            uint16
	Opcode          uint8
	Keywords        uint64 // rendered by parsers as 0x… hex
	Channel         string
	Computer        string
	UserSID         string // Security UserID attribute; "" writes an empty <Security/>
	ProcessID       uint32
	ThreadID        uint32
	ActivityID      string    // "" omits the attribute; the Correlation element is always written
	Data            []Field   // EventData <Data Name="…">value</Data>, in order
	UserData        *UserData // written instead of EventData when set (e.g. 1102, 104)
}

// Field is one named value. In EventData an empty Name writes an unnamed
// <Data>value</Data>, as PowerShell 400/800 and classic providers do.
type Field struct{ Name, Value string }

// UserData is the provider-defined XML some events carry instead of
// EventData: <UserData><Element xmlns="Namespace"><Field>value</Field>…
type UserData struct {
	Element   string
	Namespace string // "" omits the xmlns attribute
	Fields    []Field
}

// Errors returned by the Writer.
var (
	// ErrRecordTooLarge means the record does not fit in an empty 64 KiB
	// chunk; EVTX records never span chunks.
	ErrRecordTooLarge = errors.New("evtxw: record does not fit in a 64 KiB chunk")
	// ErrFileFull means the file already holds the 65535 chunks its header
	// can count; start a new file.
	ErrFileFull = errors.New("evtxw: file holds the maximum of 65535 chunks")
	// ErrClosed is returned by Write after Close.
	ErrClosed = errors.New("evtxw: writer is closed")
	// ErrBadName means a Data, UserData or field name is not an XML name
	// all three parsers accept: a letter or '_', then letters, digits,
	// '_', '-' or '.'.
	ErrBadName = errors.New("evtxw: not a valid XML name")
	// ErrTimeRange means the time cannot be a FILETIME (before 1601).
	ErrTimeRange = errors.New("evtxw: time before 1601-01-01")
)

const (
	fileHeaderSize  = 4096
	chunkSize       = 65536
	chunkHeaderSize = 512
	// chunkTailRoom is left free at the end of every chunk: libevtx drops
	// a chunk's last record when the records end exactly at 65,536 bytes,
	// and Windows never fills a chunk to the last byte either.
	chunkTailRoom = 8
	// chunkFill is where a chunk's records must end.
	chunkFill = chunkSize - chunkTailRoom
)

// maxChunks is the most chunks a file header can count (a uint16); a
// variable so that tests can reach it without writing 4 GiB.
var maxChunks = 65535

const (
	// Fixed substitution slots of the System part. Every record carries all
	// of them (absent ones as NULL values) so that template shapes only
	// differ in what they reference, as in Windows' own System template.
	slotProvider = iota
	slotProviderGUID
	slotEventSourceName
	slotEventID
	slotQualifiers
	slotVersion
	slotLevel
	slotTask
	slotOpcode
	slotKeywords
	slotTimeCreated
	slotRecordID
	slotActivityID
	slotProcessID
	slotThreadID
	slotChannel
	slotComputer
	slotUserID
	numSystemSlots
)

// Binary XML value types.
const (
	typeNull     = 0x00
	typeString   = 0x01
	typeUint8    = 0x04
	typeUint16   = 0x06
	typeUint32   = 0x08
	typeUint64   = 0x0a
	typeGUID     = 0x0f
	typeFileTime = 0x11
	typeSID      = 0x13
	typeHexInt64 = 0x15
)

// Shape flags: what decides the literal structure of a template.
const (
	flagProviderGUID = 1 << iota
	flagEventSourceName
	flagQualifiers
	flagActivityID
	flagActivityGUID // ActivityID parses as a GUID and is written typed
	flagUserID
	flagUserSID // UserSID parses as a SID and is written typed
	flagUserData
	flagUserDataNS
)

const eventNamespace = "http://schemas.microsoft.com/win/2004/08/events/event"

// shape is one template layout; its definition is written once per chunk.
type shape struct {
	flags     uint16
	names     []string // Data names or UserData field names, in order
	udElement string
	udNS      string
	id        uint32
	guid      [16]byte

	gen    uint64 // chunk generation in which the definition was written
	defOff uint32 // chunk offset of the definition in that chunk
}

// Writer writes records to an EVTX file. It is not safe for concurrent use.
type Writer struct {
	out    io.Writer
	seeker io.WriteSeeker // non-nil when the header can be rewritten in place
	base   int64          // offset of the file header in seeker
	mem    []byte         // whole file, for writers that cannot seek
	err    error
	closed bool

	buf        []byte // current chunk
	pos        int    // free space offset in the current chunk
	full       bool   // the record being written overflowed the chunk
	gen        uint64 // incremented for every chunk
	nchunks    int
	firstID    uint64 // first record id in the current chunk
	nrecs      int    // records in the current chunk
	lastRecOff int
	nextID     uint64
	written    int64 // bytes handed to out (or mem), header included
	strHeads   [64]uint32
	tplHeads   [32]uint32
	savedStr   [64]uint32
	savedTpl   [32]uint32
	names      map[string]uint32
	shapes     map[uint64][]*shape
}

// NewWriter returns a Writer that writes an EVTX file to w. Record ids
// start at 1.
//
// The file header, at the start of the file, counts the chunks and records
// that follow it, so it can only be completed at Close. If w is an
// io.WriteSeeker (an *os.File), a placeholder header is written at once,
// chunks are streamed, and Close rewrites the header in place; otherwise the
// whole file is kept in memory and written to w at Close.
func NewWriter(w io.Writer) *Writer {
	wr := &Writer{
		out:    w,
		buf:    make([]byte, chunkSize),
		pos:    chunkHeaderSize,
		gen:    1, // shapes start at generation 0: not defined in any chunk
		nextID: 1,
		names:  make(map[string]uint32, 64),
		shapes: make(map[uint64][]*shape),
	}
	// A pipe is an *os.File too, but cannot seek: probe rather than trust
	// the type.
	if s, ok := w.(io.WriteSeeker); ok {
		if off, err := s.Seek(0, io.SeekCurrent); err == nil {
			wr.seeker, wr.base = s, off
		}
	}
	wr.emit(make([]byte, fileHeaderSize))
	return wr
}

// WriteFile writes recs to a new EVTX file at path, replacing any file
// there. A partial file is removed on error.
func WriteFile(path string, recs []*Record) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	w := NewWriter(f)
	for i, r := range recs {
		if _, err := w.Write(r); err != nil {
			return fmt.Errorf("%s: record %d: %w", path, i+1, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Size is the number of bytes the file has when closed now: the header,
// the chunks written and the chunk being filled. A generator uses it to
// roll over to a new file.
func (w *Writer) Size() int64 {
	n := w.written
	if w.nrecs > 0 {
		n += chunkSize
	}
	return n
}

// Records is the number of records written so far.
func (w *Writer) Records() uint64 { return w.nextID - 1 }

// Write appends r and returns its EventRecordID.
func (w *Writer) Write(r *Record) (uint64, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if r.Time.Before(filetimeEpoch) {
		return 0, fmt.Errorf("%w: record %d, event %d: %v", ErrTimeRange, w.nextID, r.EventID, r.Time)
	}
	sh, err := w.shapeFor(r)
	if err != nil {
		return 0, fmt.Errorf("record %d, event %d: %w", w.nextID, r.EventID, err)
	}
	if w.tryWrite(r, sh) {
		return w.nextID - 1, nil
	}
	if w.nrecs == 0 {
		return 0, fmt.Errorf("%w (record %d, event %d)", ErrRecordTooLarge, w.nextID, r.EventID)
	}
	if w.nchunks+1 >= maxChunks {
		return 0, ErrFileFull
	}
	if err := w.flushChunk(); err != nil {
		return 0, err
	}
	if w.tryWrite(r, sh) {
		return w.nextID - 1, nil
	}
	return 0, fmt.Errorf("%w (record %d, event %d)", ErrRecordTooLarge, w.nextID, r.EventID)
}

// Close writes the last chunk and the file header. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.nrecs > 0 {
		if err := w.flushChunk(); err != nil {
			return err
		}
	}
	hdr := w.fileHeader()
	if w.seeker == nil {
		copy(w.mem, hdr[:])
		_, err := w.out.Write(w.mem)
		w.mem = nil
		w.err = err
		return err
	}
	if _, err := w.seeker.Seek(w.base, io.SeekStart); err != nil {
		w.err = err
		return err
	}
	if _, err := w.seeker.Write(hdr[:]); err != nil {
		w.err = err
		return err
	}
	_, err := w.seeker.Seek(w.base+w.written, io.SeekStart)
	w.err = err
	return err
}

func (w *Writer) fileHeader() [128]byte {
	var h [128]byte
	copy(h[0:], "ElfFile\x00")
	le := binary.LittleEndian
	le.PutUint64(h[8:], 0)
	if w.nchunks > 0 {
		le.PutUint64(h[16:], uint64(w.nchunks-1))
	}
	le.PutUint64(h[24:], w.nextID)
	le.PutUint32(h[32:], 128)
	le.PutUint16(h[36:], 1) // minor version
	le.PutUint16(h[38:], 3) // major version
	le.PutUint16(h[40:], fileHeaderSize)
	le.PutUint16(h[42:], uint16(w.nchunks))
	le.PutUint32(h[120:], 0) // flags: clean, not full
	le.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
	return h
}

func (w *Writer) emit(p []byte) {
	if w.err != nil {
		return
	}
	if w.seeker == nil {
		w.mem = append(w.mem, p...)
	} else if _, err := w.out.Write(p); err != nil {
		w.err = err
		return
	}
	w.written += int64(len(p))
}

// flushChunk completes the chunk header, writes the chunk and starts the
// next one.
func (w *Writer) flushChunk() error {
	b := w.buf
	le := binary.LittleEndian
	copy(b[0:], "ElfChnk\x00")
	lastID := w.nextID - 1
	le.PutUint64(b[8:], w.firstID)
	le.PutUint64(b[16:], lastID)
	le.PutUint64(b[24:], w.firstID)
	le.PutUint64(b[32:], lastID)
	le.PutUint32(b[40:], 128)
	le.PutUint32(b[44:], uint32(w.lastRecOff))
	le.PutUint32(b[48:], uint32(w.pos))
	le.PutUint32(b[52:], crc32.ChecksumIEEE(b[chunkHeaderSize:w.pos]))
	le.PutUint32(b[120:], 0)
	for i, off := range w.strHeads {
		le.PutUint32(b[128+4*i:], off)
	}
	for i, off := range w.tplHeads {
		le.PutUint32(b[384+4*i:], off)
	}
	crc := crc32.Update(crc32.ChecksumIEEE(b[:120]), crc32.IEEETable, b[128:chunkHeaderSize])
	le.PutUint32(b[124:], crc)
	w.emit(b)
	w.nchunks++
	w.gen++
	clear(b)
	w.pos = chunkHeaderSize
	w.nrecs = 0
	w.strHeads = [64]uint32{}
	w.tplHeads = [32]uint32{}
	clear(w.names)
	return w.err
}
