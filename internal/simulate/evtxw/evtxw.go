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
	"unicode/utf8"
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

// ---------------------------------------------------------------- shapes

func recordFlags(r *Record) uint16 {
	var f uint16
	if r.ProviderGUID != "" {
		f |= flagProviderGUID
	}
	if r.EventSourceName != "" {
		f |= flagEventSourceName
	}
	if r.HasQualifiers {
		f |= flagQualifiers
	}
	if r.ActivityID != "" {
		f |= flagActivityID
		if _, ok := parseGUID(r.ActivityID); ok {
			f |= flagActivityGUID
		}
	}
	if r.UserSID != "" {
		f |= flagUserID
		if _, ok := sidSize(r.UserSID); ok {
			f |= flagUserSID
		}
	}
	if r.UserData != nil {
		f |= flagUserData
		if r.UserData.Namespace != "" {
			f |= flagUserDataNS
		}
	}
	return f
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	// 0xff never occurs in UTF-8, so it separates names unambiguously.
	h ^= 0xff
	h *= fnvPrime
	return h
}

// shapeFor returns the cached shape of r, creating it on first sight.
// Lookup hashes the names in place so the common case allocates nothing.
func (w *Writer) shapeFor(r *Record) (*shape, error) {
	flags := recordFlags(r)
	h := uint64(fnvOffset)
	h ^= uint64(flags)
	h *= fnvPrime
	fields := r.Data
	if r.UserData != nil {
		fields = r.UserData.Fields
		h = fnvString(h, r.UserData.Element)
		h = fnvString(h, r.UserData.Namespace)
	}
	for i := range fields {
		h = fnvString(h, fields[i].Name)
	}
	for _, sh := range w.shapes[h] {
		if sh.matches(r, flags, fields) {
			return sh, nil
		}
	}
	// New shape: check its names once, here, rather than per record.
	if r.UserData != nil && !validName(r.UserData.Element) {
		return nil, fmt.Errorf("%w: UserData element %q", ErrBadName, r.UserData.Element)
	}
	for i := range fields {
		name := fields[i].Name
		if (name != "" || r.UserData != nil) && !validName(name) {
			return nil, fmt.Errorf("%w: field %d %q", ErrBadName, i+1, name)
		}
	}
	sh := &shape{flags: flags, names: make([]string, len(fields))}
	for i := range fields {
		sh.names[i] = fields[i].Name
	}
	if r.UserData != nil {
		sh.udElement = r.UserData.Element
		sh.udNS = r.UserData.Namespace
	}
	// The template id and GUID only need to be stable and distinct; derive
	// them from the shape hash and the order of first sight.
	sh.id = uint32(h) ^ uint32(h>>32)
	binary.LittleEndian.PutUint32(sh.guid[0:], sh.id)
	binary.LittleEndian.PutUint64(sh.guid[4:], h*fnvPrime+uint64(len(w.shapes[h])))
	binary.LittleEndian.PutUint32(sh.guid[12:], uint32(len(fields))<<16|uint32(flags))
	w.shapes[h] = append(w.shapes[h], sh)
	return sh, nil
}

