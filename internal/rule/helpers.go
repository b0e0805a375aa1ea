package rule

import (
	"net/netip"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"

	"github.com/spoor-dfir/spoor/internal/asciifold"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/pwsh"
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
		expr.Function("b64", strStr(pwsh.Base64), ss),
		expr.Function("utf16", strStr(pwsh.UTF16), ss),
		expr.Function("decode_ps", strStr(pwsh.EncodedCommand), ss),
		expr.Function("basename", strStr(basename), ss),
		expr.Function("short", func(p ...any) (any, error) {
			return shorten(p[0].(string), p[1].(int)), nil
		}, new(func(string, int) string)),
		expr.Function("icontains", func(p ...any) (any, error) {
			return asciifold.Contains(p[0].(string), p[1].(string)), nil
		}, new(func(string, string) bool)),
		expr.Function("contains_any", listFn(asciifold.Contains, true), new(func(string, []any) bool), new(func(string, []string) bool)),
		expr.Function("starts_with_any", listFn(asciifold.HasPrefix, false), new(func(string, []any) bool), new(func(string, []string) bool)),
		expr.Function("ends_with_any", listFn(asciifold.HasSuffix, false), new(func(string, []any) bool), new(func(string, []string) bool)),
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
		if !ok || x == "" || !asciifold.IsASCII(x) {
			return nil
		}
		c := asciifold.Lower(x[0])
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
		cands := m.byFirst[asciifold.Lower(s[i])]
		for _, n := range cands {
			if i+len(n) <= len(s) && asciifold.Equal(s[i:i+len(n)], n) {
				return true
			}
		}
	}
	return false
}
