package binxml

import (
	"encoding/binary"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// builder writes BinXML into a chunk by hand, so the tests can cover
// shapes the real samples lack (records without a template instance,
// nested BinXML values, character and entity references).
type builder struct {
	b     []byte
	depID bool
}

func (w *builder) u8(v byte)    { w.b = append(w.b, v) }
func (w *builder) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *builder) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *builder) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }

func utf16le(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return out
}

// name writes a name reference with the name inline.
func (w *builder) name(s string) {
	w.u32(uint32(len(w.b) + 4))
	w.u32(0)
	w.u16(0)
	w.u16(uint16(len([]rune(s))))
	w.b = append(w.b, utf16le(s)...)
	w.u16(0)
}

func (w *builder) text(s string) {
	w.u8(tokValue)
	w.u8(vtString)
	w.u16(uint16(len(utf16le(s)) / 2))
	w.b = append(w.b, utf16le(s)...)
}

type battr struct {
	name string
	val  func()
}

// elem writes <name attrs>body</name> (or an empty element when body is nil).
func (w *builder) elem(name string, attrs []battr, body func()) {
	t := byte(tokOpenStart)
	if len(attrs) > 0 {
		t |= 0x40
	}
	w.u8(t)
	if w.depID {
		w.u16(0)
	}
	w.u32(0)
	w.name(name)
	if len(attrs) > 0 {
		w.u32(0)
		for i, a := range attrs {
			tok := byte(tokAttribute)
			if i < len(attrs)-1 {
				tok |= 0x40
			}
			w.u8(tok)
			w.name(a.name)
			a.val()
		}
	}
	if body == nil {
		w.u8(tokCloseEmpty)
		return
	}
	w.u8(tokCloseStart)
	body()
	w.u8(tokEndElement)
}

func (w *builder) subst(id uint16, typ byte) {
	w.u8(tokNormalSubst)
	w.u16(id)
	w.u8(typ)
}

// chunk wraps records (BinXML bodies) into a valid 64 KiB chunk.
func chunk(bodies ...[]byte) []byte {
	c := make([]byte, ChunkSize)
	copy(c, ChunkMagic[:])
	off := ChunkHeaderSize
	for i, body := range bodies {
		size := RecordHeaderSize + len(body) + 4
		copy(c[off:], RecordMagic[:])
		binary.LittleEndian.PutUint32(c[off+4:], uint32(size))
		binary.LittleEndian.PutUint64(c[off+8:], uint64(100+i))
		binary.LittleEndian.PutUint64(c[off+16:], 133000000000000000)
		copy(c[off+RecordHeaderSize:], body)
		binary.LittleEndian.PutUint32(c[off+size-4:], uint32(size))
		off += size
	}
	binary.LittleEndian.PutUint32(c[40:], 128)
	binary.LittleEndian.PutUint32(c[48:], uint32(off))
	binary.LittleEndian.PutUint32(c[52:], crc32.ChecksumIEEE(c[ChunkHeaderSize:off]))
	h := crc32.NewIEEE()
	h.Write(c[:120])
	h.Write(c[128:512])
	binary.LittleEndian.PutUint32(c[124:], h.Sum32())
	return c
}

// body builds a record body; record bodies start at chunk offset 536 for
// the first record, which inline names must know: w.b is pre-padded.
func body(at int, f func(w *builder)) []byte {
	w := &builder{b: make([]byte, at), depID: true}
	w.u8(tokFragment)
	w.u8(1)
	w.u8(1)
	w.u8(0)
	f(w)
	w.u8(tokEOF)
	return w.b[at:]
}

func decodeAll(t *testing.T, c []byte) ([]Record, []Bad) {
	t.Helper()
	var recs []Record
	var bads []Bad
	f := NewFast()
	var notes []string
	f.Notes = func(_ int64, s string) { notes = append(notes, s) }
	if err := f.DecodeChunk(c, 4096, func(r *Record) {
		cp := *r
		cp.Fields = append([]Field(nil), r.Fields...)
		recs = append(recs, cp)
	}, func(b Bad) { bads = append(bads, b) }); err != nil {
		t.Fatal(err)
	}
	if len(notes) > 0 {
		t.Errorf("notes on a valid chunk: %v", notes)
	}
	return recs, bads
}