// validName reports whether s is an XML name in the subset that
// python-evtx's renderer accepts and Windows manifests use.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func (sh *shape) matches(r *Record, flags uint16, fields []Field) bool {
	if sh.flags != flags || len(sh.names) != len(fields) {
		return false
	}
	if r.UserData != nil && (sh.udElement != r.UserData.Element || sh.udNS != r.UserData.Namespace) {
		return false
	}
	for i := range fields {
		if sh.names[i] != fields[i].Name {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- records

// tryWrite writes r into the current chunk. On overflow it undoes
// everything it changed and reports false.
func (w *Writer) tryWrite(r *Record, sh *shape) bool {
	start := w.pos
	w.full = false
	id := w.nextID
	ft := fileTime(r.Time)

	w.put([]byte{'*', '*', 0, 0})
	w.put32(0) // size, patched below
	w.put64(id)
	w.put64(ft)
	w.put([]byte{0x0f, 0x01, 0x01, 0x00}) // fragment header
	w.put([]byte{0x0c, 0x01})
	w.put32(sh.id)
	defined := sh.gen != w.gen
	defOff := sh.defOff
	if defined {
		w.savedStr, w.savedTpl = w.strHeads, w.tplHeads
		defOff = uint32(w.pos + 4) // inline: right after this field
		w.put32(defOff)
		w.writeTemplate(sh, defOff)
	} else {
		w.put32(defOff)
	}
	w.writeValues(r, sh, id, ft)
	w.put8(0x00) // end of fragment
	// Windows pads records to 8 bytes; the chunk is zeroed, so skipping
	// over the padding writes it.
	w.reserve((8 - (w.pos-start+4)%8) % 8)
	size := w.pos - start + 4
	w.put32(uint32(size))
	if w.full {
		clear(w.buf[start:min(w.pos, chunkSize)])
		w.pos = start
		if defined {
			w.strHeads, w.tplHeads = w.savedStr, w.savedTpl
			for name, off := range w.names {
				if int(off) >= start {
					delete(w.names, name)
				}
			}
		}
		return false
	}
	binary.LittleEndian.PutUint32(w.buf[start+4:], uint32(size))
	if defined {
		sh.gen, sh.defOff = w.gen, defOff
	}
	if w.nrecs == 0 {
		w.firstID = id
	}
	w.nrecs++
	w.lastRecOff = start
	w.nextID++
	return true
}

// writeTemplate writes the definition of sh at the current position, which
// must be defOff, and links it into the chunk's template table.
func (w *Writer) writeTemplate(sh *shape, defOff uint32) {
	bucket := sh.id % 32
	w.put32(w.tplHeads[bucket]) // next definition in the same bucket
	w.put(sh.guid[:])
	sizeAt := w.pos
	w.put32(0)
	body := w.pos
	w.put([]byte{0x0f, 0x01, 0x01, 0x00})

	f := sh.flags
	ev := w.openElem("Event", true)
	al := w.attrList()
	w.attr("xmlns", true)
	w.text(eventNamespace)
	w.endAttrList(al)
	w.put8(0x02)

	sys := w.openElem("System", false)
	w.put8(0x02)
	{
		e := w.openElem("Provider", true)
		al := w.attrList()
		w.attr("Name", f&(flagProviderGUID|flagEventSourceName) == 0)
		w.subst(slotProvider, typeString)
		if f&flagProviderGUID != 0 {
			w.attr("Guid", f&flagEventSourceName == 0)
			w.subst(slotProviderGUID, typeString)
		}
		if f&flagEventSourceName != 0 {
			w.attr("EventSourceName", true)
			w.subst(slotEventSourceName, typeString)
		}
		w.endAttrList(al)
		w.put8(0x03)
		w.endElem(e, false)
	}
	{
		e := w.openElem("EventID", f&flagQualifiers != 0)
		if f&flagQualifiers != 0 {
			al := w.attrList()
			w.attr("Qualifiers", true)
			w.subst(slotQualifiers, typeUint16)
			w.endAttrList(al)
		}
		w.put8(0x02)
		w.subst(slotEventID, typeUint16)
		w.endElem(e, true)
	}
	w.simpleElem("Version", slotVersion, typeUint8)
	w.simpleElem("Level", slotLevel, typeUint8)
	w.simpleElem("Task", slotTask, typeUint16)
	w.simpleElem("Opcode", slotOpcode, typeUint8)
	w.simpleElem("Keywords", slotKeywords, typeHexInt64)
	{
		e := w.openElem("TimeCreated", true)
		al := w.attrList()
		w.attr("SystemTime", true)
		w.subst(slotTimeCreated, typeFileTime)
		w.endAttrList(al)
		w.put8(0x03)
		w.endElem(e, false)
	}
	w.simpleElem("EventRecordID", slotRecordID, typeUint64)
	{
		has := f&flagActivityID != 0
		e := w.openElem("Correlation", has)
		if has {
			al := w.attrList()
			w.attr("ActivityID", true)
			if f&flagActivityGUID != 0 {
				w.subst(slotActivityID, typeGUID)
			} else {
				w.subst(slotActivityID, typeString)
			}
			w.endAttrList(al)
		}
		w.put8(0x03)
		w.endElem(e, false)
	}
	{
		e := w.openElem("Execution", true)
		al := w.attrList()
		w.attr("ProcessID", false)
		w.subst(slotProcessID, typeUint32)
		w.attr("ThreadID", true)
		w.subst(slotThreadID, typeUint32)
		w.endAttrList(al)
		w.put8(0x03)
		w.endElem(e, false)
	}
	w.simpleElem("Channel", slotChannel, typeString)
	w.simpleElem("Computer", slotComputer, typeString)
	{
		has := f&flagUserID != 0
		e := w.openElem("Security", has)
		if has {
			al := w.attrList()
			w.attr("UserID", true)
			if f&flagUserSID != 0 {
				w.subst(slotUserID, typeSID)
			} else {
				w.subst(slotUserID, typeString)
			}
			w.endAttrList(al)
		}
		w.put8(0x03)
		w.endElem(e, false)
	}
	w.endElem(sys, true)

	if f&flagUserData != 0 {
		ud := w.openElem("UserData", false)
		w.put8(0x02)
		hasNS := f&flagUserDataNS != 0
		e := w.openElem(sh.udElement, hasNS)
		if hasNS {
			al := w.attrList()
			w.attr("xmlns", true)
			w.text(sh.udNS)
			w.endAttrList(al)
		}
		w.put8(0x02)
		for i, name := range sh.names {
			w.simpleElem(name, numSystemSlots+i, typeString)
		}
		w.endElem(e, true)
		w.endElem(ud, true)
	} else if len(sh.names) == 0 {
		e := w.openElem("EventData", false)
		w.put8(0x03)
		w.endElem(e, false)
	} else {
		ed := w.openElem("EventData", false)
		w.put8(0x02)
		for i, name := range sh.names {
			named := name != ""
			e := w.openElem("Data", named)
			if named {
				al := w.attrList()
				w.attr("Name", true)
				w.text(name)
				w.endAttrList(al)
			}
			w.put8(0x02)
			w.subst(numSystemSlots+i, typeString)
			w.endElem(e, true)
		}
		w.endElem(ed, true)
	}
	w.endElem(ev, true)
	w.put8(0x00) // end of template fragment
	if !w.full {
		binary.LittleEndian.PutUint32(w.buf[sizeAt:], uint32(w.pos-body))
		w.tplHeads[bucket] = defOff
	}
}

// simpleElem writes <name>%slot</name>.
func (w *Writer) simpleElem(name string, slot int, typ byte) {
	e := w.openElem(name, false)
	w.put8(0x02)
	w.subst(slot, typ)
	w.endElem(e, true)
}

// openElem writes an open-start-element token and the element name, and
// returns where the element's data size goes.
func (w *Writer) openElem(name string, hasAttrs bool) int {
	if hasAttrs {
		w.put8(0x41)
	} else {
		w.put8(0x01)
	}
	w.put16(0xffff) // dependency identifier: none
	at := w.pos
	w.put32(0)
	w.nameRef(name)
	return at
}

// endElem closes an element: with an end-element token when it has
// content, or not at all when the close-empty token already ended it; then
// patches its data size (everything after the size field).
func (w *Writer) endElem(sizeAt int, withEndToken bool) {
	if withEndToken {
		w.put8(0x04)
	}
	if !w.full {
		binary.LittleEndian.PutUint32(w.buf[sizeAt:], uint32(w.pos-sizeAt-4))
	}
}

func (w *Writer) attrList() int {
	at := w.pos
	w.put32(0)
	return at
}

func (w *Writer) endAttrList(at int) {
	if !w.full {
		binary.LittleEndian.PutUint32(w.buf[at:], uint32(w.pos-at-4))
	}
}

// attr writes an attribute token and name; its value follows.
func (w *Writer) attr(name string, last bool) {
	if last {
		w.put8(0x06)
	} else {
		w.put8(0x46)
	}
	w.nameRef(name)
}

func (w *Writer) subst(slot int, typ byte) {
	w.put8(0x0d)
	w.put16(uint16(slot))
	w.put8(typ)
}

// text writes a literal string value token.
func (w *Writer) text(s string) {
	w.put8(0x05)
	w.put8(typeString)
	at := w.pos
	w.put16(0)
	n := w.putUTF16(s)
	if !w.full {
		binary.LittleEndian.PutUint16(w.buf[at:], uint16(n/2))
	}
}

// nameRef writes the chunk offset of name, followed by the name itself if
// this is its first use in the chunk, and links it into the string table.
func (w *Writer) nameRef(name string) {
	if off, ok := w.names[name]; ok {
		w.put32(off)
		return
	}
	off := uint32(w.pos + 4)
	w.put32(off)
	h := nameHash(name)
	bucket := h % 64
	w.put32(w.strHeads[bucket])
	w.put16(uint16(h))
	at := w.pos
	w.put16(0)
	n := w.putUTF16(name)
	w.put16(0)
	if w.full {
		return
	}
	binary.LittleEndian.PutUint16(w.buf[at:], uint16(n/2))
	w.strHeads[bucket] = off
	w.names[name] = off
}

// nameHash is the string-table hash Windows uses (verified on real files).
func nameHash(s string) uint32 {
	var h uint32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = h*65599 + uint32(0xd800+(r>>10))
			h = h*65599 + uint32(0xdc00+(r&0x3ff))
			continue
		}
		h = h*65599 + uint32(r)
	}
	return h
}

