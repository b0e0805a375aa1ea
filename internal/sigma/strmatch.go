package sigma

import (
	"strings"
	"unicode/utf8"
)

// A Sigma string value is a sequence of literal text and the wildcards *
// and ?. A backslash escapes *, ? and itself; any other backslash is
// literal (Sigma specification, "Escaping").
type token struct {
	kind byte // 'l' literal, '*' any run, '?' one character
	lit  string
}

func parsePattern(s string) []token {
	var toks []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{kind: 'l', lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				lit.WriteByte(s[i+1])
				i++
				continue
			}
			lit.WriteByte(c)
		case '*':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].kind != '*' {
				toks = append(toks, token{kind: '*'})
			}
		case '?':
			flush()
			toks = append(toks, token{kind: '?'})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return toks
}

// plainText reports whether toks is one literal (or empty) and returns it.
func plainText(toks []token) (string, bool) {
	switch {
	case len(toks) == 0:
		return "", true
	case len(toks) == 1 && toks[0].kind == 'l':
		return toks[0].lit, true
	}
	return "", false
}

// strMatcher tests one string. Built once per rule value.
type strMatcher func(v string) bool

// compileString builds the matcher for a pattern under a match operation
// ("", "contains", "startswith", "endswith"). The fast paths (equality,
// prefix, suffix, substring without wildcards) avoid the glob engine;
// case-insensitive comparison folds ASCII in place so no value is copied.
func compileString(toks []token, op string, cased bool) strMatcher {
	switch op {
	case "contains":
		toks = append(append([]token{{kind: '*'}}, toks...), token{kind: '*'})
	case "startswith":
		toks = append(append([]token(nil), toks...), token{kind: '*'})
	case "endswith":
		toks = append([]token{{kind: '*'}}, toks...)
	}
	toks = squashStars(toks)
	n := len(toks)
	// Recognise *lit*, lit*, *lit, lit.
	if lit, ok := plainText(toks); ok {
		return eqMatcher(lit, cased)
	}
	if n == 1 && toks[0].kind == '*' {
		return func(string) bool { return true }
	}
	if n == 2 && toks[0].kind == 'l' && toks[1].kind == '*' {
		return prefixMatcher(toks[0].lit, cased)
	}
	if n == 2 && toks[0].kind == '*' && toks[1].kind == 'l' {
		return suffixMatcher(toks[1].lit, cased)
	}
	if n == 3 && toks[0].kind == '*' && toks[1].kind == 'l' && toks[2].kind == '*' {
		return containsMatcher(toks[1].lit, cased)
	}
	if !cased {
		for i := range toks {
			toks[i].lit = strings.ToLower(toks[i].lit)
		}
	}
	return func(v string) bool {
		if !cased {
			v = lowerIfNeeded(v)
		}
		return glob(toks, v, !cased)
	}
}

func squashStars(toks []token) []token {
	out := toks[:0:0]
	for _, t := range toks {
		if t.kind == '*' && len(out) > 0 && out[len(out)-1].kind == '*' {
			continue
		}
		out = append(out, t)
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerIfNeeded lowers non-ASCII strings fully; ASCII strings are returned
// as they are because the matchers fold ASCII byte by byte.
func lowerIfNeeded(v string) string {
	if isASCII(v) {
		return v
	}
	return strings.ToLower(v)
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// foldEq compares v with p, where p is already lower-case; ASCII bytes of
// v are folded.
func foldEq(v, p string) bool {
	if len(v) != len(p) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if lowerByte(v[i]) != p[i] {
			return false
		}
	}
	return true
}

// foldIndex is strings.Index with v's ASCII folded; p is lower-case.
func foldIndex(v, p string) int {
	if len(p) == 0 {
		return 0
	}
	c0 := p[0]
	u0 := c0
	if 'a' <= c0 && c0 <= 'z' {
		u0 = c0 - ('a' - 'A')
	}
	last := len(v) - len(p)
	for i := 0; i <= last; i++ {
		c := v[i]
		if c != c0 && c != u0 {
			// Jump to the next candidate quickly.
			j := indexEither(v[i+1:last+1], c0, u0)
			if j < 0 {
				return -1
			}
			i += j
			continue
		}
		if foldEq(v[i:i+len(p)], p) {
			return i
		}
	}
	return -1
}

func indexEither(s string, a, b byte) int {
	if a == b {
		return strings.IndexByte(s, a)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == a || s[i] == b {
			return i
		}
	}
	return -1
}

func eqMatcher(p string, cased bool) strMatcher {
	if cased {
		return func(v string) bool { return v == p }
	}
	p = strings.ToLower(p)
	return func(v string) bool { return foldEq(lowerIfNeeded(v), p) }
}

func prefixMatcher(p string, cased bool) strMatcher {
	if cased {
		return func(v string) bool { return strings.HasPrefix(v, p) }
	}
	p = strings.ToLower(p)
	return func(v string) bool {
		v = lowerIfNeeded(v)
		return len(v) >= len(p) && foldEq(v[:len(p)], p)
	}
}

func suffixMatcher(p string, cased bool) strMatcher {
	if cased {
		return func(v string) bool { return strings.HasSuffix(v, p) }
	}
	p = strings.ToLower(p)
	return func(v string) bool {
		v = lowerIfNeeded(v)
		return len(v) >= len(p) && foldEq(v[len(v)-len(p):], p)
	}
}

func containsMatcher(p string, cased bool) strMatcher {
	if cased {
		return func(v string) bool { return strings.Contains(v, p) }
	}
	p = strings.ToLower(p)
	return func(v string) bool { return foldIndex(lowerIfNeeded(v), p) >= 0 }
}

// glob matches v against toks (anchored at both ends). Literals in toks
// are lower-case when fold is set. It backtracks only to the last star,
// which is linear for the patterns Sigma rules use.
func glob(toks []token, v string, fold bool) bool {
	ti, vi := 0, 0
	starT, starV := -1, 0
	for {
		if ti < len(toks) {
			t := toks[ti]
			switch t.kind {
			case '*':
				starT, starV = ti, vi
				ti++
				continue
			case '?':
				if vi < len(v) {
					_, sz := utf8.DecodeRuneInString(v[vi:])
					vi += sz
					ti++
					continue
				}
			case 'l':
				if len(v)-vi >= len(t.lit) {
					seg := v[vi : vi+len(t.lit)]
					if (fold && foldEq(seg, t.lit)) || (!fold && seg == t.lit) {
						vi += len(t.lit)
						ti++
						continue
					}
				}
			}
		} else if vi == len(v) {
			return true
		}
		if starT < 0 || starV >= len(v) {
			return false
		}
		// Let the last star absorb one more character and retry.
		_, sz := utf8.DecodeRuneInString(v[starV:])
		starV += sz
		ti, vi = starT+1, starV
	}
}
