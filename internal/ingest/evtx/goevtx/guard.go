package goevtx

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// golang-evtx follows every template instance token to its definition and
// parses that definition again, recursively and with no depth limit (inside
// a definition, and whenever its template table misses, it has no memory of
// what it is already parsing). A definition that reaches itself makes it
// recurse until the Go runtime's stack limit: a fatal error, which no
// recover catches, ending the whole run. A "diamond" of definitions that
// each use the next one twice makes it work exponentially.
//
// checkTemplates walks the chunk the way golang-evtx's parser does (the
// same tokens, sizes, inline names and definitions, value arrays) from
// every place golang-evtx starts parsing: each template-table head and each
// record header magic in the chunk (golang-evtx only reaches some of them).
// It assumes golang-evtx's template table always misses, so it visits at
// least every definition golang-evtx would. A definition entered again
// while it is being parsed is a cycle; too many tokens or too deep a
// recursion is refused too. Refusing only costs the fallback for that one
// damaged chunk; missing a cycle would cost the whole run.

// ErrTemplateCycle means golang-evtx could recurse without end (or for an
// exponential time) on a chunk, so the chunk is not handed to it.
var ErrTemplateCycle = errors.New("template definitions reference each other in a cycle")

const (
	templateTableAt  = 0x180
	templateTableLen = 32
	chunkHeaderLen   = 512
	recordHeaderLen  = 24
	// maxSteps bounds the tokens walked per chunk, maxNesting the
	// recursion of the walk; both far above what real chunks need.
	maxSteps   = 1 << 20
	maxNesting = 2048
	// maxValues is golang-evtx's MaxSliceSize for value arrays.
	maxValues = 1024
)

// checkTemplates returns an error wrapping ErrTemplateCycle when golang-evtx
// must not be given chunk c.
func checkTemplates(c []byte) error {
	w := &gwalk{c: c, active: map[int]bool{}}
	if len(c) >= chunkHeaderLen {
		for i := 0; i < templateTableLen; i++ {
			if d := int(int32(binary.LittleEndian.Uint32(c[templateTableAt+4*i:]))); d > 0 {
				w.def(d)
				if w.err != nil {
					return w.err
				}
			}
		}
	}
	for p := 0; p+recordHeaderLen < len(c); p++ {
		if c[p] == '*' && c[p+1] == '*' && c[p+2] == 0 && c[p+3] == 0 {
			w.seq(p+recordHeaderLen, false)
			if w.err != nil {
				return w.err
			}
		}
	}
	return nil
}

// gwalk is one walk over a chunk. err is set (and everything unwinds) on
// a cycle or when a bound is exceeded; parse errors just end a sequence,
// as they end golang-evtx's.
type gwalk struct {
	c      []byte
	active map[int]bool
	steps  int
	depth  int
	err    error
}

const (
	kOther = iota
	kEOF
	kElement
)

func (w *gwalk) u32(p int) (int, bool) {
	if p < 0 || p+4 > len(w.c) {
		return 0, false
	}
	return int(int32(binary.LittleEndian.Uint32(w.c[p:]))), true
}

// seq parses items from p until an EOF token or an error, as golang-evtx
// does for a definition body and a fragment.
func (w *gwalk) seq(p int, ti bool) (int, bool) {
	for w.err == nil {
		n, k, ok := w.one(p, ti)
		if !ok {
			return p, false
		}
		p = n
		if k == kEOF {
			return p, true
		}
	}
	return p, false
}

// name skips an inline name (golang-evtx's Name.Parse).
func (w *gwalk) name(p int) (int, bool) {
	if p+8 > len(w.c) {
		return p, false
	}
	n := int(binary.LittleEndian.Uint16(w.c[p+6:]))
	q := p + 8 + 2*(n+1)
	return q, q <= len(w.c)
}