// writeValues writes the template instance data: the value count, the
// value descriptors and the values.
func (w *Writer) writeValues(r *Record, sh *shape, id, ft uint64) {
	fields := r.Data
	if r.UserData != nil {
		fields = r.UserData.Fields
	}
	n := numSystemSlots + len(fields)
	w.put32(uint32(n))
	desc := w.pos
	if !w.reserve(4 * n) {
		return
	}
	f := sh.flags
	le := binary.LittleEndian
	v := func(slot int, typ byte, start int) {
		if w.full {
			return
		}
		size := w.pos - start
		if size > 0xffff {
			w.full = true
			return
		}
		le.PutUint16(w.buf[desc+4*slot:], uint16(size))
		w.buf[desc+4*slot+2] = typ
		w.buf[desc+4*slot+3] = 0
	}
	null := func(slot int) { v(slot, typeNull, w.pos) }

	p := w.pos
	w.putUTF16(r.Provider)
	v(slotProvider, typeString, p)
	if f&flagProviderGUID != 0 {
		p = w.pos
		w.putUTF16(r.ProviderGUID)
		v(slotProviderGUID, typeString, p)
	} else {
		null(slotProviderGUID)
	}
	if f&flagEventSourceName != 0 {
		p = w.pos
		w.putUTF16(r.EventSourceName)
		v(slotEventSourceName, typeString, p)
	} else {
		null(slotEventSourceName)
	}
	p = w.pos
	w.put16(r.EventID)
	v(slotEventID, typeUint16, p)
	if f&flagQualifiers != 0 {
		p = w.pos
		w.put16(r.Qualifiers)
		v(slotQualifiers, typeUint16, p)
	} else {
		null(slotQualifiers)
	}
	p = w.pos
	w.put8(r.Version)
	v(slotVersion, typeUint8, p)
	p = w.pos
	w.put8(r.Level)
	v(slotLevel, typeUint8, p)
	p = w.pos
	w.put16(r.Task)
	v(slotTask, typeUint16, p)
	p = w.pos
	w.put8(r.Opcode)
	v(slotOpcode, typeUint8, p)
	p = w.pos
	w.put64(r.Keywords)
	v(slotKeywords, typeHexInt64, p)
	p = w.pos
	w.put64(ft)
	v(slotTimeCreated, typeFileTime, p)
	p = w.pos
	w.put64(id)
	v(slotRecordID, typeUint64, p)
	switch {
	case f&flagActivityGUID != 0:
		g, _ := parseGUID(r.ActivityID)
		p = w.pos
		w.put(g[:])
		v(slotActivityID, typeGUID, p)
	case f&flagActivityID != 0:
		p = w.pos
		w.putUTF16(r.ActivityID)
		v(slotActivityID, typeString, p)
	default:
		null(slotActivityID)
	}
	p = w.pos
	w.put32(r.ProcessID)
	v(slotProcessID, typeUint32, p)
	p = w.pos
	w.put32(r.ThreadID)
	v(slotThreadID, typeUint32, p)
	p = w.pos
	w.putUTF16(r.Channel)
	v(slotChannel, typeString, p)
	p = w.pos
	w.putUTF16(r.Computer)
	v(slotComputer, typeString, p)
	switch {
	case f&flagUserSID != 0:
		p = w.pos
		w.putSID(r.UserSID)
		v(slotUserID, typeSID, p)
	case f&flagUserID != 0:
		p = w.pos
		w.putUTF16(r.UserSID)
		v(slotUserID, typeString, p)
	default:
		null(slotUserID)
	}
	for i := range fields {
		p = w.pos
		w.putUTF16(fields[i].Value)
		v(numSystemSlots+i, typeString, p)
	}
}

