package evtxw

import (
	"encoding/binary"
	"time"
	"unicode/utf8"
)

// This file holds the template instance values and the low-level encoders.

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
	// Each value is written, then described by its slot's descriptor.
	str := func(slot int, x string) { p := w.pos; w.putUTF16(x); v(slot, typeString, p) }
	u8 := func(slot int, x uint8) { p := w.pos; w.put8(x); v(slot, typeUint8, p) }
	u16 := func(slot int, x uint16) { p := w.pos; w.put16(x); v(slot, typeUint16, p) }
	u32 := func(slot int, x uint32) { p := w.pos; w.put32(x); v(slot, typeUint32, p) }
	u64 := func(slot int, typ byte, x uint64) { p := w.pos; w.put64(x); v(slot, typ, p) }

	str(slotProvider, r.Provider)
	if f&flagProviderGUID != 0 {
		str(slotProviderGUID, r.ProviderGUID)
	} else {
		null(slotProviderGUID)
	}
	if f&flagEventSourceName != 0 {
		str(slotEventSourceName, r.EventSourceName)
	} else {
		null(slotEventSourceName)
	}
	u16(slotEventID, r.EventID)
	if f&flagQualifiers != 0 {
		u16(slotQualifiers, r.Qualifiers)
	} else {
		null(slotQualifiers)
	}
	u8(slotVersion, r.Version)
	u8(slotLevel, r.Level)
	u16(slotTask, r.Task)
	u8(slotOpcode, r.Opcode)
	u64(slotKeywords, typeHexInt64, r.Keywords)
	u64(slotTimeCreated, typeFileTime, ft)
	u64(slotRecordID, typeUint64, id)
	switch {
	case f&flagActivityGUID != 0:
		g, _ := parseGUID(r.ActivityID)
		p := w.pos
		w.put(g[:])
		v(slotActivityID, typeGUID, p)
	case f&flagActivityID != 0:
		str(slotActivityID, r.ActivityID)
	default:
		null(slotActivityID)
	}
	u32(slotProcessID, r.ProcessID)
	u32(slotThreadID, r.ThreadID)
	str(slotChannel, r.Channel)
	str(slotComputer, r.Computer)
	switch {
	case f&flagUserSID != 0:
		p := w.pos
		w.putSID(r.UserSID)
		v(slotUserID, typeSID, p)
	case f&flagUserID != 0:
		str(slotUserID, r.UserSID)
	default:
		null(slotUserID)
	}
	for i := range fields {
		str(numSystemSlots+i, fields[i].Value)
	}
}

// reserve advances over n bytes (already zero in a fresh chunk).
func (w *Writer) reserve(n int) bool {
	if w.full || w.pos+n > chunkFill {
		w.full = true
		return false
	}
	w.pos += n
	return true
}

func (w *Writer) put(p []byte) {
	if w.full || w.pos+len(p) > chunkFill {
		w.full = true
		return
	}
	w.pos += copy(w.buf[w.pos:], p)
}

func (w *Writer) put8(v byte) {
	if w.full || w.pos+1 > chunkFill {
		w.full = true
		return
	}
	w.buf[w.pos] = v
	w.pos++
}

func (w *Writer) put16(v uint16) {
	if w.full || w.pos+2 > chunkFill {
		w.full = true
		return
	}
	binary.LittleEndian.PutUint16(w.buf[w.pos:], v)
	w.pos += 2
}

func (w *Writer) put32(v uint32) {
	if w.full || w.pos+4 > chunkFill {
		w.full = true
		return
	}
	binary.LittleEndian.PutUint32(w.buf[w.pos:], v)
	w.pos += 4
}

func (w *Writer) put64(v uint64) {
	if w.full || w.pos+8 > chunkFill {
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
	if p+2*len(s) > chunkFill && p+utf16Len(s) > chunkFill {
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
