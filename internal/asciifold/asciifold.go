// Package asciifold compares text case-insensitively in ASCII without
// allocating: the case-folding rules and the recon helpers use on every
// command line and path, where the needles are command names and paths.
// A needle with non-ASCII letters falls back to Unicode lower-casing.
package asciifold

import (
	"strings"
	"unicode/utf8"
)

// Lower lower-cases an ASCII letter; other bytes are returned as they are.
func Lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// IsASCII reports whether s is all ASCII.
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Equal compares a and b, of the same length, folding ASCII letters.
func Equal(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if Lower(a[i]) != Lower(b[i]) {
			return false
		}
	}
	return true
}

// Contains is a case-insensitive strings.Contains that does not
// allocate for ASCII needles (the usual case: command names, paths).
func Contains(s, sub string) bool {
	if sub == "" {
		return true
	}
	if !IsASCII(sub) {
		return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
	}
	n := len(sub)
	if n > len(s) {
		return false
	}
	// Candidates start with the needle's first byte in either case,
	// found with IndexByte (vectorised): nearly every command line a
	// rule looks at holds none of its words, and a byte-by-byte loop
	// read it all once per word.
	lo := Lower(sub[0])
	up := lo
	if 'a' <= lo && lo <= 'z' {
		up = lo - ('a' - 'A')
	}
	last := len(s) - n // the last start a match can have
	for i := 0; i <= last; {
		w := s[i : last+1]
		j := strings.IndexByte(w, lo)
		if up != lo {
			if k := strings.IndexByte(w, up); k >= 0 && (j < 0 || k < j) {
				j = k
			}
		}
		if j < 0 {
			return false
		}
		i += j
		if Equal(s[i+1:i+n], sub[1:]) {
			return true
		}
		i++
	}
	return false
}

// HasPrefix is a case-insensitive strings.HasPrefix.
func HasPrefix(s, pre string) bool {
	if !IsASCII(pre) {
		return strings.HasPrefix(strings.ToLower(s), strings.ToLower(pre))
	}
	return len(s) >= len(pre) && Equal(s[:len(pre)], pre)
}

// HasSuffix is a case-insensitive strings.HasSuffix.
func HasSuffix(s, suf string) bool {
	if !IsASCII(suf) {
		return strings.HasSuffix(strings.ToLower(s), strings.ToLower(suf))
	}
	return len(s) >= len(suf) && Equal(s[len(s)-len(suf):], suf)
}
