package textio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
	"unicode/utf8"
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
			// The limit is on the line as read; Windows-1252 bytes become
			// up to three bytes of UTF-8.
			if err == nil && len(l) > 3*(max+2) {
				t.Fatalf("line of %d bytes over the limit %d", len(l), max)
			}
		}
		Decode(b)
	})
}

// refLines splits ASCII text on CRLF, LF and lone CR, as Reader must.
func refLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func TestLineEndsAcrossReads(t *testing.T) {
	for _, s := range []string{
		"a\rb\rc",
		"a\r\nb\r\nc\r\n",
		"only\r",
	} {
		for _, name := range []string{"whole", "one-byte"} {
			var src io.Reader = strings.NewReader(s)
			if name == "one-byte" {
				src = iotest.OneByteReader(src)
			}
			got, _ := readAll(t, NewReader(src))
			want := refLines(s)
			if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
				t.Errorf("%q (%s): lines %q, want %q", s, name, got, want)
			}
		}
	}
}

func TestCP1252AndUTF16WithoutBOM(t *testing.T) {
	got, _ := readAll(t, NewReader(bytes.NewReader([]byte("caf\xe9 ok\nna\xefve\n"))))
	if strings.Join(got, "|") != "café ok|naïve" {
		t.Errorf("Windows-1252 bytes: %q", got)
	}
	got, _ = readAll(t, NewReader(bytes.NewReader(utf16le("line one\r\nline two\r\n", false))))
	if strings.Join(got, "|") != "line one|line two" {
		t.Errorf("UTF-16LE without BOM: %q", got)
	}
	if d := Decode(utf16le("2026-01-01 ALLOW TCP\r\n", false)); string(d) != "2026-01-01 ALLOW TCP\r\n" {
		t.Errorf("Decode UTF-16LE without BOM: %q", d)
	}
	if d := Decode([]byte("a line\x00\ranother\rthird\r")); string(d) != "a line\nanother\nthird\n" {
		t.Errorf("Decode with a NUL and a CR: %q", d)
	}
	if d := Decode([]byte("ElfFile\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11")); d != nil {
		t.Errorf("binary head decoded as text: %q", d)
	}
}

// FuzzReaderLineEnds: any bytes give valid UTF-8 lines without a panic, and
// plain ASCII text splits exactly as the reference does.
func FuzzReaderLineEnds(f *testing.F) {
	f.Add([]byte("a\rb\r\nc\n"))
	f.Add(utf16le("x\r\ny", false))
	f.Add([]byte("caf\xe9\x00\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReaderSize(iotest.HalfReader(bytes.NewReader(data)), 64)
		var lines []string
		for {
			l, err := r.Next()
			if err == io.EOF {
				break
			}
			if errors.Is(err, ErrLineTooLong) {
				lines = nil
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if !utf8.Valid(l) {
				t.Fatalf("invalid UTF-8 line %q", l)
			}
			lines = append(lines, string(l))
		}
		ascii := lines != nil && len(data) > 0 && len(data) < 60 && (crOnly(data) || bytes.IndexByte(data, '\r') < 0)
		for _, c := range data {
			ascii = ascii && c >= 1 && c < 0x80
		}
		if ascii {
			if want := refLines(string(data)); strings.Join(lines, "\x00") != strings.Join(want, "\x00") {
				t.Fatalf("%q: lines %q, want %q", data, lines, want)
			}
		}
		Decode(data)
	})
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"aé", 2, "a"},   // é is two bytes: not split
		{"aéb", 3, "aé"}, // cut after the whole rune
		{"€", 2, ""},     // a three-byte rune that does not fit
		{"", 0, ""},
	} {
		if got := Truncate(c.s, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