// ---------------------------------------------------------------- encoding

// reserve advances over n bytes (already zero in a fresh chunk).
func (w *Writer) reserve(n int) bool {
	if w.full || w.pos+n > chunkSize {
		w.full = true
		return false
	}
	w.pos += n
	return true
}

func (w *Writer) put(p []byte) {
	if w.full || w.pos+len(p) > chunkSize {
		w.full = true
		return
	}
	w.pos += copy(w.buf[w.pos:], p)
}

func (w *Writer) put8(v byte) {
	if w.full || w.pos+1 > chunkSize {
		w.full = true
		return
	}
	w.buf[w.pos] = v
	w.pos++
}

func (w *Writer) put16(v uint16) {
	if w.full || w.pos+2 > chunkSize {
		w.full = true
		return
	}
	binary.LittleEndian.PutUint16(w.buf[w.pos:], v)
	w.pos += 2
}

func (w *Writer) put32(v uint32) {
	if w.full || w.pos+4 > chunkSize {
		w.full = true
		return
	}
	binary.LittleEndian.PutUint32(w.buf[w.pos:], v)
	w.pos += 4
}

func (w *Writer) put64(v uint64) {
	if w.full || w.pos+8 > chunkSize {
		w.full = true
		return
	}
	binary.LittleEndian.PutUint64(w.buf[w.pos:], v)
	w.pos += 8
}