// TestNoTemplateRecord: a record written as plain elements, no template.
func TestNoTemplateRecord(t *testing.T) {
	first := ChunkHeaderSize + RecordHeaderSize
	b := body(first, func(w *builder) {
		w.elem("Event", nil, func() {
			w.elem("System", nil, func() {
				w.elem("Provider", []battr{{"Name", func() { w.text("Test-Provider") }}}, nil)
				w.elem("EventID", nil, func() { w.text("4624") })
				w.elem("TimeCreated", []battr{{"SystemTime", func() { w.text("2024-03-31T01:30:00.1234567Z") }}}, nil)
				w.elem("EventRecordID", nil, func() { w.text("77") })
				w.elem("Channel", nil, func() { w.text("Security") })
				w.elem("Computer", nil, func() { w.text("HOST1") })
			})
			w.elem("EventData", nil, func() {
				w.elem("Data", []battr{{"Name", func() { w.text("TargetUserName") }}}, func() { w.text("bob") })
				w.elem("Data", nil, func() {
					w.text("a")
					w.u8(tokCharRef)
					w.u16('<')
					w.u8(tokEntityRef)
					w.name("amp")
					w.text("ü")
				})
				w.elem("Data", nil, func() { w.text("second") })
			})
		})
	})
	recs, bads := decodeAll(t, chunk(b))
	if len(bads) > 0 || len(recs) != 1 {
		t.Fatalf("recs %d bads %v", len(recs), bads)
	}
	r := recs[0]
	if r.Provider != "Test-Provider" || r.EventID != 4624 || r.RecordID != 77 || r.HeaderID != 100 ||
		r.Channel != "Security" || r.Computer != "HOST1" || r.Offset != 4096+ChunkHeaderSize {
		t.Errorf("system: %+v", r)
	}
	if want := time.Date(2024, 3, 31, 1, 30, 0, 123456700, time.UTC); !r.Time.Equal(want) {
		t.Errorf("time %v", r.Time)
	}
	want := []Field{{"TargetUserName", "bob"}, {"Data", "a<&ü"}, {"Data_2", "second"}}
	if !reflect.DeepEqual(r.Fields, want) {
		t.Errorf("fields %#v", r.Fields)
	}
}

