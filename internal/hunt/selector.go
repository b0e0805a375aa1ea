package hunt

import (
	"slices"

	"github.com/spoor-dfir/spoor/analyzers"
	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/triage"
)

// selector decides, per stored row, what the hunt decodes of it: the
// union of what the rules whose pre-filter passes and the analyzers that
// ask for such events read. The answer depends only on source, event id,
// channel (and, for rules whose condition demands it, whether some text
// columns are empty), so it is worked out once per distinct key and kept.
type selector struct {
	rules []ruleNeed
	ans   []anNeed

	bySrcCh         map[[2]string]map[int32]*selEntry
	lastSrc, lastCh string // the key of cur
	cur             map[int32]*selEntry

	rows  int64 // rows asked about
	words int   // mask words per row (maskWords)
	amask mask  // who is shown the row last selected
}

// mask says who is shown a row: bit rulesBit the rules (some rule's
// pre-filter, and non-empty requirement, lets the row through; rows
// without it are not shown to the rules at all), bit analyzerBit(i)
// analyzer i. It has maskWords words, as many as the analyzers need.
type mask []uint64

const rulesBit = 0

// analyzerBit is analyzer i's bit in a mask.
func analyzerBit(i int) int { return i + 1 }

// maskWords is the mask length for n analyzers and the rules.
func maskWords(n int) int { return (n + 1 + 63) / 64 }

func (m mask) has(bit int) bool { return m[bit>>6]&(1<<(bit&63)) != 0 }
func (m mask) set(bit int)      { m[bit>>6] |= 1 << (bit & 63) }

type ruleNeed struct {
	r        *rule.Rule
	want     store.Want
	requires [][]store.Column
	guards   []colGuard // the rule's Guards; nil: none
}

// colGuard is a rule.Guard with its columns looked up.
type colGuard struct {
	ids      []int32
	requires [][]store.Column
}

// storeColumns looks up column names; nil when one is not a store
// column (such a group requires nothing the selector can check).
func storeColumns(names []string) []store.Column {
	var cols []store.Column
	for _, name := range names {
		c, ok := store.ColumnByName(name)
		if !ok {
			return nil
		}
		cols = append(cols, c)
	}
	return cols
}

// keyRequires is what a guarded rule requires of rows with event id id:
// ok false when no guard takes such rows; otherwise the groups of
// columns the guards that do take them all demand (one group, of each
// guard's first, when several do; none when one demands nothing).
func keyRequires(gs []colGuard, id int32) (req [][]store.Column, ok bool) {
	var app []*colGuard
	for i := range gs {
		if gs[i].ids == nil || slices.Contains(gs[i].ids, id) {
			app = append(app, &gs[i])
		}
	}
	switch {
	case len(app) == 0:
		return nil, false
	case len(app) == 1:
		return app[0].requires, true
	}
	var union []store.Column
	for _, g := range app {
		if len(g.requires) == 0 {
			return nil, true
		}
		union = append(union, g.requires[0]...)
	}
	return [][]store.Column{union}, true
}

type anNeed struct {
	wants akit.Wants // nil with all: every event, every column
	all   bool
	bit   int
}

type selEntry struct {
	base  store.Want
	amask mask       // analyzers wanting such rows; rulesBit if a rule does unconditionally
	conds []condWant // rules whose condition needs some column non-empty
}

type condWant struct {
	requires [][]store.Column
	want     store.Want
}

func colSet(names []string) store.ColSet {
	if len(names) == 1 && names[0] == "*" {
		return store.AllColumns
	}
	s, err := store.ColumnsOf(names)
	if err != nil {
		return store.AllColumns // a name we do not know: read everything
	}
	return s
}

