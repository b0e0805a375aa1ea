package sigma

import (
	"regexp"
	"strings"
	"testing"
)

// refRegexp is an independent reference for Sigma wildcard matching:
// the pattern as an anchored regular expression.
func refRegexp(toks []token, op string, cased bool) *regexp.Regexp {
	var b strings.Builder
	if !cased {
		b.WriteString("(?i)")
	}
	b.WriteString("(?s)^")
	if op == "contains" || op == "endswith" {
		b.WriteString(".*")
	}
	for _, t := range toks {
		switch t.kind {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(t.lit))
		}
	}
	if op == "contains" || op == "startswith" {
		b.WriteString(".*")
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func checkAgainstRef(t *testing.T, pattern, value string) {
	t.Helper()
	toks := parsePattern(pattern)
	for _, op := range []string{"", "contains", "startswith", "endswith"} {
		for _, cased := range []bool{false, true} {
			got := compileString(append([]token(nil), toks...), op, cased)(value)
			want := refRegexp(toks, op, cased).MatchString(value)
			if got != want {
				t.Errorf("pattern %q op %q cased %v value %q: got %v, reference %v", pattern, op, cased, value, got, want)
			}
		}
	}
}

func TestMatchAgainstReference(t *testing.T) {
	for _, c := range [][2]string{
		{`*\cmd.exe`, `C:\Windows\System32\CMD.EXE`},
		{`C:\\*\evil?.exe`, `c:\x\y\EVIL1.exe`},
		{`a*b*c`, `aXbYbZc`},
		{`a*b*c`, `aXbYbZ`},
		{`??`, `ab`},
		{`??`, `abc`},
		{`*`, ``},
		{`a\*`, `a*`},
		{`a\*`, `ab`},
		{`-ep bypass`, `powershell -EP Bypass -nop`},
		{`xx`, `x`},
		{`ab*ab`, `ab`},
		{`*aab`, `aaab`},
	} {
		checkAgainstRef(t, c[0], c[1])
	}
}

func TestFoldIndex(t *testing.T) {
	for _, c := range []struct {
		v, p string
		want int
	}{
		{"Hello World", "world", 6},
		{"Hello World", "o w", 4},
		{"aaaaB", "ab", 3},
		{"AB", "abc", -1},
		{"", "a", -1},
		{"abc", "", 0},
		{"x-EncodedCommand", "-enc", 1},
		{"zzzzZ", "z", 0},
		{"ÄbC", "bc", 2},
	} {
		if got := foldIndex(c.v, c.p); got != c.want {
			t.Errorf("foldIndex(%q, %q) = %d, want %d", c.v, c.p, got, c.want)
		}
	}
}

func isPrintASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// FuzzMatchReference compares the matchers with the regular-expression
// reference on printable ASCII (where ASCII folding is the whole story).
func FuzzMatchReference(f *testing.F) {
	f.Add(`C:\*\a?.exe`, `c:\x\ab.exe`)
	f.Add(`*a*b`, `xaxbxb`)
	f.Add(`\\*\\`, `\\srv\`)
	f.Fuzz(func(t *testing.T, pattern, value string) {
		if !isPrintASCII(pattern) || !isPrintASCII(value) || len(pattern) > 64 || len(value) > 256 {
			return
		}
		checkAgainstRef(t, pattern, value)
	})
}

// TestLongValues covers the shared lower-cased form of long values: the
// bigram pre-check must never hide a real occurrence.
func TestLongValues(t *testing.T) {
	pad := strings.Repeat("abcdefgh ", 100) // > longValue, every bigram of "abcdefgh "
	cases := []struct {
		v, p string
		want bool
	}{
		{pad + "Invoke-Mimikatz", "invoke-mimikatz", true},
		{"INVOKE-MIMIKATZ" + pad, "invoke-mimikatz", true},
		{pad, "invoke", false},
		{pad, "hab", false},    // bigrams "ha", "ab" both present, "hab" absent
		{pad, "h abc", true},   // across the repetition
		{pad, "x", false},      // single byte, no bigram
		{pad + "X", "x", true}, // single byte present
	}
	for _, c := range cases {
		m := compileString(parsePattern(c.p), "contains", false)
		if got := m(c.v); got != c.want {
			t.Errorf("contains %q in long value: got %v want %v", c.p, got, c.want)
		}
		// The same value again (cache hit) and a copy (different
		// identity) agree.
		if m(c.v) != c.want || m(strings.Clone(c.v)) != c.want {
			t.Errorf("contains %q: cached result differs", c.p)
		}
	}
	// The list form.
	det := "  sel:\n    F|contains:\n      - 'iex('\n      - 'downloadstring'\n      - 'hab'\n  condition: sel\n"
	m := compileOne(t, det)
	if !m(ev("F", pad+"(New-Object Net.WebClient).DownloadString('x')")) || m(ev("F", pad)) {
		t.Error("contains list on long values")
	}
}

func TestLongValuesConcurrent(t *testing.T) {
	vals := make([]string, 64)
	for i := range vals {
		vals[i] = strings.Repeat(string(rune('a'+i%26)), 600) + "TAIL" + strings.Repeat("z", i)
	}
	m := compileString(parsePattern("tail"), "contains", false)
	done := make(chan bool)
	for w := 0; w < 4; w++ {
		go func() {
			ok := true
			for r := 0; r < 50; r++ {
				for _, v := range vals {
					ok = ok && m(v)
				}
			}
			done <- ok
		}()
	}
	for w := 0; w < 4; w++ {
		if !<-done {
			t.Error("missed a match under concurrency")
		}
	}
}