// one parses one item at p as golang-evtx's Parse does.
func (w *gwalk) one(p int, ti bool) (next, kind int, ok bool) {
	if w.err != nil || p < 0 || p >= len(w.c) {
		return p, kOther, false
	}
	if w.steps++; w.steps > maxSteps {
		w.err = fmt.Errorf("%w: more than %d tokens to parse", ErrTemplateCycle, maxSteps)
		return p, kOther, false
	}
	if w.depth++; w.depth > maxNesting {
		w.err = fmt.Errorf("%w: nested more than %d deep", ErrTemplateCycle, maxNesting)
		return p, kOther, false
	}
	defer func() { w.depth-- }()
	c := w.c
	switch t := c[p]; t {
	case 0x0f: // fragment header, then one item; an element starts a sequence
		q := p + 4
		n, k, ok := w.one(q, ti)
		if !ok {
			return n, kOther, false
		}
		if k == kElement {
			return w.seqAfter(n, ti)
		}
		return n, kOther, true
	case 0x01, 0x41: // open start element
		q := p + 1
		if ti {
			q += 2
		}
		q += 4
		nameOff, ok := w.u32(q)
		if !ok {
			return q, kOther, false
		}
		q += 4
		if nameOff == q {
			if q, ok = w.name(q); !ok {
				return q, kOther, false
			}
		}
		if t == 0x41 {
			q += 4 // attribute list size
			for {
				if q >= len(c) || (c[q] != 0x06 && c[q] != 0x46) {
					return q, kOther, false
				}
				last := c[q] == 0x06
				q++
				an, ok := w.u32(q)
				if !ok {
					return q, kOther, false
				}
				q += 4
				if an == q {
					q, _ = w.name(q) // golang-evtx ignores this error
				}
				if q, _, ok = w.one(q, false); !ok {
					return q, kOther, false
				}
				if last {
					break
				}
			}
		}
		if q >= len(c) || (c[q] != 0x02 && c[q] != 0x03) {
			return q, kOther, false
		}
		return q + 1, kElement, true
	case 0x0d, 0x0e: // substitutions
		return p + 4, kOther, p+4 <= len(c)
	case 0x08: // character reference
		return p + 3, kOther, p+3 <= len(c)
	case 0x05, 0x45: // value text: UTF-16 string, int16 length
		if p+4 > len(c) || c[p+1] != 0x01 {
			return p, kOther, false
		}
		n := int(int16(binary.LittleEndian.Uint16(c[p+2:])))
		q := p + 4 + 2*n
		return q, kOther, n >= 0 && q <= len(c)
	case 0x09, 0x49: // entity reference
		n, ok := w.u32(p + 1)
		if !ok {
			return p, kOther, false
		}
		q := p + 5
		if n == q {
			return w.nameItem(q)
		}
		return q, kOther, true
	case 0x02, 0x03, 0x04:
		return p + 1, kOther, true
	case 0x00:
		return p + 1, kEOF, true
	case 0x0c:
		return w.instance(p)
	}
	return p, kOther, false
}

func (w *gwalk) nameItem(p int) (int, int, bool) {
	q, ok := w.name(p)
	return q, kOther, ok
}

// seqAfter goes on with a fragment's sequence after its first element.
func (w *gwalk) seqAfter(p int, ti bool) (int, int, bool) {
	q, ok := w.seq(p, ti)
	return q, kOther, ok
}

// instance parses a template instance the way golang-evtx does when its
// table misses: the definition (where it points, or inline), then the
// value array, whose BinXML values are parsed too.
func (w *gwalk) instance(p int) (int, int, bool) {
	q := p + 10
	d, ok := w.u32(p + 6)
	if !ok {
		return p, kOther, false
	}
	if d == q {
		if q, ok = w.def(d); !ok {
			return q, kOther, false
		}
	} else if _, ok = w.def(d); !ok {
		return q, kOther, false
	}
	n, ok := w.u32(q)
	if !ok || n < 0 || n > maxValues {
		return q, kOther, false
	}
	q += 4
	descs := q
	q += 4 * n
	if q > len(w.c) {
		return q, kOther, false
	}
	// golang-evtx reads each value by its type (fixed widths for numbers,
	// the declared size for strings and binary); where the two disagree
	// a BinXML value is walked at both places.
	pos, declared := q, q
	for i := 0; i < n && w.err == nil; i++ {
		size := int(binary.LittleEndian.Uint16(w.c[descs+4*i:]))
		typ := w.c[descs+4*i+2]
		if typ == 0x21 {
			w.seqOne(pos)
			if declared != pos {
				w.seqOne(declared)
			}
		}
		pos += valueWidth(w.c, pos, typ, size)
		declared += size
	}
	return pos, kOther, pos <= len(w.c)
}

// seqOne parses one item of a BinXML value (golang-evtx's Parse with no
// chunk, in template mode).
func (w *gwalk) seqOne(p int) {
	w.one(p, true)
}

// def parses the template definition at d (golang-evtx's
// TemplateDefinitionData.Parse) and returns the position after it.
func (w *gwalk) def(d int) (int, bool) {
	if d < 0 || d+28 > len(w.c) {
		return d, false
	}
	if w.active[d] {
		w.err = fmt.Errorf("%w (definition at chunk offset %d reaches itself)", ErrTemplateCycle, d)
		return d, false
	}
	if w.c[d+24] != 0x0f {
		return d, false
	}
	w.active[d] = true
	defer delete(w.active, d)
	if w.depth++; w.depth > maxNesting {
		w.err = fmt.Errorf("%w: nested more than %d deep", ErrTemplateCycle, maxNesting)
		return d, false
	}
	defer func() { w.depth-- }()
	return w.seq(d+28, true)
}

// valueWidth is how many bytes golang-evtx's ParseValueReader consumes for
// a value of type typ with declared size.
func valueWidth(c []byte, p int, typ uint8, size int) int {
	switch typ {
	case 0x01: // UTF-16 string: whole code units
		return size &^ 1
	case 0x03, 0x04:
		return 1
	case 0x05, 0x06:
		return 2
	case 0x07, 0x08, 0x0b, 0x0d, 0x14:
		return 4
	case 0x09, 0x0a, 0x0c, 0x11, 0x15:
		return 8
	case 0x0f, 0x12:
		return 16
	case 0x13: // SID: revision, count, authority, count sub-authorities
		if p+2 > len(c) {
			return size
		}
		return 8 + 4*int(c[p+1])
	}
	return size
}
