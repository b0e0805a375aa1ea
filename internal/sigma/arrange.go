package sigma

import (
	"encoding/binary"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spoor-dfir/spoor/internal/asciifold"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Building the Set's arrangements: which rules apply to a kind of event,
// their slots, automata, necessary sets and memo keys.

// group returns the shared group for k, building it on first use. Two
// goroutines may build groups of different keys at once (the lock is not
// held while building); one asking for a key being built waits for it.
func (s *Set) group(k groupKey) *arrangement {
	s.mu.Lock()
	if g := s.byKey[k]; g != nil {
		s.mu.Unlock()
		return g
	}
	if c := s.building[k]; c != nil {
		s.mu.Unlock()
		<-c.done
		return c.g
	}
	c := &buildCall{done: make(chan struct{})}
	s.building[k] = c
	s.mu.Unlock()
	defer func() {
		// A panic in build (a compiler bug) must not leave waiters
		// blocked: they get nil and the matcher's caller recovers.
		s.mu.Lock()
		if c.g != nil {
			s.byKey[k] = c.g
		}
		delete(s.building, k)
		s.mu.Unlock()
		close(c.done)
	}()
	c.g = s.build(k)
	return c.g
}

// buildCall is a group being built.
type buildCall struct {
	done chan struct{}
	g    *arrangement
}

// build arranges the set for events of key k. Groups whose rules fold the
// same way (e.g. the event ids of one channel that the rules do not name)
// are shared.
func (s *Set) build(k groupKey) *arrangement {
	probe := &event.Event{Source: k.source, Channel: k.channel, EventID: k.id}
	var rules []pending
	var sig []byte
	for i, r := range s.rules {
		if !r.Filter.PassKey(k.source, k.id, k.channel) {
			continue
		}
		d := s.dets[i]
		src := d.srcOf(probe)
		if src == -2 {
			continue
		}
		consts := foldSig(d.root, src, probe, nil)
		if foldConst(d.root, src, probe) < 0 {
			continue // cannot match such events
		}
		rules = append(rules, pending{i, src, d.root})
		sig = binary.AppendUvarint(sig, uint64(i))
		sig = binary.AppendVarint(sig, int64(src))
		sig = append(sig, consts...)
		sig = append(sig, 0xff)
	}
	s.mu.Lock()
	g := s.bySig[string(sig)]
	s.mu.Unlock()
	if g != nil {
		return g
	}
	// Rules whose leaves read only their fields are remembered per value
	// tuple; the few that read more (keywords, fieldref) go apart, so
	// they do not keep the others from being remembered.
	var plain, opaque []pending
	for _, p := range rules {
		if isOpaque(p.root, p.src) {
			opaque = append(opaque, p)
		} else {
			plain = append(plain, p)
		}
	}
	g = s.buildPart(probe, plain)
	if len(opaque) > 0 {
		g.rest = s.buildPart(probe, opaque)
	}
	s.mu.Lock()
	if had := s.bySig[string(sig)]; had != nil {
		g = had // built meanwhile for another key: the same answers
	} else {
		s.bySig[string(sig)] = g
	}
	s.mu.Unlock()
	return g
}

// pending is a rule of an arrangement being built.
type pending struct {
	idx, src int
	root     *node
}

// isOpaque reports whether some leaf of n reads more than its field.
func isOpaque(n *node, src int) bool {
	if n.kind != nLeaf {
		for _, k := range n.kids {
			if isOpaque(k, src) {
				return true
			}
		}
		return false
	}
	if n.ref != "" && (n.refName(src) == "" || volatileField(n.refName(src))) {
		return true
	}
	return n.opaque || n.rawName(src) == "" || volatileField(n.rawName(src))
}

// volatileField reports whether a raw field differs on nearly every
// event (the record time): answers keyed on it would only fill the memo,
// so rules reading it are matched apart, unremembered, like opaque ones.
func volatileField(name string) bool { return name == "TimeCreated" }

// buildPart arranges rules for the events of probe's key.
func (s *Set) buildPart(probe *event.Event, rules []pending) *arrangement {
	b := &builder{probe: probe, reads: map[string]bool{}, slotOf: map[slotKey]int32{}, fieldOf: map[string]int{}}
	s.mu.Lock()
	g := &arrangement{id: s.groups}
	s.groups++
	s.mu.Unlock()
	for _, p := range rules {
		root := b.compile(p.root, p.src)
		g.rules = append(g.rules, grule{idx: p.idx, src: p.src, root: root})
	}
	g.nSlots = len(b.slotLen)
	g.slotRules = make([][]int32, g.nSlots)
	g.always = make([]uint64, (len(g.rules)+63)/64)
	for i, r := range g.rules {
		slots, ok := b.necessary(r.root)
		if !ok {
			g.always[i/64] |= 1 << (i % 64)
			continue
		}
		for _, sl := range slots {
			if l := g.slotRules[sl]; len(l) == 0 || l[len(l)-1] != int32(i) {
				g.slotRules[sl] = append(l, int32(i))
			}
		}
	}
	for _, f := range b.fields {
		g.fields = append(g.fields, s.gfieldOf(f))
	}
	if !b.opaque {
		g.memo = true
		names := slices.Sorted(maps.Keys(b.reads))
		for _, name := range names {
			g.keyGets = append(g.keyGets, readerOf(name))
		}
	}
	return g
}

// gfieldOf gives a field of an arrangement its automaton. Arrangements
// often share a field's patterns (the event ids of one channel): one
// automaton, built once, serves them all. (One automaton per field for
// every kind of event was tried: its scans stop at the patterns of all
// the other kinds, and a hunt of dense real chunks took 10% more CPU.)
func (s *Set) gfieldOf(f *fieldBuild) gfield {
	g := gfield{get: readerOf(f.name), high: f.high}
	var lo, hi []string
	for i, p := range f.pats {
		if !asciifold.IsASCII(p) {
			hi, g.hiOuts = append(hi, p), append(g.hiOuts, f.outs[i])
		} else {
			lo, g.outs = append(lo, p), append(g.outs, f.outs[i])
		}
	}
	g.auto = s.shared(lo).get()
	if len(hi) > 0 {
		g.hi = s.shared(hi)
	}
	return g
}

// sharedAuto is an automaton built once, on first use, for every
// arrangement that needs its patterns.
type sharedAuto struct {
	pats  []string
	once  sync.Once
	built atomic.Pointer[automaton]
}

// get returns the automaton, building it on the first call (outside
// the set's lock, so automata of different pattern sets are built at
// once).
func (sa *sharedAuto) get() *automaton {
	sa.once.Do(func() { sa.built.Store(newAutomaton(sa.pats)) })
	return sa.built.Load()
}

// shared returns the shared automaton of pats.
func (s *Set) shared(pats []string) *sharedAuto {
	key := strings.Join(pats, "\x00")
	s.mu.Lock()
	defer s.mu.Unlock()
	sa := s.autos[key]
	if sa == nil {
		sa = &sharedAuto{pats: pats}
		s.autos[key] = sa
	}
	return sa
}

// constField reports whether a raw field's value depends only on the
// dispatch key (so leaves on it fold to constants per group).
func constField(name string) bool { return name == "EventID" || name == "Channel" }

// foldConst evaluates n as far as its constant leaves decide it: 1 true,
// -1 false, 0 depends on the event.
func foldConst(n *node, src int, probe *event.Event) int8 {
	switch n.kind {
	case nAnd, nOr:
		res := int8(1)
		if n.kind == nOr {
			res = -1
		}
		undecided := false
		for _, k := range n.kids {
			switch c := foldConst(k, src, probe); {
			case c == 0:
				undecided = true
			case n.kind == nAnd && c < 0, n.kind == nOr && c > 0:
				return c
			}
		}
		if undecided {
			return 0
		}
		return res
	case nNot:
		return -foldConst(n.kids[0], src, probe)
	}
	if n.lits == nil || !constField(n.rawName(src)) {
		return 0
	}
	if litLeaf(n, src, probe) {
		return 1
	}
	return -1
}

// foldSig appends the outcome of every constant leaf of n.
func foldSig(n *node, src int, probe *event.Event, sig []byte) []byte {
	if n.kind != nLeaf {
		for _, k := range n.kids {
			sig = foldSig(k, src, probe, sig)
		}
		return sig
	}
	if n.lits != nil && constField(n.rawName(src)) {
		if litLeaf(n, src, probe) {
			return append(sig, 1)
		}
		return append(sig, 2)
	}
	return sig
}

// litLeaf evaluates a literal leaf directly (for constant fields).
func litLeaf(n *node, src int, ev *event.Event) bool {
	v, ok := fieldGetter(n.rawName(src))(ev)
	if !ok {
		return false
	}
	lv := make([]byte, len(v))
	for i := 0; i < len(v); i++ {
		lv[i] = asciifold.Lower(v[i])
	}
	low := string(lv)
	for _, l := range n.lits {
		switch l.op {
		case opEq:
			if low == l.pat {
				return true
			}
		case opPrefix:
			if len(low) >= len(l.pat) && low[:len(l.pat)] == l.pat {
				return true
			}
		case opSuffix:
			if len(low) >= len(l.pat) && low[len(low)-len(l.pat):] == l.pat {
				return true
			}
		case opContains:
			if strings.Contains(low, l.pat) {
				return true
			}
		}
	}
	return false
}

type slotKey struct {
	field string
	op    byte
	pat   string
}

type fieldBuild struct {
	name   string
	high   int32 // the slot of "a non-ASCII byte", -1 if none
	pats   []string
	patIdx map[string]int32
	outs   [][]patOut
}

// builder assigns slots and gathers patterns while a group is compiled.
type builder struct {
	probe   *event.Event
	reads   map[string]bool // raw fields the leaves read
	opaque  bool            // some leaf reads more than its field
	slotOf  map[slotKey]int32
	slotLen []int
	fieldOf map[string]int
	fields  []*fieldBuild
}

func (b *builder) slot(field string, l litPat) int32 {
	k := slotKey{field, l.op, l.pat}
	if s, ok := b.slotOf[k]; ok {
		return s
	}
	s := int32(len(b.slotLen))
	b.slotOf[k] = s
	b.slotLen = append(b.slotLen, len(l.pat))
	fi, ok := b.fieldOf[field]
	if !ok {
		fi = len(b.fields)
		b.fieldOf[field] = fi
		b.fields = append(b.fields, &fieldBuild{name: field, high: -1, patIdx: map[string]int32{}})
	}
	f := b.fields[fi]
	if l.op == opNonASCII {
		f.high = s
		return s
	}
	p, ok := f.patIdx[l.pat]
	if !ok {
		p = int32(len(f.pats))
		f.patIdx[l.pat] = p
		f.pats = append(f.pats, l.pat)
		f.outs = append(f.outs, nil)
	}
	f.outs[p] = append(f.outs[p], patOut{op: l.op, slot: s})
	return s
}

func (b *builder) compile(n *node, src int) *gnode {
	if n.kind != nLeaf {
		g := &gnode{kind: n.kind}
		for _, k := range n.kids {
			g.kids = append(g.kids, b.compile(k, src))
		}
		// Cheap tests first: and/or over pure tests may be evaluated in
		// any order, so bitset lookups decide before predicates run.
		slices.SortStableFunc(g.kids, func(x, y *gnode) int { return x.cost() - y.cost() })
		return g
	}
	g := &gnode{kind: nLeaf}
	name := n.rawName(src)
	opaque := isOpaque(n, src)
	if opaque {
		b.opaque = true // keywords read every value; the time is not remembered
	} else {
		if n.lits == nil || !constField(name) {
			b.reads[name] = true
		}
		if n.ref != "" {
			b.reads[n.refName(src)] = true
		}
	}
	if n.lits == nil {
		g.gen = n.gen
		if !opaque && readerOf(name).kind == 'r' {
			g.own = name
			if n.ref != "" {
				// The field compared with: a raw one is shown too, a
				// column is in the copy; others need the decoded event.
				switch readerOf(n.refName(src)).kind {
				case 'r':
					g.own2 = n.refName(src)
				case 't':
				default:
					g.own = ""
				}
			}
		}
		for _, p := range n.pre {
			op := byte(opContains)
			if p == nonASCII {
				op = opNonASCII
			}
			g.slots = append(g.slots, b.slot(name, litPat{op, p}))
		}
		return g
	}
	if constField(name) {
		g.konst = -1
		if litLeaf(n, src, b.probe) {
			g.konst = 1
		}
		return g
	}
	for _, l := range n.lits {
		g.slots = append(g.slots, b.slot(name, l))
	}
	return g
}

// necessary returns slots of which at least one is set whenever n holds,
// or false when there is no such set (n may hold with no slot set).
func (b *builder) necessary(n *gnode) ([]int32, bool) {
	switch n.kind {
	case nOr:
		var out []int32
		for _, k := range n.kids {
			s, ok := b.necessary(k)
			if !ok {
				if k.konst < 0 {
					continue // a false branch adds nothing
				}
				return nil, false
			}
			out = append(out, s...)
		}
		return out, len(out) > 0
	case nAnd:
		var best []int32
		bestLen := -1
		for _, k := range n.kids {
			if k.konst < 0 {
				return nil, false // never true: evaluating is cheap and exact
			}
			s, ok := b.necessary(k)
			if !ok {
				continue
			}
			// Prefer the most specific patterns: long ones are rare.
			short := 1 << 30
			for _, sl := range s {
				short = min(short, b.slotLen[sl])
			}
			if short > bestLen || short == bestLen && len(s) < len(best) {
				best, bestLen = s, short
			}
		}
		return best, best != nil
	case nNot:
		return nil, false
	}
	if n.konst != 0 {
		return nil, false
	}
	return n.slots, len(n.slots) > 0
}
