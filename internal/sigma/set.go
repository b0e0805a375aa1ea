package sigma

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
	"sync"

	"github.com/spoor-dfir/spoor/internal/asciifold"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/tuplememo"
)

// Set evaluates many compiled Sigma rules on each event at once, giving
// the same answers as each rule's Match (the reference; a differential
// test holds them together):
//
//   - Dispatch: the rules an event can match depend only on its source,
//     channel and event id (pre-filter and logsource). For each such key
//     the set works out once which rules apply, under which logsource
//     source (field renames), and folds the leaves on EventID and Channel
//     to constants: rules that cannot match such events drop out.
//   - Literal leaves of all those rules are gathered per raw field into
//     one Aho–Corasick automaton, so each field value is lower-cased and
//     scanned once for every equals/startswith/endswith/contains value of
//     every rule; each pattern found sets its slot in a per-event bitset.
//   - A rule is evaluated only when a slot of its "necessary" set was
//     found (a set of leaves of which one must hold for the rule to
//     match: e.g. the values of one field of its main selection), and
//     then over the bitset, running only its general leaves (regular
//     expressions, wildcards, numbers, keywords, …) as predicates.
//
// A Set is safe for concurrent use through one Matcher per goroutine.
type Set struct {
	rules []*rule.Rule
	dets  []*detection

	mu     sync.Mutex
	byKey  map[groupKey]*arrangement
	bySig  map[string]*arrangement
	groups int
	// autos are the automata by pattern set (see gfieldOf); building
	// holds the groups being built.
	autos    map[string]*sharedAuto
	building map[groupKey]*buildCall
}

// Compiled reports whether r is a single-event Sigma rule a Set can hold.
func Compiled(r *rule.Rule) bool {
	_, ok := r.Detection.(*detection)
	return ok && r.Match != nil && r.Stateful == nil && r.NewState == nil
}

// NewSet builds the set of rules; every rule must be Compiled. The
// indices Match reports are indices into rules.
func NewSet(rules []*rule.Rule) *Set {
	s := &Set{rules: rules, byKey: map[groupKey]*arrangement{}, bySig: map[string]*arrangement{}, autos: map[string]*sharedAuto{}, building: map[groupKey]*buildCall{}}
	for _, r := range rules {
		s.dets = append(s.dets, r.Detection.(*detection))
	}
	return s
}

// Len is the number of rules in the set.
func (s *Set) Len() int { return len(s.rules) }

type groupKey struct {
	source, channel string
	id              int32
}

// arrangement is the set arranged for one kind of event.
type arrangement struct {
	id    int // among the set's arrangements, for memo keys
	rules []grule
	// keyGets read every field the rules' leaves read, when that is
	// all they read (memo is then true): the answer is a function of
	// these values, so a Matcher remembers it per distinct tuple.
	keyGets []reader
	memo    bool
	// rest are the rules of the same events that cannot be remembered.
	rest   *arrangement
	always []uint64 // rules (bit i: rules[i]) evaluated whatever the fields hold
	fields []gfield
	// slotRules[s] are the rules whose necessary set holds slot s.
	slotRules [][]int32
	nSlots    int
}

type grule struct {
	idx  int // in Set.rules
	src  int // logsource source index for the field renames
	root *gnode
}

// gnode is a detection node of one group: a literal leaf became slots.
type gnode struct {
	kind  nodeKind
	kids  []*gnode
	slots []int32 // literal leaf: its patterns; general leaf: its prefilter
	gen   pred
	konst int8 // folded leaves: 1 true, -1 false, 0 not constant
	// own, on a general leaf that reads one raw field and nothing else,
	// is that field: in flat mode gen is shown an event holding just it
	// (see Matcher.only) instead of the whole decoded dict.
	own string
	// own2 is the second raw field a fieldref leaf reads ("": none).
	own2 string
}

type gfield struct {
	get  reader // name "": keywords, every raw value and the message
	auto *automaton
	outs [][]patOut // per automaton pattern
	// hi holds the patterns with a byte >= 0x80 (windash's dashes, mostly),
	// looked for only in values that have one, with hiOuts: kept apart,
	// they doubled the byte classes of the largest automaton, and its
	// table, for values that are nearly all ASCII. Built on first use.
	hi     *sharedAuto
	hiOuts [][]patOut
	high   int32 // slot set when the value has a byte >= 0x80; -1: none
}

