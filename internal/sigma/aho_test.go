package sigma

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// occurrences lists every (pattern, end) the automaton reports on text.
func occurrences(t *testing.T, a *automaton, text string) []string {
	var out []string
	e := int32(0)
	for i := 0; i < len(text); i++ {
		e = a.step(e, a.class[text[i]])
		if (e&1 != 0) != (a.term[a.state(e)] >= 0) {
			t.Fatalf("entry %d: low bit says %v, state %d has term %d", e, e&1 != 0, a.state(e), a.term[a.state(e)])
		}
		for t := a.term[a.state(e)]; t >= 0; t = a.next[t] {
			for _, p := range a.own[a.ownStart[t]:a.ownStart[t+1]] {
				out = append(out, fmt.Sprint(p, "@", i))
			}
		}
	}
	slices.Sort(out)
	return out
}

// randomWord is n bytes drawn from alpha.
func randomWord(r *rand.Rand, alpha string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(alpha[r.Intn(len(alpha))])
	}
	return b.String()
}

// TestAutomatonFindsEveryOccurrence holds the automaton to brute force:
// random patterns (prefixes and suffixes of each other, repeats, all
// byte values) over random texts.
func TestAutomatonFindsEveryOccurrence(t *testing.T) {
	for seed := int64(0); seed < 300; seed++ {
		r := rand.New(rand.NewSource(seed))
		alpha := "ab\\-\x00\xff"
		if seed%50 == 0 {
			var all strings.Builder
			for b := 0; b < 256; b++ {
				all.WriteByte(byte(b))
			}
			alpha = all.String() // every byte value in use: one class each
		}
		word := func(n int) string { return randomWord(r, alpha, n) }
		var pats []string
		for i, n := 0, 1+r.Intn(12); i < n; i++ {
			pats = append(pats, word(1+r.Intn(5)))
		}
		if seed%50 == 0 {
			pats = append(pats, alpha)
		}
		a := newAutomaton(pats)
		// The table is made exactly as large as the trie (trieStates
		// counts its states): no state past the room made, none unused.
		if len(a.delta) != cap(a.delta) || len(a.delta) != len(a.term)*a.nclass {
			t.Fatalf("seed %d: patterns %q: %d table entries in room for %d, %d states of %d classes", seed, pats, len(a.delta), cap(a.delta), len(a.term), a.nclass)
		}
		text := word(r.Intn(60))
		var want []string
		for p, pat := range pats {
			for i := 0; i+len(pat) <= len(text); i++ {
				if text[i:i+len(pat)] == pat {
					want = append(want, fmt.Sprint(p, "@", i+len(pat)-1))
				}
			}
		}
		slices.Sort(want)
		if got := occurrences(t, a, text); !slices.Equal(got, want) {
			t.Fatalf("seed %d: patterns %q in %q: got %v, want %v", seed, pats, text, got, want)
		}
	}
}

// commandLinePatterns are the distinct ASCII literal patterns the
// shipped SigmaHQ Windows rules look for in command lines: the largest
// automaton a hunt builds.
func commandLinePatterns(b *testing.B) []string {
	seen := map[string]bool{}
	var pats []string
	var walk func(n *node)
	walk = func(n *node) {
		for _, k := range n.kids {
			walk(k)
		}
		if n.field != "CommandLine" {
			return
		}
		for _, l := range n.lits {
			if !seen[l.pat] && l.pat != "" && isASCII(l.pat) {
				seen[l.pat] = true
				pats = append(pats, l.pat)
			}
		}
	}
	for _, r := range windowsRules(b) {
		if d, ok := r.Detection.(*detection); ok {
			walk(d.root)
		}
	}
	if len(pats) < 1000 {
		b.Fatalf("only %d command-line patterns", len(pats))
	}
	return pats
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// BenchmarkNewAutomaton builds the command-line automaton of the shipped
// rules (a hunt builds it on first sight of a process creation).
func BenchmarkNewAutomaton(b *testing.B) {
	pats := commandLinePatterns(b)
	b.ReportMetric(float64(len(pats)), "patterns")
	for b.Loop() {
		newAutomaton(pats)
	}
}