// TestTemplateRecord: a template instance with the definition inline,
// typed values, an optional null value, and a nested BinXML value.
func TestTemplateRecord(t *testing.T) {
	first := ChunkHeaderSize + RecordHeaderSize
	var vals [][]byte
	var types []byte
	add := func(typ byte, v []byte) { types = append(types, typ); vals = append(vals, v) }
	add(vtString, utf16le("Microsoft-Windows-Security-Auditing"))              // 0
	add(vtUint16, []byte{0x20, 0x12})                                          // 1: 4640
	add(vtFileTime, binary.LittleEndian.AppendUint64(nil, 133000000000000000)) // 2
	add(vtUint64, binary.LittleEndian.AppendUint64(nil, 9))                    // 3
	add(vtSID, []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0})     // 4
	add(vtHex64, binary.LittleEndian.AppendUint64(nil, 0x3e7))                 // 5
	add(vtGUID, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}) // 6
	add(vtNull, nil)                                                           // 7
	add(vtString|vtArray, append(append(utf16le("x"), 0, 0), utf16le("y")...)) // 8
	add(vtBool, []byte{2, 0, 0, 0})                                            // 9
	add(vtBinary, []byte{0xde, 0xad})                                          // 10
	add(vtSizeT, binary.LittleEndian.AppendUint64(nil, 588))                   // 11
	nestedAt := -1                                                             // 12: nested BinXML, filled below
	b := body(first, func(w *builder) {
		w.u8(tokTemplate)
		w.u8(1)
		w.u32(7)
		w.u32(uint32(len(w.b) + 4)) // definition inline
		w.u32(0)
		w.b = append(w.b, make([]byte, 16)...)
		sizeAt := len(w.b)
		w.u32(0)
		start := len(w.b)
		w.u8(tokFragment)
		w.u8(1)
		w.u8(1)
		w.u8(0)
		w.elem("Event", nil, func() {
			w.elem("System", nil, func() {
				w.elem("Provider", []battr{{"Name", func() { w.subst(0, vtString) }}}, nil)
				w.elem("EventID", nil, func() { w.subst(1, vtUint16) })
				w.elem("TimeCreated", []battr{{"SystemTime", func() { w.subst(2, vtFileTime) }}}, nil)
				w.elem("EventRecordID", nil, func() { w.subst(3, vtUint64) })
			})
			w.elem("EventData", nil, func() {
				for i, n := range []string{"Sid", "LogonId", "Guid", "Null", "Arr", "Flag", "Bin", "Ptr"} {
					w.elem("Data", []battr{{"Name", func() { w.text(n) }}}, func() {
						if n == "Null" {
							w.u8(tokOptionalSubs)
							w.u16(7)
							w.u8(vtString)
							return
						}
						w.subst(uint16(4+i), types[4+i])
					})
				}
				w.elem("Data", []battr{{"Name", func() { w.text("Nested") }}}, func() { w.subst(12, vtBinXML) })
			})
		})
		w.u8(tokEOF)
		binary.LittleEndian.PutUint32(w.b[sizeAt:], uint32(len(w.b)-start))
		// The nested value: elements without dependency ids.
		nw := &builder{b: w.b, depID: false}
		w.u32(13)
		descAt := len(w.b)
		w.b = append(w.b, make([]byte, 13*4)...)
		for i, v := range vals {
			binary.LittleEndian.PutUint16(w.b[descAt+4*i:], uint16(len(v)))
			w.b[descAt+4*i+2] = types[i]
			w.b = append(w.b, v...)
		}
		nestedAt = len(w.b)
		nw.b = w.b
		nw.u8(tokFragment)
		nw.u8(1)
		nw.u8(1)
		nw.u8(0)
		nw.elem("Inner", nil, func() {
			nw.elem("Leaf", nil, func() { nw.text("deep") })
		})
		nw.u8(tokEOF)
		w.b = nw.b
		binary.LittleEndian.PutUint16(w.b[descAt+4*12:], uint16(len(w.b)-nestedAt))
		w.b[descAt+4*12+2] = vtBinXML
	})
	recs, bads := decodeAll(t, chunk(b))
	if len(bads) > 0 || len(recs) != 1 {
		t.Fatalf("recs %d bads %+v", len(recs), bads)
	}
	r := recs[0]
	if r.Provider != "Microsoft-Windows-Security-Auditing" || r.EventID != 4640 || r.RecordID != 9 ||
		!r.Time.Equal(FileTime(133000000000000000)) {
		t.Errorf("system: %+v", r)
	}
	want := []Field{
		{"Sid", "S-1-5-32-544"},
		{"LogonId", "0x3e7"},
		{"Guid", "{04030201-0605-0807-090A-0B0C0D0E0F10}"},
		{"Null", ""},
		{"Arr", []string{"x", "y"}},
		{"Flag", "true"},
		{"Bin", "DEAD"},
		{"Ptr", "0x24c"},
		{"Nested", []Field{{"Inner", []Field{{"Leaf", "deep"}}}}},
	}
	if !reflect.DeepEqual(r.Fields, want) {
		t.Errorf("fields\n got  %#v\n want %#v", r.Fields, want)
	}
}

// TestBrokenRecords: a record with a bad body is reported with its offset
// and the next record still decodes.
func TestBrokenRecords(t *testing.T) {
	first := ChunkHeaderSize + RecordHeaderSize
	bad := []byte{tokFragment, 1, 1, 0, 0x7f, 0x7f, 0x7f}
	good := body(first+RecordHeaderSize+len(bad)+4, func(w *builder) {
		w.elem("Event", nil, func() {
			w.elem("System", nil, func() { w.elem("EventID", nil, func() { w.text("1") }) })
		})
	})
	recs, bads := decodeAll(t, chunk(bad, good))
	if len(recs) != 1 || recs[0].EventID != 1 || len(bads) != 1 {
		t.Fatalf("recs %+v bads %+v", recs, bads)
	}
	if bads[0].Offset != 4096+ChunkHeaderSize || bads[0].RecordID != 100 || bads[0].Reason != ReasonBinXML ||
		!strings.Contains(bads[0].Err.Error(), "token") {
		t.Errorf("bad %+v", bads[0])
	}
}

