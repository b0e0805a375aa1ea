package evtxw

import (
	"encoding/binary"
	"fmt"
)

// This file holds template shapes, the record writer, and the binary XML of
// template definitions.

// recordFlags returns the shape flags of r.
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
	w.emptyElem("TimeCreated", "SystemTime", true, slotTimeCreated, typeFileTime)
	w.simpleElem("EventRecordID", slotRecordID, typeUint64)
	activity := byte(typeString)
	if f&flagActivityGUID != 0 {
		activity = typeGUID
	}
	w.emptyElem("Correlation", "ActivityID", f&flagActivityID != 0, slotActivityID, activity)
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
	user := byte(typeString)
	if f&flagUserSID != 0 {
		user = typeSID
	}
	w.emptyElem("Security", "UserID", f&flagUserID != 0, slotUserID, user)
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

// emptyElem writes <name attr="{slot}"/>, or <name/> without the
// attribute when has is false (Correlation, Security, TimeCreated).
func (w *Writer) emptyElem(name, attr string, has bool, slot int, typ byte) {
	e := w.openElem(name, has)
	if has {
		al := w.attrList()
		w.attr(attr, true)
		w.subst(slot, typ)
		w.endAttrList(al)
	}
	w.put8(0x03)
	w.endElem(e, false)
}
