package sigma

import (
	"encoding/binary"
	"maps"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
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
	autos  map[string]*automaton
	groups int
}

// Compiled reports whether r is a single-event Sigma rule a Set can hold.
func Compiled(r *rule.Rule) bool {
	_, ok := r.Detection.(*detection)
	return ok && r.Match != nil && r.Stateful == nil && r.NewState == nil
}

// NewSet builds the set of rules; every rule must be Compiled. The
// indices Match reports are indices into rules.
func NewSet(rules []*rule.Rule) *Set {
	s := &Set{rules: rules, byKey: map[groupKey]*arrangement{}, bySig: map[string]*arrangement{}, autos: map[string]*automaton{}}
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
}

type gfield struct {
	get  reader // name "": keywords, every raw value and the message
	auto *automaton
	outs [][]patOut // per automaton pattern
	high int32      // slot set when the value has a byte >= 0x80; -1: none
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
	memo     map[string][]int
	key      []byte
	hits     int64
	groups   map[groupKey]*arrangement
	lastKey  groupKey
	last     *arrangement
	bits     []uint64
	setSlots []int32
	cand     []uint64
	buf      []byte
}

// NewMatcher returns scratch space for one goroutine.
func (s *Set) NewMatcher() *Matcher {
	return &Matcher{set: s, groups: map[groupKey]*arrangement{}, memo: map[string][]int{}}
}

// Match appends to dst the indices (into the set's rules, ascending) of
// the rules that match ev, as rule.Evaluate would decide each. Raw fields
// left as text (Event.RawFields) are read without building the dict
// where they are a flat object of strings.
func (m *Matcher) Match(ev *event.Event, dst []int) []int {
	ev = m.load(ev)
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
		if len(key) > memoMaxKey {
			break
		}
	}
	m.key = key
	if len(key) > memoMaxKey {
		return m.match(g, ev, dst)
	}
	if ans, ok := m.memo[string(key)]; ok {
		m.hits++
		return append(dst, ans...)
	}
	n := len(dst)
	dst = m.match(g, ev, dst)
	if len(m.memo) >= memoCap {
		clear(m.memo)
	}
	m.memo[string(key)] = slices.Clone(dst[n:])
	return dst
}

// Real logs repeat their values (service command lines, scheduled
// scripts): answers are remembered per distinct tuple of the values an
// arrangement reads, up to memoCap tuples per Matcher (then it starts
// afresh: a bound on memory, not on correctness) of at most memoMaxKey
// bytes (longer ones rarely repeat).
const (
	memoCap    = 1 << 16
	memoMaxKey = 512
)

