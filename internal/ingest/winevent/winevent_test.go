package winevent

import (
	"strconv"
	"testing"
)

// keywordsRef is keywords without its fast path: parse (0x hex or
// decimal), render as 0x and lower-case hex, or keep what does not parse.
func keywordsRef(s string) string {
	var n uint64
	var err error
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		n, err = strconv.ParseUint(s[2:], 16, 64)
	} else {
		n, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return s
	}
	return "0x" + strconv.FormatUint(n, 16)
}

func TestKeywords(t *testing.T) {
	for in, want := range map[string]string{
		"0x8020000000000000":  "0x8020000000000000", // binary EVTX, canonical already
		"0x0000000000000000":  "0x0",                // evtxexport pads
		"0x0":                 "0x0",
		"0X8020000000000000":  "0x8020000000000000",
		"0x80200000000000AB":  "0x80200000000000ab",
		"9232379236109516800": "0x8020000000000000",  // Velociraptor: decimal
		"0x18020000000000000": "0x18020000000000000", // over 64 bits: kept
		"":                    "",
		"audit":               "audit",
	} {
		if got := keywords(in); got != want {
			t.Errorf("keywords(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzKeywords holds keywords' fast path for already canonical text to
// the full parse and render.
func FuzzKeywords(f *testing.F) {
	for _, s := range []string{"0x8020000000000000", "0x0", "0x00", "0x", "0xg", "0xffffffffffffffff", "0x10000000000000000", "12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := keywords(s), keywordsRef(s); got != want {
			t.Fatalf("keywords(%q) = %q, want %q", s, got, want)
		}
	})
}

func BenchmarkKeywords(b *testing.B) {
	for i := 0; i < b.N; i++ {
		keywords("0x8020000000000000")
	}
}
