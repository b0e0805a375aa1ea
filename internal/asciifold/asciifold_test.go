package asciifold

import (
	"math/rand"
	"strings"
	"testing"
)

// lowerASCII lower-cases only ASCII letters: what folding ASCII means.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestAgainstLowering compares every helper with the plain strings
// function on ASCII-lowered text (ASCII needles) or on fully lowered
// text (other needles), over random strings of letters that fold, that
// do not, and non-ASCII ones (the Kelvin sign lower-cases to k).
func TestAgainstLowering(t *testing.T) {
	alphabet := []string{"a", "A", "b", "B", "k", "K", "\u212a", "é", "É", "-", "\\", "0"}
	rng := rand.New(rand.NewSource(1))
	word := func(max int) string {
		var b strings.Builder
		for n := rng.Intn(max + 1); n > 0; n-- {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		return b.String()
	}
	for i := 0; i < 40000; i++ {
		s, sub := word(8), word(3)
		if i%2 == 1 {
			s, sub = word(40), word(5) // past the first candidates
		}
		low := lowerASCII
		if !IsASCII(sub) {
			low = strings.ToLower
		}
		ls, lsub := low(s), low(sub)
		if got, want := Contains(s, sub), strings.Contains(ls, lsub); got != want {
			t.Fatalf("Contains(%q, %q) = %v, want %v", s, sub, got, want)
		}
		if got, want := HasPrefix(s, sub), strings.HasPrefix(ls, lsub); got != want {
			t.Fatalf("HasPrefix(%q, %q) = %v, want %v", s, sub, got, want)
		}
		if got, want := HasSuffix(s, sub), strings.HasSuffix(ls, lsub); got != want {
			t.Fatalf("HasSuffix(%q, %q) = %v, want %v", s, sub, got, want)
		}
		if len(s) >= len(sub) {
			if got, want := Equal(s[:len(sub)], sub), lowerASCII(s[:len(sub)]) == lowerASCII(sub); got != want {
				t.Fatalf("Equal(%q, %q) = %v, want %v", s[:len(sub)], sub, got, want)
			}
		}
		if got, want := IsASCII(s), !strings.ContainsFunc(s, func(r rune) bool { return r > 127 }); got != want {
			t.Fatalf("IsASCII(%q) = %v", s, got)
		}
	}
	if !Contains("powershell -EnC x", "-enc") || Contains("\u212a", "k") || !Contains("\u212aX", "\u212ax") {
		t.Error("fixed cases")
	}
}

// BenchmarkContainsMiss looks for words a command line does not hold,
// the usual case of a rule's guard.
func BenchmarkContainsMiss(b *testing.B) {
	s := `"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n "C:\Users\alice\Documents\Quarterly Report 2024.docx" /o ""`
	words := []string{"mppreference", "windefend", "mpcmdrun", "sysmon", "includecmdline", "minint", "eventlog"}
	for b.Loop() {
		for _, w := range words {
			if Contains(s, w) {
				b.Fatal(w)
			}
		}
	}
}

// BenchmarkContainsMissLongScript looks for the same words in a long
// script block, where the words' first letters are common in one case
// and absent in the other.
func BenchmarkContainsMissLongScript(b *testing.B) {
	s := strings.Repeat(`$items = Get-ChildItem -Path $env:TEMP -Recurse | Where-Object { $_.LastWriteTime -lt (Get-Date).AddDays(-7) }; foreach ($m in $items) { Remove-Item $m.FullName -ErrorAction SilentlyContinue }`+"\n", 20)
	words := []string{"mppreference", "windefend", "mpcmdrun", "sysmon", "includecmdline", "minint", "eventlog"}
	b.SetBytes(int64(len(s) * len(words)))
	for b.Loop() {
		for _, w := range words {
			if Contains(s, w) {
				b.Fatal(w)
			}
		}
	}
}

// TestIsASCIIAtEveryOffset puts one byte above 0x7f at every position of
// strings of every length up to 40 (the eight-byte words and the tail).
func TestIsASCIIAtEveryOffset(t *testing.T) {
	for n := 0; n < 40; n++ {
		for at := -1; at < n; at++ {
			b := []byte(strings.Repeat("a", n))
			if at >= 0 {
				b[at] = 0xe2
			}
			if got := IsASCII(string(b)); got != (at < 0) {
				t.Fatalf("len %d, a high byte at %d: IsASCII %v", n, at, got)
			}
		}
	}
}