type patOut struct {
	op   byte
	slot int32
}

// Matcher is one goroutine's scratch for matching a Set.
type Matcher struct {
	set *Set
	// The event being matched: its raw fields, flat (flatMode), or a
	// copy of it with the dict decoded (decoded, built when needed).
	flat     []event.KV
	flatMode bool
	cur      *event.Event
	decoded  *event.Event
	one      event.Event // scratch of only
	// data is the event's Data values joined (see read), once joined:
	// several leaves of an arrangement read them.
	data     string
	joined   bool
	dataVals []string // scratch of joinData
	memo     *tuplememo.Memo[[]int]
	key      []byte
	groups   map[groupKey]*arrangement
	lastKey  groupKey
	last     *arrangement
	bits     []uint64
	setSlots []int32
	cand     []uint64
}

// NewMatcher returns scratch space for one goroutine.
func (s *Set) NewMatcher() *Matcher {
	return &Matcher{set: s, groups: map[groupKey]*arrangement{}, memo: tuplememo.New[[]int]()}
}

// Match appends to dst the indices (into the set's rules, ascending) of
// the rules that match ev, as rule.Evaluate would decide each. Raw fields
// left as text (Event.RawFields) are read without building the dict
// where they are a flat object of strings.
func (m *Matcher) Match(ev *event.Event, dst []int) []int {
	k := groupKey{ev.Source, ev.Channel, ev.EventID}
	g := m.last
	if g == nil || k != m.lastKey {
		g = m.groups[k]
		if g == nil {
			g = m.set.group(k)
			m.groups[k] = g
		}
		m.last, m.lastKey = g, k
	}
	if len(g.rules) == 0 && g.rest == nil {
		// No rule of the set can take such events: their raw fields
		// need not be read at all.
		m.cur, m.decoded, m.flatMode = nil, nil, false
		return dst
	}
	// The group key is typed columns only, which loading leaves as they are.
	ev = m.load(ev)
	if g.rest == nil {
		return m.remembered(g, ev, dst)
	}
	n := len(dst)
	dst = m.remembered(g, ev, dst)
	dst = m.match(g.rest, ev, dst)
	slices.Sort(dst[n:])
	return dst
}

// remembered is match, answered from memory for value tuples seen.
func (m *Matcher) remembered(g *arrangement, ev *event.Event, dst []int) []int {
	if len(g.rules) == 0 {
		return dst
	}
	if !g.memo {
		return m.match(g, ev, dst)
	}
	key := binary.AppendUvarint(m.key[:0], uint64(g.id))
	for _, r := range g.keyGets {
		v, ok := m.read(r, ev)
		if !ok {
			key = append(key, 0)
			continue
		}
		key = append(binary.AppendUvarint(append(key, 1), uint64(len(v))), v...)
		if len(key) > tuplememo.MaxKey {
			break // not remembered
		}
	}
	m.key = key
	if ans, ok := m.memo.Get(key); ok {
		return append(dst, ans...)
	}
	n := len(dst)
	dst = m.match(g, ev, dst)
	m.memo.Put(key, slices.Clone(dst[n:]))
	return dst
}

// Real logs repeat their values (service command lines, scheduled
// scripts): answers are remembered per distinct tuple of the values an
// arrangement reads, within tuplememo's bounds.

// Hits is how many events the Matcher answered from memory.
func (m *Matcher) Hits() int64 { return m.memo.Hits() }

// match evaluates the arrangement's rules on ev.
func (m *Matcher) match(g *arrangement, ev *event.Event, dst []int) []int {
	if need := (g.nSlots + 63) / 64; len(m.bits) < need {
		m.bits = make([]uint64, need)
	}
	for _, s := range m.setSlots {
		m.bits[s>>6] = 0
	}
	m.setSlots = m.setSlots[:0]
	m.cand = append(m.cand[:0], g.always...)
	for fi := range g.fields {
		f := &g.fields[fi]
		if f.get.name == "" {
			// Keywords: a pattern found in any one value sets its slot.
			m.eachValue(ev, func(v string) bool {
				m.scan(g, f, v)
				return false
			})
			continue
		}
		v, ok := m.read(f.get, ev)
		if !ok || v == "" {
			continue
		}
		m.scan(g, f, v)
	}
	for w, word := range m.cand {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &= word - 1
			r := &g.rules[w*64+b]
			if m.eval(r.root, ev, r.src) {
				dst = append(dst, r.idx)
			}
		}
	}
	return dst
}