// putUTF16 writes s as UTF-16LE without a terminator and returns the byte
// count. Invalid UTF-8 is written as U+FFFD.
func (w *Writer) putUTF16(s string) int {
	if w.full {
		return 0
	}
	b := w.buf
	p := w.pos
	if p+2*len(s) > chunkSize && p+utf16Len(s) > chunkSize {
		w.full = true
		return 0
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			b[p] = c
			b[p+1] = 0
			p += 2
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			r -= 0x10000
			binary.LittleEndian.PutUint16(b[p:], uint16(0xd800+(r>>10)))
			binary.LittleEndian.PutUint16(b[p+2:], uint16(0xdc00+(r&0x3ff)))
			p += 4
			continue
		}
		binary.LittleEndian.PutUint16(b[p:], uint16(r))
		p += 2
	}
	n := p - w.pos
	w.pos = p
	return n
}

// utf16Len is the UTF-16 byte length of s.
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n += 2
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			n += 4
		} else {
			n += 2
		}
	}
	return n
}

var filetimeEpoch = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)

// fileTime converts t to a FILETIME: 100 ns intervals since 1601-01-01 UTC.
func fileTime(t time.Time) uint64 {
	const epochDelta = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	return uint64(t.Unix()*10000000 + int64(t.Nanosecond()/100) + epochDelta)
}

// sidSize parses a SID string "S-R-A-S1-S2…" and returns its binary size.
func sidSize(s string) (int, bool) {
	_, _, _, n, ok := parseSID(s, nil)
	return 8 + 4*n, ok
}

// parseSID parses s; when subs is non-nil the sub-authorities are stored in
// it (it must hold 15).
func parseSID(s string, subs []uint32) (rev uint8, auth uint64, _ []uint32, n int, ok bool) {
	if len(s) < 4 || (s[0] != 'S' && s[0] != 's') || s[1] != '-' {
		return 0, 0, nil, 0, false
	}
	i := 2
	num := func(max uint64) (uint64, bool) {
		start := i
		var v uint64
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			v = v*10 + uint64(s[i]-'0')
			if v > max {
				return 0, false
			}
			i++
		}
		return v, i > start
	}
	r, ok := num(255)
	if !ok || i >= len(s) || s[i] != '-' {
		return 0, 0, nil, 0, false
	}
	i++
	a, ok := num(1<<48 - 1)
	if !ok {
		return 0, 0, nil, 0, false
	}
	for i < len(s) {
		if s[i] != '-' || n == 15 {
			return 0, 0, nil, 0, false
		}
		i++
		v, ok := num(1<<32 - 1)
		if !ok {
			return 0, 0, nil, 0, false
		}
		if subs != nil {
			subs[n] = uint32(v)
		}
		n++
	}
	return uint8(r), a, subs, n, true
}

func (w *Writer) putSID(s string) {
	var subs [15]uint32
	rev, auth, _, n, _ := parseSID(s, subs[:])
	w.put8(rev)
	w.put8(uint8(n))
	for shift := 40; shift >= 0; shift -= 8 {
		w.put8(byte(auth >> shift))
	}
	for _, v := range subs[:n] {
		w.put32(v)
	}
}

// parseGUID parses "{01234567-89ab-cdef-0123-456789abcdef}" (braces
// optional) into its little-endian binary form.
func parseGUID(s string) (g [16]byte, ok bool) {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, false
	}
	var raw [16]byte
	j := 0
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return g, false
		}
		raw[j] = hi<<4 | lo
		j++
		i++
	}
	// Data1, Data2 and Data3 are little-endian; Data4 is a byte string.
	g[0], g[1], g[2], g[3] = raw[3], raw[2], raw[1], raw[0]
	g[4], g[5] = raw[5], raw[4]
	g[6], g[7] = raw[7], raw[6]
	copy(g[8:], raw[8:])
	return g, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
