package sigma

import "github.com/spoor-dfir/spoor/internal/asciifold"

// skipper tells, faster than a scan, that a value holds none of an
// automaton's patterns: a Wu–Manber shift table over byte pairs. A
// window of the shortest pattern's length slides over the value; at
// each stop the pair of bytes ending the window says how far the window
// may move on without passing the end of an occurrence of any pattern's
// first m bytes (0: it may end one here, so the value may match). Values
// with no such stop are skipped whole; the others are scanned as before,
// so the answers do not change.
//
// It pays where patterns are few and long: a keyword rule for every
// Windows event ("Mimikatz Use": twenty words of nine bytes or more)
// scanned every value of every event, a twentieth of a hunt's CPU, where
// the window now moves about eight bytes a stop.
type skipper struct {
	m     int // the shortest pattern's length
	shift [1 << 16]uint8
}

// Patterns shorter than skipMinLen, or more than skipMaxPatterns of
// them, leave too few pairs that shift far for a skipper to pay.
const (
	skipMinLen      = 5
	skipMaxPatterns = 256
)

// newSkipper returns the skipper of pats (ASCII, lower-case), or nil
// when it would not pay.
func newSkipper(pats []string) *skipper {
	if len(pats) == 0 || len(pats) > skipMaxPatterns {
		return nil
	}
	m := len(pats[0])
	for _, p := range pats {
		m = min(m, len(p))
	}
	if m < skipMinLen || m > 255 {
		return nil
	}
	s := &skipper{m: m}
	for i := range s.shift {
		s.shift[i] = uint8(m - 1)
	}
	for _, p := range pats {
		for j := 1; j < m; j++ {
			h := uint16(p[j-1])<<8 | uint16(p[j])
			s.shift[h] = min(s.shift[h], uint8(m-1-j))
		}
	}
	return s
}

// maybe reports whether v may hold one of the patterns (folding ASCII
// letters as the automaton does); false means it holds none.
func (s *skipper) maybe(v string) bool {
	for i := s.m - 1; i < len(v); {
		sh := s.shift[uint16(asciifold.Lower(v[i-1]))<<8|uint16(asciifold.Lower(v[i]))]
		if sh == 0 {
			return true
		}
		i += int(sh)
	}
	return false
}
