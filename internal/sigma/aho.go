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
	// The trie first: 0 in a row means no child (the root is no one's
	// child), so the table needs no filling before it is written.
	// Each state's children are also listed (first child, next
	// sibling, class), for the breadth-first pass below.
	a.delta = make([]int32, total*nc)
	first := make([]int32, total)
	sibling := make([]int32, total)
	via := make([]uint8, total)
	ends := make([][]int32, total)
	n := int32(1)
	for i, p := range pats {
		s := int32(0)
		for j := 0; j < len(p); j++ {
			c := a.class[p[j]]
			t := a.delta[int(s)*nc+int(c)]
			if t == 0 {
				t = n
				n++
				a.delta[int(s)*nc+int(c)] = t
				sibling[t], first[s], via[t] = first[s], t, c
				// Written before it is read: a fresh page read first
				// is mapped to the zero page and faults again when
				// written (the table's pages cost twice otherwise). A
				// row spans at most two pages.
				a.delta[int(t)*nc], a.delta[int(t)*nc+nc-1] = 0, 0
			}
			s = t
		}
		ends[s] = append(ends[s], int32(i))
		a.plen = append(a.plen, int32(len(p)))
	}
	fail := make([]int32, n)
	a.term = make([]int32, n)
	a.next = make([]int32, n)
	// Breadth first: a state's row is its fail state's (shallower, so
	// complete) with its own children written over it, and a child's
	// fail state is where the fail state's row leads on the child's
	// class.
	queue := make([]int32, 0, n)
	for t := first[0]; t != 0; t = sibling[t] {
		queue = append(queue, t) // fail[t] = 0: the root
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
		row, frow := a.delta[int(s)*nc:int(s+1)*nc], a.delta[int(f)*nc:int(f+1)*nc]
		copy(row, frow)
		for t := first[s]; t != 0; t = sibling[t] {
			fail[t] = frow[via[t]]
			row[via[t]] = t
			queue = append(queue, t)
		}
	}
	a.ownStart = make([]int32, n+1)
	for s := int32(0); s < n; s++ {
		a.ownStart[s] = int32(len(a.own))
		a.own = append(a.own, ends[s]...)
	}
	a.ownStart[n] = int32(len(a.own))
	if int64(n)*int64(nc) >= 1<<30 {
		panic("sigma: automaton too large") // a billion table entries: not a rule set
	}
	// Entries as step reads them: the row offset, and whether a pattern
	// may end there.
	enc := make([]int32, n)
	for t := range enc {
		enc[t] = int32(t) * int32(nc) << 1
		if a.term[t] >= 0 {
			enc[t] |= 1
		}
	}
	for i, t := range a.delta {
		a.delta[i] = enc[t]
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