// TestDeepNesting: hostile nesting is cut off, not a stack overflow.
func TestDeepNesting(t *testing.T) {
	first := ChunkHeaderSize + RecordHeaderSize
	var rec func(w *builder, n int)
	rec = func(w *builder, n int) {
		if n == 0 {
			w.text("x")
			return
		}
		w.elem("E", nil, func() { rec(w, n-1) })
	}
	b := body(first, func(w *builder) { rec(w, 500) })
	recs, bads := decodeAll(t, chunk(b))
	if len(recs) != 0 || len(bads) != 1 {
		t.Fatalf("recs %d bads %+v", len(recs), bads)
	}
}

func TestRenderValues(t *testing.T) {
	cases := []struct {
		v    raw
		want any
	}{
		{raw{typ: vtInt32, data: []byte{0xff, 0xff, 0xff, 0xff}}, "-1"},
		{raw{typ: vtUint8, data: []byte{200}}, "200"},
		{raw{typ: vtHex32, data: []byte{0x10, 0, 0, 0}}, "0x10"},
		{raw{typ: vtFileTime, data: make([]byte, 8)}, "1601-01-01T00:00:00.0000000Z"},
		{raw{typ: vtSysTime, data: []byte{0xe8, 7, 3, 0, 0, 0, 31, 0, 1, 0, 2, 0, 3, 0, 4, 0}}, "2024-03-31T01:02:03.0040000Z"},
		{raw{typ: vtBool, data: []byte{0, 0, 0, 0}}, "false"},
		{raw{typ: vtAnsi, data: []byte("caf\xe9\x00")}, "café"},
		{raw{typ: vtReal64, data: binary.LittleEndian.AppendUint64(nil, 0x3ff8000000000000)}, "1.5"},
		{raw{typ: vtUint16 | vtArray, data: []byte{1, 0, 2, 0}}, []string{"1", "2"}},
		{raw{typ: 0x7e, data: []byte{0xab}}, "AB"},
		{raw{typ: vtGUID, data: []byte{1}}, "01"},
		{raw{typ: vtString, data: utf16le("😀 x\x00")}, "😀 x"},
	}
	for _, c := range cases {
		if got := render(c.v); !reflect.DeepEqual(got, c.want) {
			t.Errorf("render(%#x %x) = %#v, want %#v", c.v.typ, c.v.data, got, c.want)
		}
	}
}

// TestSelfReferentialTemplate: a template whose body instantiates itself
// must be cut off (it would recurse forever).
func TestSelfReferentialTemplate(t *testing.T) {
	first := ChunkHeaderSize + RecordHeaderSize
	b := body(first, func(w *builder) {
		w.u8(tokTemplate)
		w.u8(1)
		w.u32(7)
		defAt := len(w.b) + 4
		w.u32(uint32(defAt))
		w.u32(0)
		w.b = append(w.b, make([]byte, 16)...)
		sizeAt := len(w.b)
		w.u32(0)
		start := len(w.b)
		w.u8(tokFragment)
		w.u8(1)
		w.u8(1)
		w.u8(0)
		w.elem("Event", nil, func() {
			// instance of this very template inside its own body, twice
			for range 2 {
				w.u8(tokTemplate)
				w.u8(1)
				w.u32(7)
				w.u32(uint32(defAt))
				w.u32(0)
			}
		})
		w.u8(tokEOF)
		binary.LittleEndian.PutUint32(w.b[sizeAt:], uint32(len(w.b)-start))
		w.u32(0) // no values
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		recs, bads := decodeAll(t, chunk(b))
		if len(recs)+len(bads) != 1 {
			t.Errorf("recs %d bads %+v", len(recs), bads)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("decoder hangs on a self-referential template")
	}
}
