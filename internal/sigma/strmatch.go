package sigma

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spoor-dfir/spoor/internal/asciifold"
)

// A Sigma string value is a sequence of literal text and the wildcards *
// and ?. A backslash escapes *, ? and itself; any other backslash is
// literal (Sigma specification, "Escaping").
type token struct {
	kind byte // 'l' literal, '*' any run, '?' one character
	lit  string
}

func parsePattern(s string) []token {
	if s == "" {
		return nil
	}
	if !strings.ContainsAny(s, `\*?`) {
		// Most values are plain text: one literal, the value itself.
		return []token{{kind: 'l', lit: s}}
	}
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

// withOp returns toks with the wildcards op implies around it (contains
// *toks*, startswith toks*, endswith *toks), in a new slice made at its
// size; toks itself for any other op.
func withOp(toks []token, op string) []token {
	var pre, post bool
	switch op {
	case "contains":
		pre, post = true, true
	case "startswith":
		post = true
	case "endswith":
		pre = true
	default:
		return toks
	}
	out := make([]token, 0, len(toks)+2)
	if pre {
		out = append(out, token{kind: '*'})
	}
	out = append(out, toks...)
	if post {
		out = append(out, token{kind: '*'})
	}
	return out
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
	toks = squashStars(withOp(toks, op))
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
	if cased {
		return func(v string) bool { return glob(toks, v, false) }
	}
	ascii := true
	for i := range toks {
		toks[i].lit = strings.ToLower(toks[i].lit)
		ascii = ascii && asciiFold(toks[i].lit)
	}
	if ascii {
		return func(v string) bool { return glob(toks, v, true) }
	}
	return func(v string) bool { return glob(toks, strings.ToLower(v), false) }
}

func squashStars(toks []token) []token {
	runs := false
	for i := 1; i < len(toks); i++ {
		if toks[i].kind == '*' && toks[i-1].kind == '*' {
			runs = true
			break
		}
	}
	if !runs {
		return toks // nearly always: no copy
	}
	out := make([]token, 0, len(toks))
	for _, t := range toks {
		if t.kind == '*' && len(out) > 0 && out[len(out)-1].kind == '*' {
			continue
		}
		out = append(out, t)
	}
	return out
}

// asciiFold reports whether folding ASCII letters is exact for pattern
// p: every non-ASCII character of it has no case (dashes, symbols), so
// comparing the value's other bytes as they are is right.
func asciiFold(p string) bool {
	for _, r := range p {
		if r >= utf8.RuneSelf && unicode.SimpleFold(r) != r {
			return false
		}
	}
	return true
}

// foldEq compares v with p, where p is already lower-case; ASCII bytes of
// v are folded. (asciifold.Equal folds both sides and leaves the length
// check to its caller: the matchers lower their pattern once instead.)
func foldEq(v, p string) bool {
	if len(v) != len(p) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if asciifold.Lower(v[i]) != p[i] {
			return false
		}
	}
	return true
}

// foldIndex is strings.Index with v's ASCII letters folded; p is
// lower-case. It anchors on one byte of p with strings.IndexByte (vector
// code): a byte that is not a letter if p has one (one search), else the
// first letter in both cases.
func foldIndex(v, p string) int {
	if len(p) == 0 {
		return 0
	}
	k := -1
	for i := 0; i < len(p); i++ {
		if c := p[i]; !('a' <= c && c <= 'z') {
			k = i
			break
		}
	}
	last := len(v) - len(p)
	if last < 0 {
		return -1
	}
	if k >= 0 {
		b := p[k]
		for i := 0; i <= last; {
			j := strings.IndexByte(v[i+k:last+k+1], b)
			if j < 0 {
				return -1
			}
			i += j
			if foldEq(v[i:i+len(p)], p) {
				return i
			}
			i++
		}
		return -1
	}
	lo, up := p[0], p[0]-('a'-'A')
	nl, nu := -2, -2 // next position of each case at or after i; -2 = unknown
	for i := 0; i <= last; {
		if nl != -1 && nl < i {
			nl = indexFrom(v[:last+1], lo, i)
		}
		if nu != -1 && nu < i {
			nu = indexFrom(v[:last+1], up, i)
		}
		switch {
		case nl < 0 && nu < 0:
			return -1
		case nl < 0:
			i = nu
		case nu < 0:
			i = nl
		default:
			i = min(nl, nu)
		}
		if foldEq(v[i:i+len(p)], p) {
			return i
		}
		i++
	}
	return -1
}

// indexFrom is the index of c in s at or after from, or -1.
func indexFrom(s string, c byte, from int) int {
	if from >= len(s) {
		return -1
	}
	j := strings.IndexByte(s[from:], c)
	if j < 0 {
		return -1
	}
	return from + j
}

// ASCII folding of the value is exact for patterns without non-ASCII
// letters (a non-ASCII byte never equals an ASCII one), so values are only
// lower-cased in full for patterns with non-ASCII letters.

func eqMatcher(p string, cased bool) strMatcher {
	if cased {
		return func(v string) bool { return v == p }
	}
	p = strings.ToLower(p)
	if asciiFold(p) {
		return func(v string) bool { return foldEq(v, p) }
	}
	return func(v string) bool { return strings.ToLower(v) == p }
}

func prefixMatcher(p string, cased bool) strMatcher {
	if cased {
		return func(v string) bool { return strings.HasPrefix(v, p) }
	}
	p = strings.ToLower(p)
	if asciiFold(p) {
		return func(v string) bool { return len(v) >= len(p) && foldEq(v[:len(p)], p) }
	}
	return func(v string) bool { return strings.HasPrefix(strings.ToLower(v), p) }
}

func suffixMatcher(p string, cased bool) strMatcher {
	if cased {
		return func(v string) bool { return strings.HasSuffix(v, p) }
	}
	p = strings.ToLower(p)
	if asciiFold(p) {
		return func(v string) bool { return len(v) >= len(p) && foldEq(v[len(v)-len(p):], p) }
	}
	return func(v string) bool { return strings.HasSuffix(strings.ToLower(v), p) }
}

func containsMatcher(p string, cased bool) strMatcher {
	if cased {
		return func(v string) bool { return strings.Contains(v, p) }
	}
	p = strings.ToLower(p)
	if asciiFold(p) {
		pb := []byte(p)
		return func(v string) bool {
			if len(v) >= longValue {
				return lowerLong(v).contains(pb)
			}
			return foldIndex(v, p) >= 0
		}
	}
	return func(v string) bool { return strings.Contains(strings.ToLower(v), p) }
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
