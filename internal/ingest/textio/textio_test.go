package textio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf16"
)

func readAll(t *testing.T, r *Reader) (lines []string, long []int64) {
	t.Helper()
	for {
		l, err := r.Next()
		if err == io.EOF {
			return
		}
		if errors.Is(err, ErrLineTooLong) {
			long = append(long, r.Line())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(l))
	}
}

func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestEncodingsAndLineEnds(t *testing.T) {
	want := []string{"first", "zweite Zeile äöü", "", "last without newline"}
	text := "first\r\nzweite Zeile äöü\n\r\nlast without newline"
	for name, in := range map[string][]byte{
		"utf8":     []byte(text),
		"utf8 bom": append([]byte{0xef, 0xbb, 0xbf}, text...),
		"utf16le":  utf16le(text, true),
	} {
		got, long := readAll(t, NewReader(bytes.NewReader(in)))
		if strings.Join(got, "|") != strings.Join(want, "|") || len(long) != 0 {
			t.Errorf("%s: %q (long %v)", name, got, long)
		}
	}
}

func TestLongLinesAreSkippedAndCounted(t *testing.T) {
	in := "a\n" + strings.Repeat("x", 300) + "\nb\n" + strings.Repeat("y", 100000) + "\nc"
	r := NewReaderSize(strings.NewReader(in), 100)
	got, long := readAll(t, r)
	if strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("lines %q", got)
	}
	if len(long) != 2 || long[0] != 2 || long[1] != 4 {
		t.Fatalf("long lines at %v, want [2 4]", long)
	}
}

func TestDecode(t *testing.T) {
	if got := Decode(utf16le("#Fields: date time", true)); string(got) != "#Fields: date time" {
		t.Errorf("utf16: %q", got)
	}
	if Decode([]byte("ElfFile\x00\x00\x00\x01")) != nil {
		t.Error("binary taken for text")
	}
	if Decode(nil) != nil {
		t.Error("empty")
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("a\r\nb\n"), 8)
	f.Add(utf16le("x\ny", true), 3)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 1 || max > 1<<16 {
			max = 64
		}
		r := NewReaderSize(bytes.NewReader(b), max)
		for i := 0; i < len(b)+2; i++ {
			l, err := r.Next()
			if err == io.EOF {
				return
			}
			if err == nil && len(l) > max+2 {
				t.Fatalf("line of %d bytes over the limit %d", len(l), max)
			}
		}
		Decode(b)
	})
}