// scan runs f's automaton over v, ASCII letters folded, and sets the
// slots of the patterns found.
func (m *Matcher) scan(g *arrangement, f *gfield, v string) {
	var high byte
	switch {
	case f.auto.skip == nil || f.auto.skip.maybe(v):
		high = m.scanWith(g, f.auto, f.outs, v)
	case f.hi != nil || f.high >= 0:
		if !asciifold.IsASCII(v) { // no ASCII pattern in v; a non-ASCII one may be
			high = 0x80
		}
	}
	if high >= 0x80 {
		if f.hi != nil {
			m.scanWith(g, f.hi.get(), f.hiOuts, v)
		}
		if f.high >= 0 {
			m.setSlot(g, f.high)
		}
	}
}

// scanWith runs a over v and sets the slots outs gives the patterns
// found; it returns the bytes of v or-ed together.
func (m *Matcher) scanWith(g *arrangement, a *automaton, outs [][]patOut, v string) (high byte) {
	n := len(v)
	e := int32(0)
	for i := 0; i < n; i++ {
		high |= v[i]
		e = a.step(e, a.class[asciifold.Lower(v[i])])
		if e&1 == 0 {
			continue // no pattern ends here
		}
		for t := a.term[a.state(e)]; t >= 0; t = a.next[t] {
			for _, p := range a.own[a.ownStart[t]:a.ownStart[t+1]] {
				l := int(a.plen[p])
				for _, o := range outs[p] {
					switch o.op {
					case opEq:
						if l != n {
							continue
						}
					case opPrefix:
						if i+1 != l {
							continue
						}
					case opSuffix:
						if i+1 != n {
							continue
						}
					}
					m.setSlot(g, o.slot)
				}
			}
		}
	}
	return high
}

func (m *Matcher) setSlot(g *arrangement, s int32) {
	w, b := s>>6, uint64(1)<<(s&63)
	if m.bits[w]&b != 0 {
		return
	}
	m.bits[w] |= b
	m.setSlots = append(m.setSlots, s)
	for _, r := range g.slotRules[s] {
		m.cand[r>>6] |= 1 << (r & 63)
	}
}

func (m *Matcher) eval(n *gnode, ev *event.Event, src int) bool {
	switch n.kind {
	case nAnd:
		for _, k := range n.kids {
			if !m.eval(k, ev, src) {
				return false
			}
		}
		return true
	case nOr:
		for _, k := range n.kids {
			if m.eval(k, ev, src) {
				return true
			}
		}
		return false
	case nNot:
		return !m.eval(n.kids[0], ev, src)
	}
	if n.konst != 0 {
		return n.konst > 0
	}
	if n.slots != nil {
		hit := false
		for _, s := range n.slots {
			if m.bits[s>>6]&(1<<(s&63)) != 0 {
				hit = true
				break
			}
		}
		if !hit || n.gen == nil {
			return hit // a general leaf whose prefilter fails is false
		}
	}
	if n.own != "" && m.flatMode && m.cur == ev {
		return n.gen(m.only(ev, n.own, n.own2), src)
	}
	return n.gen(m.Decoded(ev), src)
}

// cost orders the tests of an and/or: constants, bitset lookups,
// prefiltered predicates, subtrees, plain predicates.
func (n *gnode) cost() int {
	switch {
	case n.kind != nLeaf:
		return 3
	case n.konst != 0:
		return 0
	case n.gen == nil:
		return 1
	case n.slots != nil:
		return 2
	}
	return 4
}

// Stats describes a set after use: the event kinds seen and the distinct
// arrangements built for them.
func (s *Set) Stats() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	size := 0
	for _, sa := range s.autos {
		if a := sa.built.Load(); a != nil {
			size += a.size()
		}
	}
	return strconv.Itoa(len(s.byKey)) + " event kinds, " + strconv.Itoa(s.groups) + " arrangements, automata " + strconv.Itoa(size>>10) + " KiB"
}
