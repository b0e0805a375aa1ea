package rule

import (
	"encoding/base64"
	"net/netip"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/expr-lang/expr"

	"github.com/spoor-dfir/spoor/internal/caseconf"
)

// functions are the helpers a condition can call besides field() and
// has_field(). They are expr functions with declared signatures, so a
// wrong argument type is a compile error, and calls avoid reflection.
// Those that depend on the case capture cfg: a Program is compiled for one
// case. README.md documents each.
func functions(cfg *caseconf.Config) []expr.Option {
	loc := cfg.Location()
	timeBool := func(f func(time.Time) bool) func(...any) (any, error) {
		return func(p ...any) (any, error) { return f(p[0].(time.Time)), nil }
	}
	strBool := func(f func(string) bool) func(...any) (any, error) {
		return func(p ...any) (any, error) { return f(p[0].(string)), nil }
	}
	strStr := func(f func(string) string) func(...any) (any, error) {
		return func(p ...any) (any, error) { return f(p[0].(string)), nil }
	}
	listFn := func(f func(s, item string) bool, multi bool) func(...any) (any, error) {
		return func(p ...any) (any, error) {
			s := p[0].(string)
			switch l := p[1].(type) {
			case []any:
				if multi && len(l) > 1 {
					if m := needlesFor(l); m != nil {
						return m.containedIn(s), nil
					}
				}
				for _, it := range l {
					if x, ok := it.(string); ok && f(s, x) {
						return true, nil
					}
				}
			case []string:
				for _, x := range l {
					if f(s, x) {
						return true, nil
					}
				}
			}
			return false, nil
		}
	}
	tb := new(func(time.Time) bool)
	sb := new(func(string) bool)
	ss := new(func(string) string)
	return []expr.Option{
		expr.Function("business_hours", timeBool(cfg.InBusinessHours), tb),
		expr.Function("weekend", timeBool(cfg.Weekend), tb),
		expr.Function("holiday", timeBool(cfg.Holiday), tb),
		expr.Function("hour", func(p ...any) (any, error) {
			return p[0].(time.Time).In(loc).Hour(), nil
		}, new(func(time.Time) int)),
		expr.Function("weekday", func(p ...any) (any, error) {
			return weekdays[p[0].(time.Time).In(loc).Weekday()], nil
		}, new(func(time.Time) string)),
		expr.Function("local_time", func(p ...any) (any, error) {
			return p[0].(time.Time).In(loc).Format("2006-01-02 15:04:05 MST"), nil
		}, new(func(time.Time) string)),
		expr.Function("provider", strBool(func(s string) bool { _, ok := cfg.Provider(s); return ok }), sb),
		expr.Function("provider_ip", strBool(func(s string) bool { _, ok := cfg.ProviderIP(s); return ok }), sb),
		expr.Function("provider_operator", strBool(func(s string) bool { _, ok := cfg.ProviderOperator(s); return ok }), sb),
		expr.Function("provider_name", strStr(func(s string) string { return providerName(cfg, s) }), ss),
		expr.Function("internal", strBool(cfg.Internal), sb),
		expr.Function("external", strBool(cfg.External), sb),
		expr.Function("privileged", strBool(cfg.Privileged), sb),
		expr.Function("cidr", func(p ...any) (any, error) {
			return inCIDR(p[0].(string), p[1].(string)), nil
		}, new(func(string, string) bool)),
		expr.Function("re", func(p ...any) (any, error) {
			re, err := cachedRegexp(p[1].(string))
			if err != nil {
				return false, err
			}
			return re.MatchString(p[0].(string)), nil
		}, new(func(string, string) bool)),
		expr.Function("b64", strStr(decodeBase64), ss),
		expr.Function("utf16", strStr(decodeUTF16), ss),
		expr.Function("decode_ps", strStr(DecodePowerShell), ss),
		expr.Function("basename", strStr(basename), ss),
		expr.Function("short", func(p ...any) (any, error) {
			return shorten(p[0].(string), p[1].(int)), nil
		}, new(func(string, int) string)),
		expr.Function("icontains", func(p ...any) (any, error) {
			return containsFold(p[0].(string), p[1].(string)), nil
		}, new(func(string, string) bool)),
		expr.Function("contains_any", listFn(containsFold, true), new(func(string, []any) bool), new(func(string, []string) bool)),
		expr.Function("starts_with_any", listFn(hasPrefixFold, false), new(func(string, []any) bool), new(func(string, []string) bool)),
		expr.Function("ends_with_any", listFn(hasSuffixFold, false), new(func(string, []any) bool), new(func(string, []string) bool)),
	}
}

var weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func providerName(cfg *caseconf.Config, s string) string {
	if p, ok := cfg.Provider(s); ok {
		return p.Name
	}
	if p, ok := cfg.ProviderOperator(s); ok {
		return p.Name
	}
	if p, ok := cfg.ProviderIP(s); ok {
		return p.Name
	}
	return ""
}

// Compiled patterns and prefixes are cached process-wide: rules use a
// handful of constant ones, compiled once (and checked at load).
var (
	reCache     sync.Map // string → *regexp.Regexp
	prefixCache sync.Map // string → netip.Prefix
)

// maxCached bounds the caches against expressions that build patterns
// from event data.
const maxCached = 4096

var cacheSize struct {
	sync.Mutex
	re, prefix int
}

func cachedRegexp(pat string) (*regexp.Regexp, error) {
	if v, ok := reCache.Load(pat); ok {
		return v.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, err
	}
	cacheSize.Lock()
	if cacheSize.re < maxCached {
		cacheSize.re++
		reCache.Store(pat, re)
	}
	cacheSize.Unlock()
	return re, nil
}

