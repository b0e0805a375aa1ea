// Package textio reads text evidence line by line the way logs really
// come: UTF-8 with or without BOM, UTF-16 with or without BOM (Windows
// writes some logs so), CRLF, LF or CR-only endings, stray Windows-1252
// bytes in otherwise UTF-8 text, and hostile line lengths bounded.
package textio

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// MaxLine is the default longest line kept (1 MiB); longer lines are
// skipped and reported, so one hostile line cannot exhaust memory.
const MaxLine = 1 << 20

// ErrLineTooLong is returned by Next for a line over the limit; the line
// is skipped and reading may go on.
var ErrLineTooLong = errors.New("line too long")

// sniffLen is how much of the start decides the encoding.
const sniffLen = 4096

// Reader returns lines without their end-of-line bytes.
type Reader struct {
	br      *bufio.Reader
	max     int
	line    int64
	buf     []byte
	out     []byte
	tooLong bool
}

// NewReader wraps r, converting UTF-16 (with BOM, or recognised by its
// zero bytes) to UTF-8 and dropping a UTF-8 BOM.
func NewReader(r io.Reader) *Reader {
	return NewReaderSize(r, MaxLine)
}

// NewReaderSize is NewReader with a custom line limit.
func NewReaderSize(r io.Reader, max int) *Reader {
	pre := bufio.NewReaderSize(r, lineEndSniff)
	head, _ := pre.Peek(lineEndSniff)
	var src io.Reader = pre
	if enc := utf16Encoding(head); enc != nil {
		src = transform.NewReader(pre, enc.NewDecoder())
	} else if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		pre.Discard(3)
	}
	if crOnly(head) {
		src = &crToLF{br: bufio.NewReaderSize(src, 16<<10)}
	}
	return &Reader{br: bufio.NewReaderSize(src, 64<<10), max: max}
}

// lineEndSniff is how much of the start decides the line ends.
const lineEndSniff = 64 << 10

// crOnly says whether a head has CR line ends only: CRs and no LF at all.
// Only then is a lone CR a line end; in a file with LF line ends a stray
// CR is part of its line (and shown escaped, never acted on).
func crOnly(head []byte) bool {
	return bytes.IndexByte(head, '\n') < 0 && bytes.IndexByte(head, '\r') >= 0
}

// utf16Encoding returns the UTF-16 decoding for a head that starts with a
// UTF-16 BOM or, without one, whose zero bytes fall on one side of the
// code units (ASCII-range text written as UTF-16); nil otherwise.
func utf16Encoding(head []byte) encoding.Encoding {
	switch {
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	}
	n := min(len(head), sniffLen) &^ 1
	if n < 8 {
		return nil
	}
	var zeroEven, zeroOdd int
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			zeroEven++
		}
		if head[i+1] == 0 {
			zeroOdd++
		}
	}
	units := n / 2
	switch {
	case zeroOdd*10 >= units*7 && zeroEven*20 <= units:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case zeroEven*10 >= units*7 && zeroOdd*20 <= units:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	}
	return nil
}

// Line is the 1-based number of the line last returned.
func (r *Reader) Line() int64 { return r.line }

// Next returns the next line. At the end it returns io.EOF. For a line
// over the limit it returns ErrLineTooLong (Line() says which); call Next
// again to go on. The returned slice is valid until the next call. Bytes
// that are not UTF-8 are read as Windows-1252 (the usual reason a log has
// them), so the line is always valid UTF-8 and no byte is lost; such a
// line may be up to three times the limit long.
func (r *Reader) Next() ([]byte, error) {
	r.buf = r.buf[:0]
	r.tooLong = false
	for {
		chunk, err := r.br.ReadSlice('\n')
		if !r.tooLong {
			if len(r.buf)+len(chunk) > r.max+2 {
				r.tooLong = true
				r.buf = r.buf[:0]
			} else {
				r.buf = append(r.buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if err == io.EOF && len(r.buf) == 0 && !r.tooLong {
			return nil, io.EOF
		}
		r.line++
		if r.tooLong {
			return nil, ErrLineTooLong
		}
		line := bytes.TrimRight(r.buf, "\r\n")
		if !utf8.Valid(line) {
			r.out = AppendCP1252(r.out[:0], line)
			return r.out, nil
		}
		return line, nil
	}
}

// AppendCP1252 appends b to dst as UTF-8, keeping valid UTF-8 sequences
// and reading every other byte as Windows-1252.
func AppendCP1252(dst, b []byte) []byte {
	dec := charmap.Windows1252
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			dst = utf8.AppendRune(dst, dec.DecodeByte(b[0]))
			b = b[1:]
			continue
		}
		dst = append(dst, b[:n]...)
		b = b[n:]
	}
	return dst
}

// crToLF turns a lone CR (old Mac line ends, or a log rewritten with
// tr '\n' '\r') into LF, leaving CRLF as it is, so that such a file is
// read as lines rather than as one line over the limit. It is used only
// for files whose head has no LF.
type crToLF struct {
	br *bufio.Reader
}

func (c *crToLF) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	for i := 0; i < n; i++ {
		if p[i] != '\r' {
			continue
		}
		var next byte
		if i+1 < n {
			next = p[i+1]
		} else if b, _ := c.br.Peek(1); len(b) == 1 {
			next = b[0] // a read error shows on the next Read
		}
		if next != '\n' {
			p[i] = '\n'
		}
	}
	return n, err
}

// Decode converts a head of raw bytes to UTF-8 text for sniffing, or
// returns nil when it does not look like text. It is tolerant the way
// detection must be: UTF-16 with or without BOM, a few NUL bytes (dropped),
// stray Windows-1252 bytes (converted), CR-only line ends (made LF). Only
// a head with many control bytes is binary. A cut-off multi-byte sequence
// at the end is fine.
func Decode(raw []byte) []byte {
	if len(raw) == 0 {
		return nil
	}
	var out []byte
	if enc := utf16Encoding(raw); enc != nil {
		b, _, err := transform.Bytes(enc.NewDecoder(), raw[:len(raw)&^1])
		if err != nil && len(b) == 0 {
			return nil
		}
		out = b
	} else {
		out = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	}
	// Count what a text file does not hold: NULs (preallocated or stray)
	// and other control bytes.
	nul, ctl := 0, 0
	for _, c := range out {
		switch {
		case c == 0:
			nul++
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b, c == 0x7f:
			ctl++
		}
	}
	if ctl*50 > len(out) || nul == len(out) {
		return nil
	}
	if nul > 0 {
		out = bytes.ReplaceAll(out, []byte{0}, nil)
		if len(out) < 16 {
			return nil
		}
	}
	cut := trimCut(out)
	if !utf8.Valid(cut) {
		out = AppendCP1252(nil, cut)
	} else {
		out = cut
	}
	if crOnly(out) {
		out = crLines(out)
	}
	return out
}

// trimCut drops a multi-byte sequence cut off at the end of a head.
func trimCut(b []byte) []byte {
	for i := 1; i <= 3 && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// crLines makes every lone CR of b an LF (CRLF stays).
func crLines(b []byte) []byte {
	out := append([]byte(nil), b...)
	for i := range out {
		if out[i] == '\r' && (i+1 == len(out) || out[i+1] != '\n') {
			out[i] = '\n'
		}
	}
	return out
}

// Truncate cuts s to at most n bytes without splitting a UTF-8 sequence,
// so a bounded message is still valid text. Parsers bound
// messages with it.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
