package binxml

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"unicode/utf16"
	"unicode/utf8"
)

// BinXML tokens (low nibble; 0x40 is the "more/has attributes" flag).
const (
	tokEOF          = 0x00
	tokOpenStart    = 0x01
	tokCloseStart   = 0x02
	tokCloseEmpty   = 0x03
	tokEndElement   = 0x04
	tokValue        = 0x05
	tokAttribute    = 0x06
	tokCDATA        = 0x07
	tokCharRef      = 0x08
	tokEntityRef    = 0x09
	tokPITarget     = 0x0a
	tokPIData       = 0x0b
	tokTemplate     = 0x0c
	tokNormalSubst  = 0x0d
	tokOptionalSubs = 0x0e
	tokFragment     = 0x0f
)

// node kinds of a parsed BinXML tree.
const (
	nElement  = iota + 1
	nText     // literal text (value text, CDATA, resolved char/entity refs)
	nSubst    // substitution slot: index sub, declared type typ
	nTemplate // template instance: tmpl with values vals
)

// node is one piece of a parsed BinXML document. Templates are parsed into
// node trees once per chunk; instances only carry their value array.
type node struct {
	kind     uint8
	typ      uint8 // substitution value type
	optional bool
	sub      uint16
	name     string // element name
	text     string // nText
	attrs    []attr
	children []node
	tmpl     *template // nTemplate
	vals     []value   // nTemplate
}

type attr struct {
	name  string
	value []node
}

// value is one substitution value: its declared type and where its bytes
// are in the chunk. It holds no pointer: records store a few dozen each in
// the value arena, and pointer stores cost write barriers while the
// garbage collector runs (a tenth of the decoding time with data []byte).
type value struct {
	typ  uint8
	off  int32 // chunk offset of the bytes
	size int32
}

// raw is a value with its bytes, for rendering.
type raw struct {
	typ  uint8
	data []byte
}

// raw returns v with its bytes.
func (c *chunkCtx) raw(v value) raw {
	return raw{typ: v.typ, data: c.data[v.off : v.off+v.size]}
}

// template is a compiled template definition.
type template struct {
	nodes []node
	err   error
}

// errors with a short reason used for counting.
var (
	errTruncated = errors.New("binxml: truncated")
	errBadToken  = errors.New("binxml: unexpected token")
	errTooDeep   = errors.New("binxml: nesting too deep")
	errBadName   = errors.New("binxml: bad name offset")
	errBadTmpl   = errors.New("binxml: bad template")
)

// maxDepth bounds element and nested-BinXML recursion on hostile input.
const maxDepth = 64

// chunkCtx is the per-chunk state shared by all records of a chunk: the
// chunk bytes, interned names and compiled templates.
type chunkCtx struct {
	data      []byte
	names     map[uint32]string
	templates map[uint32]*template
	depth     int
	// arena backs the value arrays of one record's template instances.
	arena []value
	// cache maps a short value (type byte + raw bytes) to its rendering,
	// boxed once: the same user names, SIDs, host names and flags recur
	// on every record of a chunk. It is direct-mapped (a colliding value
	// replaces the older one): a map lookup cost more than rendering most
	// values again. Entries of earlier chunks are stale (gen), so a
	// chunk's decoding never depends on the chunks decoded before it.
	cache *[cacheSlots]cacheEntry
	gen   uint32
	key   []byte
	// nstack and astack gather the nodes and attributes of the elements
	// being parsed; slab and aslab hold the finished ones until the chunk
	// is done (templates live that long; records' nodes die sooner, but a
	// chunk is small).
	nstack []node
	astack []attr
	slab   slab[node]
	aslab  slab[attr]
	// nestedAt/nestedNodes cache one record's parsed BinXML values, which
	// the walker visits more than once.
	nestedAt    []int
	nestedNodes [][]node
}