func cachedPrefix(s string) (netip.Prefix, error) {
	if v, ok := prefixCache.Load(s); ok {
		return v.(netip.Prefix), nil
	}
	p, err := caseconf.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	cacheSize.Lock()
	if cacheSize.prefix < maxCached {
		cacheSize.prefix++
		prefixCache.Store(s, p)
	}
	cacheSize.Unlock()
	return p, nil
}

func inCIDR(ip, network string) bool {
	p, err := cachedPrefix(network)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return false
	}
	return p.Contains(a.Unmap())
}

// decodeBase64 accepts standard and URL alphabets, with or without
// padding and with embedded whitespace; "" when s is not base64.
func decodeBase64(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return ""
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return string(b)
		}
	}
	return ""
}

// decodeUTF16 reads s's bytes as UTF-16 (little-endian unless a BOM says
// otherwise); a trailing odd byte is dropped.
func decodeUTF16(s string) string {
	b := []byte(s)
	big := false
	if len(b) >= 2 {
		switch {
		case b[0] == 0xFF && b[1] == 0xFE:
			b = b[2:]
		case b[0] == 0xFE && b[1] == 0xFF:
			b, big = b[2:], true
		}
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if big {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
	}
	return string(utf16.Decode(u))
}

// DecodePowerShell returns the script behind a PowerShell
// -EncodedCommand (base64 of UTF-16LE) found in a command line, or the
// decoding of s itself when s is such a base64 string; "" otherwise.
// PowerShell accepts any prefix of -EncodedCommand from -e on, -ec, and
// /, – or — as the dash.
func DecodePowerShell(s string) string {
	// Most command lines have no -e… flag at all: skip the tokenizing.
	if strings.ContainsAny(s, " \t") && !containsFold(s, "-e") && !containsFold(s, "/e") &&
		!strings.ContainsAny(s, "–—―") {
		return ""
	}
	toks := splitArgs(s)
	for i, t := range toks {
		if i+1 < len(toks) && isEncodedFlag(t) {
			if out := decodePSBlob(toks[i+1]); out != "" {
				return out
			}
		}
	}
	if len(toks) == 1 {
		return decodePSBlob(toks[0])
	}
	return ""
}

func decodePSBlob(s string) string {
	s = strings.Trim(s, `"'`)
	if len(s) < 4 {
		return ""
	}
	raw := decodeBase64(s)
	if raw == "" || len(raw)%2 != 0 {
		return ""
	}
	out := decodeUTF16(raw)
	if !utf8.ValidString(out) || strings.ContainsRune(out, utf8.RuneError) {
		return ""
	}
	return out
}

func isEncodedFlag(t string) bool {
	r, size := utf8.DecodeRuneInString(t)
	if size == 0 || !(r == '-' || r == '/' || r == '–' || r == '—' || r == '―') {
		return false
	}
	name := strings.ToLower(t[size:])
	if name == "ec" {
		return true
	}
	return len(name) >= 1 && strings.HasPrefix("encodedcommand", name)
}

// splitArgs splits a command line on blanks, keeping double-quoted runs
// together (quotes removed).
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	inQ, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQ, have = !inQ, true
		case (r == ' ' || r == '\t' || r == '\r' || r == '\n') && !inQ:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// shorten cuts s to at most n runes, marking the cut with "…", and
// folds line breaks so a summary stays on one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if n < 1 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func basename(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	p = strings.TrimRight(p, "/")
	if p == "" {
		return ""
	}
	return path.Base(p)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// containsFold is a case-insensitive strings.Contains that does not
// allocate for ASCII needles (the usual case: command names, paths).
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	if !isASCII(sub) {
		return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
	}
	n := len(sub)
	first := lowerASCII(sub[0])
	for i := 0; i+n <= len(s); i++ {
		if lowerASCII(s[i]) == first && equalFoldASCII(s[i:i+n], sub) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, pre string) bool {
	if !isASCII(pre) {
		return strings.HasPrefix(strings.ToLower(s), strings.ToLower(pre))
	}
	return len(s) >= len(pre) && equalFoldASCII(s[:len(pre)], pre)
}

func hasSuffixFold(s, suf string) bool {
	if !isASCII(suf) {
		return strings.HasSuffix(strings.ToLower(s), strings.ToLower(suf))
	}
	return len(s) >= len(suf) && equalFoldASCII(s[len(s)-len(suf):], suf)
}

// needles is a compiled constant list for contains_any: the needles by
// their first (lowered) byte, so one pass over a long script block checks
// every needle instead of one pass per needle.
type needles struct {
	byFirst [256][]string
}

var (
	needleCache sync.Map // *any (first element of a constant list) → *needles
	needleCount struct {
		sync.Mutex
		n int
	}
)

// needlesFor returns the compiled form of a list, cached by the address
// of its first element: expr pushes a constant list literal as the same
// slice on every evaluation. Lists built per event are not cached once
// the cache is full, and lists with non-ASCII needles are not compiled.
func needlesFor(l []any) *needles {
	key := &l[0]
	if v, ok := needleCache.Load(key); ok {
		return v.(*needles)
	}
	m := &needles{}
	for _, it := range l {
		x, ok := it.(string)
		if !ok || x == "" || !isASCII(x) {
			return nil
		}
		c := lowerASCII(x[0])
		m.byFirst[c] = append(m.byFirst[c], x)
	}
	needleCount.Lock()
	if needleCount.n < maxCached {
		needleCount.n++
		needleCache.Store(key, m)
	}
	needleCount.Unlock()
	return m
}

func (m *needles) containedIn(s string) bool {
	for i := 0; i < len(s); i++ {
		cands := m.byFirst[lowerASCII(s[i])]
		for _, n := range cands {
			if i+len(n) <= len(s) && equalFoldASCII(s[i:i+len(n)], n) {
				return true
			}
		}
	}
	return false
}