// Hits is how many events the Matcher answered from memory.
func (m *Matcher) Hits() int64 { return m.hits }

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
	a := f.auto
	nc := int32(a.nclass)
	n := len(v)
	s := int32(0)
	var high byte
	for i := 0; i < n; i++ {
		high |= v[i]
		s = a.delta[s*nc+int32(a.class[lowerByte(v[i])])]
		for t := a.term[s]; t >= 0; t = a.next[t] {
			for _, p := range a.own[a.ownStart[t]:a.ownStart[t+1]] {
				l := int(a.plen[p])
				for _, o := range f.outs[p] {
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
	if high >= 0x80 && f.high >= 0 {
		m.setSlot(g, f.high)
	}
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

// group returns the shared group for k, building it on first use.
func (s *Set) group(k groupKey) *arrangement {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.byKey[k]; g != nil {
		return g
	}
	g := s.build(k)
	s.byKey[k] = g
	return g
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
	if g := s.bySig[string(sig)]; g != nil {
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
	g := s.buildPart(probe, plain)
	if len(opaque) > 0 {
		g.rest = s.buildPart(probe, opaque)
	}
	s.bySig[string(sig)] = g
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
	return n.opaque || n.rawName(src) == ""
}

// buildPart arranges rules for the events of probe's key.
func (s *Set) buildPart(probe *event.Event, rules []pending) *arrangement {
	b := &builder{probe: probe, reads: map[string]bool{}, slotOf: map[slotKey]int32{}, fieldOf: map[string]int{}}
	g := &arrangement{id: s.groups}
	s.groups++
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
		get := readerOf(f.name)
		// Arrangements often share a field's patterns (the event ids of
		// one channel): one automaton serves them all.
		key := strings.Join(f.pats, "\x00")
		auto := s.autos[key]
		if auto == nil {
			auto = newAutomaton(f.pats)
			s.autos[key] = auto
		}
		g.fields = append(g.fields, gfield{get: get, auto: auto, outs: f.outs, high: f.high})
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
		lv[i] = lowerByte(v[i])
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
	if n.opaque || n.rawName(src) == "" {
		b.opaque = true // keywords read every value
	} else if n.lits == nil || !constField(n.rawName(src)) {
		b.reads[n.rawName(src)] = true
	}
	if n.lits == nil {
		g.gen = n.gen
		if n.pre != nil {
			name := n.rawName(src)
			for _, p := range n.pre {
				op := byte(opContains)
				if p == nonASCII {
					op = opNonASCII
				}
				g.slots = append(g.slots, b.slot(name, litPat{op, p}))
			}
		}
		return g
	}
	name := n.rawName(src)
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

// Stats describes a set after use: the event kinds seen and the distinct
// arrangements built for them.
func (s *Set) Stats() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	size := 0
	for _, a := range s.autos {
		size += a.size()
	}
	return strconv.Itoa(len(s.byKey)) + " event kinds, " + strconv.Itoa(s.groups) + " arrangements, automata " + strconv.Itoa(size>>10) + " KiB"
}

// load prepares ev for matching and returns the event to read.
func (m *Matcher) load(ev *event.Event) *event.Event {
	m.cur, m.decoded, m.flatMode = ev, nil, false
	if ev.Fields != nil || ev.RawFields == "" {
		return ev
	}
	m.flat, m.flatMode = event.ParseFlatFields(ev.RawFields, m.flat[:0])
	if m.flatMode {
		return ev
	}
	// Not a flat object: decoded as the store would have.
	return m.Decoded(ev)
}

// Decoded returns the event last given to Match with its raw fields
// decoded into Event.Fields (ev itself when they are), as the rules'
// own predicates and summaries read them.
func (m *Matcher) Decoded(ev *event.Event) *event.Event {
	if ev.Fields != nil || ev.RawFields == "" {
		return ev
	}
	if m.decoded == nil || m.cur != ev {
		c := *ev
		c.Fields, _ = event.UnmarshalFieldsString(ev.RawFields)
		m.cur, m.decoded = ev, &c
	}
	return m.decoded
}

// reader reads one raw field name, from the dict or the flat fields.
type reader struct {
	name string
	get  getter
	kind byte // 't' typed column, 'p' Provider_Name, 'd' Data, 'r' raw field
}

func readerOf(name string) reader {
	r := reader{name: name, get: fieldGetter(name), kind: 'r'}
	switch {
	case name == "Provider_Name":
		r.kind = 'p'
	case typedGetter(name) != nil:
		r.kind = 't'
	case name == "Data":
		r.kind = 'd'
	}
	return r
}

// read is r's getter on ev, answered from the flat fields in flat mode
// exactly as fieldGetter answers from the dict.
func (m *Matcher) read(r reader, ev *event.Event) (string, bool) {
	if !m.flatMode || r.kind == 't' {
		return r.get(ev)
	}
	switch r.kind {
	case 'p':
		if ev.Provider != "" {
			return ev.Provider, true
		}
	case 'd':
		first, ok := m.flatGet("Data")
		if !ok {
			return "", false
		}
		if _, more := m.flatGet("Data_2"); !more {
			return first, true
		}
		var b strings.Builder
		b.WriteString(first)
		for i := 2; ; i++ {
			v, ok := m.flatGet("Data_" + strconv.Itoa(i))
			if !ok {
				break
			}
			b.WriteByte('\n')
			b.WriteString(v)
		}
		return b.String(), true
	}
	return m.flatGet(r.name)
}

func (m *Matcher) flatGet(name string) (string, bool) {
	for _, kv := range m.flat {
		if kv.Key == name {
			return kv.Value, true
		}
	}
	return "", false
}

// eachValue is the package's eachValue, on the flat fields in flat mode.
func (m *Matcher) eachValue(ev *event.Event, f func(string) bool) bool {
	if !m.flatMode {
		return eachValue(ev, f)
	}
	if ev.Message != "" && f(ev.Message) {
		return true
	}
	for _, kv := range m.flat {
		if f(kv.Value) {
			return true
		}
	}
	return false
}

// Summary renders rule k's finding summary for the event last given to
// Match, as the rule's own Summary does, reading the raw fields the way
// Match did (without building the dict).
func (m *Matcher) Summary(k int, ev *event.Event) string {
	if m.cur != ev || !m.flatMode {
		return m.set.rules[k].Summary(m.Decoded(ev))
	}
	d := m.set.dets[k]
	src := d.srcOf(ev)
	var b strings.Builder
	b.WriteString(d.title)
	n := 0
	for _, key := range d.sumKeys {
		v, ok := m.read(readerOf(key.rawName(src)), ev)
		if !ok || v == "" {
			continue
		}
		if len(v) > 200 {
			v = v[:200] + "…"
		}
		if n == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(key.name)
		b.WriteByte('=')
		b.WriteString(v)
		n++
		if n == 4 {
			break
		}
	}
	return b.String()
}
