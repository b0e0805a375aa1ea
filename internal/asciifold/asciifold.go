// Package asciifold compares text case-insensitively in ASCII without
// allocating: the case-folding rules and the recon helpers use on every
// command line and path, where the needles are command names and paths.
// A needle with non-ASCII letters falls back to Unicode lower-casing.
package asciifold

import (
	"strings"
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
	// Eight bytes at a time: a Sigma matcher asks it of every value that
	// a non-ASCII pattern may be looked for in.
	var acc uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8] // one bounds check, one 8-byte load
		acc |= uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
	}
	for ; i < len(s); i++ {
		acc |= uint64(s[i])
	}
	return acc&0x8080808080808080 == 0
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
	// Candidates are found by one byte of the needle, in either case,
	// with IndexByte (vectorised): nearly every command line a rule
	// looks at holds none of its words, and a byte-by-byte loop read it
	// all once per word. The byte is the needle's rarest in text (a
	// common one stops IndexByte at every few bytes).
	k := rarest(sub)
	lo := Lower(sub[k])
	up := lo
	if 'a' <= lo && lo <= 'z' {
		up = lo - ('a' - 'A')
	}
	// Byte k of a match starting at i is at i+k; starts run 0…last.
	last := len(s) - n
	hay := s[k : last+k+1]
	// The next candidate in each case, looked for again only once passed
	// (looking for both at every candidate read the rest of s again for
	// the case that was not there: a script block with many m and no M).
	nextLo, nextUp := -1, -1
	if up == lo {
		nextUp = len(hay) // no other case
	}
	for i := 0; i <= last; {
		if nextLo < i {
			nextLo = nextAt(hay, i, lo)
		}
		if nextUp < i {
			nextUp = nextAt(hay, i, up)
		}
		i = min(nextLo, nextUp)
		if i > last {
			return false
		}
		if Equal(s[i:i+k], sub[:k]) && Equal(s[i+k+1:i+n], sub[k+1:]) {
			return true
		}
		i++
	}
	return false
}

// rarest is the index of the byte of sub that is rarest in text, by
// byteRank (the first of equals).
func rarest(sub string) int {
	k := 0
	for i := 1; i < len(sub); i++ {
		if byteRank[Lower(sub[i])] < byteRank[Lower(sub[k])] {
			k = i
		}
	}
	return k
}

// byteRank orders bytes from rare (low) to common in the text rules look
// through (command lines, scripts, paths): letters by their frequency in
// English, then digits and the separators of paths and switches, space
// last. Bytes not listed are rare.
var byteRank = func() (r [256]uint8) {
	const common = "qjzxkvbywgpfmucdlhrsnioate0123456789-/.:\\\" "
	for i := 0; i < len(common); i++ {
		r[common[i]] = uint8(i + 1)
	}
	return r
}()

// nextAt is the index of the first c in s at or after i, len(s) if none.
func nextAt(s string, i int, c byte) int {
	if j := strings.IndexByte(s[i:], c); j >= 0 {
		return i + j
	}
	return len(s)
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
