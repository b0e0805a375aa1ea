package sigma

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/asciifold"
)

// holdsAny is the brute force: whether text, ASCII letters folded,
// holds one of pats (lower-case).
func holdsAny(text string, pats []string) bool {
	low := []byte(text)
	for i := range low {
		low[i] = asciifold.Lower(low[i])
	}
	for _, p := range pats {
		if strings.Contains(string(low), p) {
			return true
		}
	}
	return false
}

// checkSkipper fails when the skipper of pats rules out a text that
// holds one of them.
func checkSkipper(t *testing.T, pats []string, text string) {
	t.Helper()
	s := newSkipper(pats)
	if s == nil {
		return
	}
	if !s.maybe(text) && holdsAny(text, pats) {
		t.Fatalf("patterns %q: skipper rules out %q, which holds one", pats, text)
	}
}

// TestSkipperNeverRulesOutAMatch plants random patterns, in any case, at
// every position of random texts over a small alphabet (so pairs repeat
// and windows meet partial matches), and holds the skipper to brute
// force; it must also rule out most texts that hold no pattern, or it
// would not be worth its table.
func TestSkipperNeverRulesOutAMatch(t *testing.T) {
	ruledOut, clean := 0, 0
	for seed := int64(0); seed < 400; seed++ {
		r := rand.New(rand.NewSource(seed))
		alpha := "abcAB:-\\ \xc3"
		word := func(n int) string { return randomWord(r, alpha, n) }
		var pats []string
		for i, n := 0, 1+r.Intn(8); i < n; i++ {
			p := []byte(word(skipMinLen + r.Intn(6)))
			for j := range p {
				p[j] = asciifold.Lower(p[j])
			}
			pats = append(pats, string(p))
		}
		if newSkipper(pats) == nil {
			t.Fatalf("seed %d: no skipper for %q", seed, pats)
		}
		for k := 0; k < 20; k++ {
			text := word(r.Intn(80))
			if k%2 == 0 {
				// Plant a pattern, its letters in random case.
				p := []byte(pats[r.Intn(len(pats))])
				for j := range p {
					if r.Intn(2) == 0 && p[j] >= 'a' && p[j] <= 'z' {
						p[j] -= 'a' - 'A'
					}
				}
				at := r.Intn(len(text) + 1)
				text = text[:at] + string(p) + text[at:]
			}
			checkSkipper(t, pats, text)
			if !holdsAny(text, pats) {
				clean++
				if !newSkipper(pats).maybe(text) {
					ruledOut++
				}
			}
		}
	}
	// Over this small alphabet many clean texts still meet a pair that
	// ends a pattern's first bytes; real values with real keywords far
	// fewer.
	if clean == 0 || ruledOut*4 < clean {
		t.Fatalf("the skipper ruled out %d of %d texts holding no pattern", ruledOut, clean)
	}
}

// TestSkipperOnlyWherePatternsAreFewAndLong keeps the skipper to the
// sets it pays for, and checks a real keyword rule's set.
func TestSkipperOnlyWherePatternsAreFewAndLong(t *testing.T) {
	if newSkipper([]string{"lsadump::", "ab"}) != nil {
		t.Fatal("a skipper with a two-byte pattern")
	}
	if newSkipper(nil) != nil {
		t.Fatal("a skipper without patterns")
	}
	many := make([]string, skipMaxPatterns+1)
	for i := range many {
		many[i] = strings.Repeat("x", 6) + string(rune('a'+i%26))
	}
	if newSkipper(many) != nil {
		t.Fatal("a skipper over more patterns than pay")
	}
	kw := []string{"dpapi::masterkey", "eo.oe.kiwi", "event::clear", "gentilkiwi.com", "kerberos::golden", "lsadump::", "sekurlsa::", "privilege::debug"}
	s := newSkipper(kw)
	if s == nil {
		t.Fatal("no skipper for keyword patterns")
	}
	for _, v := range []string{`C:\Windows\System32\svchost.exe -k netsvcs -p`, "NT AUTHORITY\\SYSTEM", "{8d2d4a0e-1b7c-4f3e-9a61-2f0c8b1e5d77}"} {
		if s.maybe(v) {
			t.Errorf("%q may hold a keyword, says the skipper", v)
		}
	}
	for _, v := range []string{"mimikatz # LSADUMP::sam", "x SEKURLSA::logonpasswords", "privilege::debug"} {
		if !s.maybe(v) {
			t.Errorf("%q ruled out", v)
		}
	}
}

// FuzzSkipper holds the skipper to brute force on any patterns and text.
func FuzzSkipper(f *testing.F) {
	f.Add("lsadump::", "sekurlsa::", "mimikatz # lsadump::sam")
	f.Add("abcab", "bcabc", "xxabcabcab")
	f.Fuzz(func(t *testing.T, p1, p2, text string) {
		var pats []string
		for _, p := range []string{p1, p2} {
			b := []byte(p)
			for i := range b {
				b[i] = asciifold.Lower(b[i])
			}
			pats = append(pats, string(b))
		}
		checkSkipper(t, pats, text)
	})
}