// newSelector works out what rules and analyzers read; the rules of
// noDict (the compiled Sigma set's, which reads raw fields as stored
// text) do not need the fields decoded into a dict.
func newSelector(rules []*rule.Rule, ans []analyzers.Analyzer, noDict map[*rule.Rule]bool, shapes bool) *selector {
	s := &selector{bySrcCh: map[[2]string]map[int32]*selEntry{}, words: maskWords(len(ans))}
	s.amask = make(mask, s.words)
	// What any finding reads of its event and, when triage runs, what
	// its shape reads: decoded for every rule-wanted row, so a finding's
	// shape does not depend on which columns its own rule happened to read.
	fc := colSet(rule.FindingColumns)
	if shapes {
		fc |= colSet(triage.ShapeColumns)
	}
	for _, r := range rules {
		n := ruleNeed{r: r, want: store.Want{Cols: store.AllColumns, Dict: true}}
		if r.Columns != nil {
			n.want = store.Want{Cols: colSet(r.Columns) | fc, Dict: r.FieldDict && !noDict[r]}
		}
		for _, g := range r.Requires {
			if cols := storeColumns(g); cols != nil {
				n.requires = append(n.requires, cols)
			}
		}
		for _, g := range r.Guards {
			cg := colGuard{ids: g.EventIDs}
			for _, grp := range g.Requires {
				// A test on a column's text needs it to hold a value:
				// all the selector can check before decoding it.
				names := make([]string, len(grp))
				for i, n := range grp {
					names[i] = n.Column
				}
				if cols := storeColumns(names); cols != nil {
					cg.requires = append(cg.requires, cols)
				}
			}
			n.guards = append(n.guards, cg)
		}
		s.rules = append(s.rules, n)
	}
	for i, a := range ans {
		n := anNeed{bit: analyzerBit(i), all: true}
		if sa, ok := a.(analyzers.Selective); ok {
			n.wants, n.all = sa.Wants(), false
		}
		s.ans = append(s.ans, n)
	}
	return s
}

// addCond adds a conditional want, merged into one with the same
// requirements (the recon rules all demand a command line or script
// text: one check per row, not one per rule).
func (e *selEntry) addCond(req [][]store.Column, w store.Want) {
	for i := range e.conds {
		if slices.EqualFunc(e.conds[i].requires, req, slices.Equal[[]store.Column]) {
			e.conds[i].want = merge(e.conds[i].want, w)
			return
		}
	}
	e.conds = append(e.conds, condWant{req, w})
}

func merge(a, b store.Want) store.Want {
	return store.Want{Cols: a.Cols | b.Cols, Dict: a.Dict || b.Dict}
}

func (s *selector) entry(src, ch string, id int32) *selEntry {
	e := &selEntry{amask: make(mask, s.words)}
	for _, n := range s.rules {
		if !n.r.Filter.PassKey(src, id, ch) {
			continue
		}
		req := n.requires
		if n.guards != nil {
			greq, ok := keyRequires(n.guards, id)
			if !ok {
				continue
			}
			req = slices.Clip(req)
			for _, g := range greq {
				// A condition's top-level requirements are in each of its
				// guards too: checked once per row, not twice.
				if !slices.ContainsFunc(req, func(h []store.Column) bool { return slices.Equal(h, g) }) {
					req = append(req, g)
				}
			}
		}
		if len(req) > 0 {
			e.addCond(req, n.want)
			continue
		}
		e.base = merge(e.base, n.want)
		e.amask.set(rulesBit)
	}
	for _, n := range s.ans {
		if n.all {
			e.base = merge(e.base, store.Want{Cols: store.AllColumns, Dict: true})
			e.amask.set(n.bit)
			continue
		}
		cols := n.wants.Columns(src, id, ch)
		if cols == nil {
			continue
		}
		e.base = merge(e.base, store.Want{Cols: colSet(cols)})
		e.amask.set(n.bit)
	}
	// Once some rule takes the row unconditionally, conditional wants
	// matter only for what they add to the columns.
	if e.amask.has(rulesBit) {
		conds := e.conds[:0]
		for _, c := range e.conds {
			if c.want.Cols&^e.base.Cols != 0 || c.want.Dict && !e.base.Dict {
				conds = append(conds, c)
			}
		}
		e.conds = conds
	}
	return e
}

// Select implements the store's row selection.
func (s *selector) Select(k *store.RowKey) store.Want {
	s.rows++
	if k.Source != s.lastSrc || k.Channel != s.lastCh || s.cur == nil {
		key := [2]string{k.Source, k.Channel}
		m := s.bySrcCh[key]
		if m == nil {
			m = map[int32]*selEntry{}
			s.bySrcCh[key] = m
		}
		s.lastSrc, s.lastCh, s.cur = k.Source, k.Channel, m
	}
	e := s.cur[k.EventID]
	if e == nil {
		e = s.entry(k.Source, k.Channel, k.EventID)
		s.cur[k.EventID] = e
	}
	w := e.base
	copy(s.amask, e.amask)
	for _, c := range e.conds {
		if meets(k, c.requires) {
			w = merge(w, c.want)
			s.amask.set(rulesBit)
		}
	}
	return w
}

// meets reports whether each group has a non-empty column in the row.
func meets(k *store.RowKey, groups [][]store.Column) bool {
	for _, g := range groups {
		ok := false
		for _, c := range g {
			if !k.Empty(c) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