func (c *chunkCtx) reset(data []byte) {
	c.data = data
	clear(c.names)
	clear(c.templates)
	c.nstack, c.astack = c.nstack[:0], c.astack[:0]
	c.slab.reset()
	c.aslab.reset()
	if c.cache == nil {
		c.cache = new([cacheSlots]cacheEntry)
	}
	c.gen++
	if c.gen == 0 { // wrapped: entries of gen 0 would look current
		clear(c.cache[:])
		c.gen = 1
	}
	c.depth = 0
}

// slab hands out exact-size slices from a few big blocks, reused chunk
// after chunk.
type slab[T any] struct {
	blocks [][]T
	cur    int // block being filled
}

// slabBlock is the length of a slab block: a chunk's templates and records
// need a few thousand nodes.
const slabBlock = 4096

func (s *slab[T]) reset() {
	for i := range s.blocks {
		s.blocks[i] = s.blocks[i][:0]
	}
	s.cur = 0
}

// copy returns a copy of src in the slab (nil for none), capped so that
// appending to it cannot overwrite a neighbour.
func (s *slab[T]) copy(src []T) []T {
	if len(src) == 0 {
		return nil
	}
	for s.cur < len(s.blocks) && cap(s.blocks[s.cur])-len(s.blocks[s.cur]) < len(src) {
		s.cur++
	}
	if s.cur == len(s.blocks) {
		s.blocks = append(s.blocks, make([]T, 0, max(slabBlock, len(src))))
	}
	b := s.blocks[s.cur]
	n := len(b)
	b = append(b, src...)
	s.blocks[s.cur] = b
	return b[n:len(b):len(b)]
}

func (c *chunkCtx) carve(src []node) []node      { return c.slab.copy(src) }
func (c *chunkCtx) carveAttrs(src []attr) []attr { return c.aslab.copy(src) }

// cacheSlots is the size of the rendering cache (a power of two): a
// chunk holds a few hundred to a few thousand distinct short values.
const cacheSlots = 4096

type cacheEntry struct {
	gen uint32
	key string
	r   any
}

// cacheSeed seeds the cache's hash; any fixed seed will do.
var cacheSeed = maphash.MakeSeed()

// maxCached bounds the raw size of values kept in the per-chunk cache.
const maxCached = 80

// rendered returns render(v), from the per-chunk cache for short values.
func (c *chunkCtx) rendered(v value) any {
	if v.typ == vtNull || (v.typ == vtString && v.size == 0) {
		return "" // a third of all values in real logs: skip the hashing
	}
	if v.size > maxCached || v.typ == vtBinXML || v.typ&vtArray != 0 {
		return render(c.raw(v)) // arrays are mutable slices: never shared
	}
	data := c.data[v.off : v.off+v.size]
	c.key = append(append(c.key[:0], v.typ), data...)
	e := &c.cache[maphash.Bytes(cacheSeed, c.key)&(cacheSlots-1)]
	if e.gen == c.gen && e.key == string(c.key) {
		return e.r
	}
	r := render(raw{typ: v.typ, data: data})
	*e = cacheEntry{gen: c.gen, key: string(c.key), r: r}
	return r
}

// reader walks BinXML bytes of the chunk between pos and end.
type reader struct {
	c     *chunkCtx
	pos   int
	end   int
	depID bool // open-start-element tokens carry a dependency id (u16)
}

func (r *reader) need(n int) error {
	if n < 0 || r.pos+n > r.end || r.pos+n < r.pos {
		return errTruncated
	}
	return nil
}

func (r *reader) u8() (uint8, error) {
	if err := r.need(1); err != nil {
		return 0, err
	}
	v := r.c.data[r.pos]
	r.pos++
	return v, nil
}

func (r *reader) u16() (uint16, error) {
	if err := r.need(2); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(r.c.data[r.pos:])
	r.pos += 2
	return v, nil
}

func (r *reader) u32() (uint32, error) {
	if err := r.need(4); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(r.c.data[r.pos:])
	r.pos += 4
	return v, nil
}

func (r *reader) peek() (uint8, error) {
	if r.pos >= r.end {
		return 0, errTruncated
	}
	return r.c.data[r.pos], nil
}

