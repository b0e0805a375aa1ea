package sigma

import "slices"

// automaton is an Aho–Corasick automaton over lower-case byte strings,
// built as a dense DFA over byte classes (the bytes some pattern holds,
// all others one class), so a scan costs one table lookup per byte
// whatever the number of patterns. It is written here rather than taken
// from a library because the set needs every occurrence with its end
// position (for starts-with, ends-with and equality on the same scan) and
// a table small enough to keep one per field and event kind.
type automaton struct {
	class  [256]uint8
	nclass int
	// delta[state*nclass+class] is the next state t, written as
	// t*nclass<<1 | 1 if some pattern ends on t's suffix chain: a scan
	// reads one entry per byte, with no multiplication and no look at
	// term until a pattern may end (see step). State 0 is the root.
	delta []int32
	// term[s] is the first state on s's suffix chain (s itself included)
	// that ends a pattern, or -1; next[s] continues that chain.
	term, next []int32
	// own[s] lists the patterns that end exactly at state s.
	ownStart []int32
	own      []int32
	plen     []int32 // pattern lengths
	// skip, when not nil, tells values that hold no pattern without a
	// scan.
	skip *skipper
}

// newAutomaton builds the automaton of pats (non-empty, already folded);
// pattern i is reported as i.
func newAutomaton(pats []string) *automaton {
	a := &automaton{}
	var used [256]bool
	for _, p := range pats {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	a.nclass = 1
	for b := 0; b < 256; b++ {
		if used[b] {
			a.class[b] = uint8(a.nclass)
			a.nclass++
		}
	}
	if a.nclass > 256 {
		// Every byte value is used: no class is left for "in no
		// pattern", so each byte is its own class.
		for b := 0; b < 256; b++ {
			a.class[b] = uint8(b)
		}
		a.nclass = 256
	}
	nc := a.nclass
	// One state per distinct pattern prefix and the root, counted over
	// the sorted patterns and made room for at once: growing the table a
	// state at a time copied it over and over, and room for every pattern
	// byte was several times the table (patterns share their prefixes:
	// paths, command names), which brought the hunt's collection forward.
	total := trieStates(pats)
	a.delta = make([]int32, 0, total*nc)
	newState := func() int32 {
		s := int32(len(a.delta) / nc)
		for i := 0; i < nc; i++ {
			a.delta = append(a.delta, -1)
		}
		return s
	}
	newState()
	ends := make([][]int32, 1, total)
	for i, p := range pats {
		s := int32(0)
		for j := 0; j < len(p); j++ {
			c := int(a.class[p[j]])
			t := a.delta[int(s)*nc+c]
			if t < 0 {
				t = newState()
				a.delta[int(s)*nc+c] = t
				ends = append(ends, nil)
			}
			s = t
		}
		ends[s] = append(ends[s], int32(i))
		a.plen = append(a.plen, int32(len(p)))
	}
	n := len(ends)
	fail := make([]int32, n)
	a.term = make([]int32, n)
	a.next = make([]int32, n)
	// Breadth first: a state's fail link and missing transitions come
	// from shallower states, already complete.
	queue := make([]int32, 0, n)
	for c := 0; c < nc; c++ {
		t := a.delta[c]
		if t < 0 {
			a.delta[c] = 0
			continue
		}
		fail[t] = 0
		queue = append(queue, t)
	}
	a.term[0], a.next[0] = -1, -1
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := fail[s]
		if len(ends[s]) > 0 {
			a.term[s] = s
		} else {
			a.term[s] = a.term[f]
		}
		a.next[s] = a.term[f]
		for c := 0; c < nc; c++ {
			t := a.delta[int(s)*nc+c]
			if t < 0 {
				a.delta[int(s)*nc+c] = a.delta[int(f)*nc+c]
				continue
			}
			fail[t] = a.delta[int(f)*nc+c]
			queue = append(queue, t)
		}
	}
	a.ownStart = make([]int32, n+1)
	for s := 0; s < n; s++ {
		a.ownStart[s] = int32(len(a.own))
		a.own = append(a.own, ends[s]...)
	}
	a.ownStart[n] = int32(len(a.own))
	if int64(n)*int64(nc) >= 1<<30 {
		panic("sigma: automaton too large") // a billion table entries: not a rule set
	}
	for i, t := range a.delta {
		e := t * int32(nc) << 1
		if a.term[t] >= 0 {
			e |= 1
		}
		a.delta[i] = e
	}
	a.skip = newSkipper(pats)
	return a
}

// step moves from the state at row offset e (an entry of delta, as
// written there) on byte class c; the entry it returns has its low bit
// set when a pattern may end at the new state, whose number is then
// state(e).
func (a *automaton) step(e int32, c uint8) int32 { return a.delta[e>>1+int32(c)] }

// state is the state number of a delta entry.
func (a *automaton) state(e int32) int32 { return e >> 1 / int32(a.nclass) }

// trieStates counts the states of the trie of pats: the root and one per
// distinct non-empty prefix.
func trieStates(pats []string) int {
	sorted := slices.Clone(pats)
	slices.Sort(sorted)
	n := 1
	for i, p := range sorted {
		shared := 0
		if i > 0 {
			q := sorted[i-1]
			for shared < len(p) && shared < len(q) && p[shared] == q[shared] {
				shared++
			}
		}
		n += len(p) - shared
	}
	return n
}

// size is the automaton's memory in bytes, roughly.
func (a *automaton) size() int {
	return 4 * (len(a.delta) + len(a.term) + len(a.next) + len(a.ownStart) + len(a.own) + len(a.plen))
}
