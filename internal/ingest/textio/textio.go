// Package textio reads text evidence line by line the way logs really
// come: UTF-8 with or without BOM, UTF-16 with BOM (Windows writes some
// logs so), CRLF or LF endings, and hostile line lengths bounded.
package textio

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// MaxLine is the default longest line kept (1 MiB); longer lines are
// skipped and reported, so one hostile line cannot exhaust memory.
const MaxLine = 1 << 20

// ErrLineTooLong is returned by Next for a line over the limit; the line
// is skipped and reading may go on.
var ErrLineTooLong = errors.New("line too long")

// Reader returns lines without their end-of-line bytes.
type Reader struct {
	br      *bufio.Reader
	max     int
	line    int64
	buf     []byte
	tooLong bool
}

// NewReader wraps r, converting UTF-16 (with BOM) to UTF-8 and dropping a
// UTF-8 BOM.
func NewReader(r io.Reader) *Reader {
	return NewReaderSize(r, MaxLine)
}

// NewReaderSize is NewReader with a custom line limit.
func NewReaderSize(r io.Reader, max int) *Reader {
	dec := unicode.BOMOverride(unicode.UTF8.NewDecoder())
	return &Reader{br: bufio.NewReaderSize(transform.NewReader(r, dec), 64<<10), max: max}
}

// Line is the 1-based number of the line last returned.
func (r *Reader) Line() int64 { return r.line }

// Next returns the next line. At the end it returns io.EOF. For a line
// over the limit it returns ErrLineTooLong (Line() says which); call Next
// again to go on. The returned slice is valid until the next call.
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
		return line, nil
	}
}

// Decode converts a head of raw bytes to UTF-8 text for sniffing, or
// returns nil when it does not look like text (NUL bytes or much invalid
// UTF-8 after decoding). A cut-off multi-byte sequence at the end is fine.
func Decode(raw []byte) []byte {
	if len(raw) == 0 {
		return nil
	}
	dec := unicode.BOMOverride(unicode.UTF8.NewDecoder())
	out, _, err := transform.Bytes(dec, raw)
	if err != nil && len(out) == 0 {
		return nil
	}
	if bytes.IndexByte(out, 0) >= 0 {
		return nil
	}
	bad := 0
	for i := 0; i < len(out); {
		r, n := utf8.DecodeRune(out[i:])
		if r == utf8.RuneError && n <= 1 && len(out)-i > 3 {
			bad++
		}
		i += n
	}
	if bad*20 > len(out) {
		return nil
	}
	return out
}