// name reads a name reference: a chunk offset, with the name structure
// inline right after it when the offset points there.
func (r *reader) name() (string, error) {
	off, err := r.u32()
	if err != nil {
		return "", err
	}
	s, size, err := r.c.nameAt(off)
	if err != nil {
		return "", err
	}
	if int(off) == r.pos {
		if err := r.need(size); err != nil {
			return "", err
		}
		r.pos += size
	}
	return s, nil
}

// nameAt returns the interned name at a chunk offset and its stored size:
// next offset u32, hash u16, char count u16, UTF-16 chars, NUL.
func (c *chunkCtx) nameAt(off uint32) (string, int, error) {
	d := c.data
	if int(off) < 0 || int(off)+8 > len(d) {
		return "", 0, errBadName
	}
	n := int(binary.LittleEndian.Uint16(d[off+6:]))
	size := 8 + 2*n + 2
	if int(off)+8+2*n > len(d) {
		return "", 0, errBadName
	}
	if s, ok := c.names[off]; ok {
		return s, size, nil
	}
	s := utf16String(d[int(off)+8 : int(off)+8+2*n])
	c.names[off] = s
	return s, size, nil
}

// utf16String converts little-endian UTF-16 to a string, with a fast path
// for ASCII and trailing NULs dropped.
func utf16String(b []byte) string {
	n := len(b) / 2
	for n > 0 && b[2*n-2] == 0 && b[2*n-1] == 0 {
		n--
	}
	ascii := true
	for i := 0; i < n; i++ {
		if b[2*i+1] != 0 || b[2*i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		buf := make([]byte, n)
		for i := 0; i < n; i++ {
			buf[i] = b[2*i]
		}
		return string(buf)
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	out := make([]byte, 0, n+n/2)
	for _, r := range utf16.Decode(u) {
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}

// text reads a length-prefixed UTF-16 string (u16 count of characters).
func (r *reader) text() (string, error) {
	n, err := r.u16()
	if err != nil {
		return "", err
	}
	if err := r.need(2 * int(n)); err != nil {
		return "", err
	}
	s := utf16String(r.c.data[r.pos : r.pos+2*int(n)])
	r.pos += 2 * int(n)
	return s, nil
}

// fragment parses a document (record body, template body or nested BinXML
// value) up to its EOF token or end. On error it returns what it parsed
// before the error too.
func (r *reader) fragment() ([]node, error) {
	c := r.c
	base := len(c.nstack)
	err := r.fragmentBody()
	out := c.carve(c.nstack[base:])
	c.nstack = c.nstack[:base]
	return out, err
}

// fragmentBody parses a fragment's nodes onto the node stack.
func (r *reader) fragmentBody() error {
	for r.pos < r.end {
		t := r.c.data[r.pos]
		switch t & 0xbf {
		case tokEOF:
			r.pos++
			return nil
		case tokFragment:
			if err := r.need(4); err != nil {
				return err
			}
			r.pos += 4
		case tokOpenStart:
			n, err := r.element()
			if err != nil {
				return err
			}
			r.c.nstack = append(r.c.nstack, n)
		case tokTemplate:
			n, err := r.templateInstance()
			if err != nil {
				return err
			}
			r.c.nstack = append(r.c.nstack, n)
		case tokPITarget:
			r.pos++
			if _, err := r.name(); err != nil {
				return err
			}
		case tokPIData:
			r.pos++
			if _, err := r.text(); err != nil {
				return err
			}
		case tokValue, tokNormalSubst, tokOptionalSubs, tokCharRef, tokEntityRef, tokCDATA:
			// Content outside any element: keep it as a text-like node.
			n, err := r.contentItem(t)
			if err != nil {
				return err
			}
			if n.kind != 0 {
				r.c.nstack = append(r.c.nstack, n)
			}
		default:
			return fmt.Errorf("%w 0x%02x at chunk offset %d", errBadToken, t, r.pos)
		}
	}
	return nil
}

// element parses an open-start-element token and everything up to its end.
// Its attributes, their values and its children are gathered on the
// chunk's stacks and copied to exact-size slices of the chunk's slabs when
// complete: appending to a slice per element cost more in growing and
// collecting slices than the parsing itself.
func (r *reader) element() (node, error) {
	c := r.c
	c.depth++
	base, abase := len(c.nstack), len(c.astack)
	n, err := r.elementBody(base, abase)
	c.nstack, c.astack = c.nstack[:base], c.astack[:abase]
	c.depth--
	return n, err
}

func (r *reader) elementBody(base, abase int) (node, error) {
	c := r.c
	if c.depth > maxDepth {
		return node{}, errTooDeep
	}
	t, _ := r.u8()
	if r.depID {
		if _, err := r.u16(); err != nil {
			return node{}, err
		}
	}
	if _, err := r.u32(); err != nil { // data size: not trusted
		return node{}, err
	}
	name, err := r.name()
	if err != nil {
		return node{}, err
	}
	n := node{kind: nElement, name: name}
	if t&0x40 != 0 {
		if _, err := r.u32(); err != nil { // attribute list size
			return node{}, err
		}
		for {
			p, err := r.peek()
			if err != nil {
				return n, err
			}
			if p&0xbf != tokAttribute {
				break
			}
			r.pos++
			an, err := r.name()
			if err != nil {
				return n, err
			}
			a := attr{name: an}
			vbase := len(c.nstack)
			for {
				p, err := r.peek()
				if err != nil {
					return n, err
				}
				if !isValueToken(p) {
					break
				}
				v, err := r.contentItem(p)
				if err != nil {
					return n, err
				}
				if v.kind != 0 {
					c.nstack = append(c.nstack, v)
				}
			}
			a.value = c.carve(c.nstack[vbase:])
			c.nstack = c.nstack[:vbase]
			c.astack = append(c.astack, a)
		}
		n.attrs = c.carveAttrs(c.astack[abase:])
	}
	t, err = r.u8()
	if err != nil {
		return n, err
	}
	switch t {
	case tokCloseEmpty:
		return n, nil
	case tokCloseStart:
	default:
		return n, fmt.Errorf("%w 0x%02x closing <%s> at chunk offset %d", errBadToken, t, name, r.pos-1)
	}
	for {
		p, err := r.peek()
		if err != nil {
			return n, err
		}
		switch p & 0xbf {
		case tokEndElement:
			r.pos++
			n.children = c.carve(c.nstack[base:])
			return n, nil
		case tokOpenStart:
			ch, err := r.element()
			if err != nil {
				return n, err
			}
			c.nstack = append(c.nstack, ch)
		case tokPITarget:
			r.pos++
			if _, err := r.name(); err != nil {
				return n, err
			}
		case tokPIData:
			r.pos++
			if _, err := r.text(); err != nil {
				return n, err
			}
		case tokTemplate:
			ch, err := r.templateInstance()
			if err != nil {
				return n, err
			}
			c.nstack = append(c.nstack, ch)
		default:
			if !isValueToken(p) && p&0xbf != tokCDATA {
				return n, fmt.Errorf("%w 0x%02x in <%s> at chunk offset %d", errBadToken, p, name, r.pos)
			}
			v, err := r.contentItem(p)
			if err != nil {
				return n, err
			}
			if v.kind != 0 {
				c.nstack = append(c.nstack, v)
			}
		}
	}
}

func isValueToken(t uint8) bool {
	switch t & 0xbf {
	case tokValue, tokNormalSubst, tokOptionalSubs, tokCharRef, tokEntityRef:
		return true
	}
	return false
}

// contentItem parses a value text, substitution, char/entity reference or
// CDATA token into a text or substitution node.
func (r *reader) contentItem(t uint8) (node, error) {
	r.pos++
	switch t & 0xbf {
	case tokValue:
		if _, err := r.u8(); err != nil { // value type: always string
			return node{}, err
		}
		s, err := r.text()
		return node{kind: nText, text: s}, err
	case tokCDATA:
		s, err := r.text()
		return node{kind: nText, text: s}, err
	case tokNormalSubst, tokOptionalSubs:
		id, err := r.u16()
		if err != nil {
			return node{}, err
		}
		typ, err := r.u8()
		if err != nil {
			return node{}, err
		}
		return node{kind: nSubst, sub: id, typ: typ, optional: t&0xbf == tokOptionalSubs}, nil
	case tokCharRef:
		v, err := r.u16()
		if err != nil {
			return node{}, err
		}
		return node{kind: nText, text: string(rune(v))}, nil
	case tokEntityRef:
		nm, err := r.name()
		if err != nil {
			return node{}, err
		}
		return node{kind: nText, text: entity(nm)}, nil
	}
	return node{}, errBadToken
}

func entity(name string) string {
	switch name {
	case "amp":
		return "&"
	case "lt":
		return "<"
	case "gt":
		return ">"
	case "quot":
		return `"`
	case "apos":
		return "'"
	}
	return "&" + name + ";"
}

// templateInstance parses a template instance: the definition reference
// (compiled once per chunk, skipped when inline) and the value array.
func (r *reader) templateInstance() (node, error) {
	r.pos++
	if err := r.need(9); err != nil {
		return node{}, err
	}
	r.pos += 5 // unknown u8, template id u32
	defOff, _ := r.u32()
	if int(defOff) == r.pos {
		// The definition follows inline: next u32, GUID, data size u32, data.
		if err := r.need(24); err != nil {
			return node{}, err
		}
		size := int(binary.LittleEndian.Uint32(r.c.data[r.pos+20:]))
		if err := r.need(24 + size); err != nil {
			return node{}, err
		}
		r.pos += 24 + size
	}
	tm := r.c.template(defOff)
	if tm.err != nil {
		return node{}, tm.err
	}
	cnt, err := r.u32()
	if err != nil {
		return node{}, err
	}
	if err := r.need(4 * int(cnt)); err != nil || cnt > 0xffff {
		return node{}, errTruncated
	}
	c := r.c
	if cap(c.arena)-len(c.arena) < int(cnt) {
		c.arena = make([]value, 0, max(512, 2*int(cnt)))
	}
	n := len(c.arena)
	c.arena = c.arena[:n+int(cnt)]
	vals := c.arena[n : n+int(cnt) : n+int(cnt)]
	desc := r.pos
	r.pos += 4 * int(cnt)
	for i := range vals {
		size := int(binary.LittleEndian.Uint16(r.c.data[desc+4*i:]))
		typ := r.c.data[desc+4*i+2]
		if err := r.need(size); err != nil {
			return node{}, err
		}
		vals[i] = value{typ: typ, off: int32(r.pos), size: int32(size)}
		r.pos += size
	}
	return node{kind: nTemplate, tmpl: tm, vals: vals}, nil
}

// template returns the compiled template whose definition is at off.
func (c *chunkCtx) template(off uint32) *template {
	if t, ok := c.templates[off]; ok {
		return t
	}
	t := &template{}
	c.templates[off] = t // placeholder guards against self-reference loops
	d := c.data
	if int(off) < 0 || int(off)+24 > len(d) {
		t.err = errBadTmpl
		return t
	}
	size := int(binary.LittleEndian.Uint32(d[off+20:]))
	start := int(off) + 24
	end := start + size
	if size < 4 || end > len(d) || end < start {
		t.err = errBadTmpl
		return t
	}
	// A template is compiled once for the whole chunk: its depth limit
	// must not depend on how deep the record that first used it was.
	saved := c.depth
	c.depth = 0
	sub := reader{c: c, pos: start, end: end, depID: true}
	t.nodes, t.err = sub.fragment()
	c.depth = saved
	if t.err != nil {
		t.err = fmt.Errorf("template at chunk offset %d: %w", off, t.err)
	}
	return t
}
