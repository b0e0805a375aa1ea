package sigma

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/yamlx"
	"go.yaml.in/yaml/v3"
)

// Correlation types (Sigma correlation rules specification v2).
const (
	corrEventCount      = "event_count"
	corrValueCount      = "value_count"
	corrTemporal        = "temporal"
	corrTemporalOrdered = "temporal_ordered"
)

// maxRefs bounds the event references one correlation finding carries, so
// a burst of thousands of events does not make one huge finding.
const maxRefs = 100

// countCond is a correlation condition: a conjunction of bounds.
type countCond struct {
	gt, gte, lt, lte, eq *int
	field                string
}

func (c countCond) ok(n int) bool {
	return (c.gt == nil || n > *c.gt) && (c.gte == nil || n >= *c.gte) &&
		(c.lt == nil || n < *c.lt) && (c.lte == nil || n <= *c.lte) &&
		(c.eq == nil || n == *c.eq)
}

// upper reports whether the condition bounds the count from above (or
// fixes it); such conditions can only be decided when a window closes.
func (c countCond) upper() bool { return c.lt != nil || c.lte != nil || c.eq != nil }

func (c countCond) String() string {
	var parts []string
	add := func(op string, v *int) {
		if v != nil {
			parts = append(parts, op+" "+strconv.Itoa(*v))
		}
	}
	add(">", c.gt)
	add(">=", c.gte)
	add("<", c.lt)
	add("<=", c.lte)
	add("==", c.eq)
	return strings.Join(parts, " and ")
}

// corrSpec is a compiled correlation rule; newState makes independent
// state for one run.
type corrSpec struct {
	r        *rule.Rule
	typ      string
	span     time.Duration
	cond     countCond
	groupBy  []string
	refs     []corrRef
	refNames []string
}

// corrRef is one referenced rule: a single-event rule or a nested
// correlation (chaining), and how to read the group-by fields of the
// events it matched.
type corrRef struct {
	match  func(ev *event.Event) bool // single-event rule
	nested *corrSpec                  // or a correlation
	group  []func(ev *event.Event) (string, bool)
	value  func(ev *event.Event) (string, bool) // value_count field
}

func parseTimespan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("timespan %q: want a number and s, m, h, d or w", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("timespan %q: want a positive number and s, m, h, d or w", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("timespan %q: unknown unit (use s, m, h, d or w)", s)
	}
	return time.Duration(n) * unit, nil
}

func compileCorrelation(file string, n *yaml.Node, byRef map[string]*compiled) (*compiled, error) {
	r, name, err := meta(file, n, rule.KindCorrelation)
	if err != nil {
		return nil, err
	}
	cn := mapGet(n, "correlation")
	errf := func(at *yaml.Node, format string, args ...any) error {
		if at == nil {
			at = cn
		}
		return fmt.Errorf("rule %s: %w", r.ID, yamlx.Errorf(file, at, format, args...))
	}
	if cn.Kind != yaml.MappingNode {
		return nil, errf(cn, "correlation must be a mapping")
	}
	spec := &corrSpec{r: r, typ: scalar(cn, "type")}
	switch spec.typ {
	case corrEventCount, corrValueCount, corrTemporal, corrTemporalOrdered:
	case "":
		return nil, errf(cn, "correlation has no type")
	default:
		return nil, errf(mapGet(cn, "type"), "unsupported correlation type %q", spec.typ)
	}
	ts := mapGet(cn, "timespan")
	if ts == nil {
		ts = mapGet(cn, "timeframe") // the pre-2.0 drafts' name
	}
	if ts == nil {
		return nil, errf(cn, "correlation has no timespan")
	}
	if spec.span, err = parseTimespan(ts.Value); err != nil {
		return nil, errf(ts, "%v", err)
	}
	spec.groupBy = stringList(cn, "group-by")

	// Condition.
	if c := mapGet(cn, "condition"); c != nil {
		if c.Kind != yaml.MappingNode {
			return nil, errf(c, "condition must be a mapping like {gte: 10}")
		}
		for i := 0; i+1 < len(c.Content); i += 2 {
			k, v := c.Content[i], c.Content[i+1]
			if k.Value == "field" {
				spec.cond.field = v.Value
				continue
			}
			num, err := strconv.Atoi(v.Value)
			if err != nil {
				return nil, errf(v, "condition %s needs an integer, not %q", k.Value, v.Value)
			}
			p := &num
			switch k.Value {
			case "gt":
				spec.cond.gt = p
			case "gte":
				spec.cond.gte = p
			case "lt":
				spec.cond.lt = p
			case "lte":
				spec.cond.lte = p
			case "eq":
				spec.cond.eq = p
			default:
				return nil, errf(k, "unknown condition %q (use gt, gte, lt, lte, eq)", k.Value)
			}
		}
	}
	refsNode := mapGet(cn, "rules")
	spec.refNames = stringList(cn, "rules")
	if len(spec.refNames) == 0 {
		return nil, errf(cn, "correlation refers to no rules")
	}
	hasBound := spec.cond.gt != nil || spec.cond.gte != nil || spec.cond.lt != nil || spec.cond.lte != nil || spec.cond.eq != nil
	switch spec.typ {
	case corrEventCount, corrValueCount:
		if !hasBound {
			return nil, errf(cn, "%s needs a condition such as {gte: 10}", spec.typ)
		}
		if spec.typ == corrValueCount && spec.cond.field == "" {
			return nil, errf(cn, "value_count needs condition.field")
		}
	case corrTemporal, corrTemporalOrdered:
		if !hasBound {
			all := len(spec.refNames)
			spec.cond.gte = &all
		}
	}

	aliases := map[string]map[string]string{}
	if an := mapGet(cn, "aliases"); an != nil && an.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(an.Content); i += 2 {
			m := map[string]string{}
			per := an.Content[i+1]
			for j := 0; j+1 < len(per.Content); j += 2 {
				m[per.Content[j].Value] = per.Content[j+1].Value
			}
			aliases[an.Content[i].Value] = m
		}
	}

	// Sigma v2: referenced rules report on their own only with
	// generate: true.
	generate := strings.EqualFold(scalar(cn, "generate"), "true")
	f := rule.Filter{}
	first := true
	for i, refName := range spec.refNames {
		c, ok := byRef[refName]
		if !ok {
			at := refsNode
			if refsNode != nil && refsNode.Kind == yaml.SequenceNode && i < len(refsNode.Content) {
				at = refsNode.Content[i]
			}
			return nil, errf(at, "correlation refers to unknown rule %q (not in this batch, or it failed to load)", refName)
		}
		if !generate {
			c.r.NoFindings = true
		}
		ref := corrRef{}
		fieldOf := func(name string) func(ev *event.Event) (string, bool) {
			if m, ok := aliases[name]; ok {
				if actual, ok := m[c.name]; ok {
					name = actual
				} else if actual, ok := m[c.r.ID]; ok {
					name = actual
				}
			}
			if c.comp != nil {
				g := c.comp.field(name)
				return func(ev *event.Event) (string, bool) { return g(ev, c.srcOf(ev)) }
			}
			return fieldGetter(name)
		}
		if cs, ok := c.r.Stateful.(*corrState); ok {
			ref.nested = cs.spec
		} else {
			ref.match = c.match
		}
		for _, g := range spec.groupBy {
			ref.group = append(ref.group, fieldOf(g))
		}
		if spec.typ == corrValueCount {
			ref.value = fieldOf(spec.cond.field)
		}
		spec.refs = append(spec.refs, ref)
		f = unionFilter(f, c.r.Filter, first)
		first = false
	}
	r.Filter = f
	r.Columns = append(append([]string(nil), baseColumns...), "operator", "subject_user", "user")
	r.FieldDict = true
	r.NewState = func() rule.Stateful { return spec.newState() }
	r.Stateful = spec.newState()
	r.Summary = func(ev *event.Event) string { return r.Title }
	return &compiled{r: r, name: name}, nil
}

// unionFilter widens a filter so it passes what either passes; an empty
// list means "any", so it absorbs.
func unionFilter(a, b rule.Filter, first bool) rule.Filter {
	if first {
		return b
	}
	u := rule.Filter{}
	if len(a.Sources) > 0 && len(b.Sources) > 0 {
		u.Sources = unionStrings(a.Sources, b.Sources)
	}
	if len(a.Channels) > 0 && len(b.Channels) > 0 {
		u.Channels = unionStrings(a.Channels, b.Channels)
	}
	if len(a.EventIDs) > 0 && len(b.EventIDs) > 0 {
		seen := map[int32]bool{}
		for _, id := range append(append([]int32(nil), a.EventIDs...), b.EventIDs...) {
			if !seen[id] {
				seen[id] = true
				u.EventIDs = append(u.EventIDs, id)
			}
		}
	}
	return u
}

func unionStrings(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[strings.ToLower(s)] {
			seen[strings.ToLower(s)] = true
			out = append(out, s)
		}
	}
	return out
}

// hit is one event counted by a correlation.
type hit struct {
	t     time.Time
	ref   int // which referenced rule
	value string
	ev    event.Ref
	host  string
	user  string
}

// group is the window of one group-by key.
type group struct {
	key   string
	vals  []string
	hits  []hit
	start time.Time // tumbling windows (conditions with an upper bound)
}

// corrState is the running state of one correlation rule in one run.
type corrState struct {
	spec   *corrSpec
	nested []*corrState // per ref, for chained correlations
	groups map[string]*group
	order  []string // group keys in first-seen order, for deterministic Flush
}

func (s *corrSpec) newState() *corrState {
	st := &corrState{spec: s, groups: map[string]*group{}, nested: make([]*corrState, len(s.refs))}
	for i, ref := range s.refs {
		if ref.nested != nil {
			st.nested[i] = ref.nested.newState()
		}
	}
	return st
}

// Observe implements rule.Stateful.
func (st *corrState) Observe(ev *event.Event, emit func(event.Finding)) {
	st.observe(ev, emit)
}

// observe feeds one event and reports whether the correlation fired on it
// (what an enclosing correlation counts).
func (st *corrState) observe(ev *event.Event, emit func(event.Finding)) bool {
	s := st.spec
	fired := false
	for i, ref := range s.refs {
		var matched bool
		if ref.nested != nil {
			matched = st.nested[i].observe(ev, func(event.Finding) {})
		} else {
			matched = ref.match(ev)
		}
		if !matched {
			continue
		}
		vals := make([]string, len(ref.group))
		missing := false
		for j, g := range ref.group {
			v, ok := g(ev)
			if !ok {
				missing = true
			}
			vals[j] = v
		}
		if missing {
			// An event without the group-by fields cannot be placed
			// in a group; counting it under "" would merge unrelated
			// events.
			continue
		}
		h := hit{t: ev.Time, ref: i, ev: event.RefOf(ev), host: ev.Host, user: userOf(ev)}
		if ref.value != nil {
			v, ok := ref.value(ev)
			if !ok {
				continue
			}
			h.value = v
		}
		key := strings.Join(vals, "\x00")
		g := st.groups[key]
		if g == nil {
			g = &group{key: key, vals: vals}
			st.groups[key] = g
			st.order = append(st.order, key)
		}
		if st.add(g, h, emit) {
			fired = true
		}
	}
	return fired
}

// add puts a hit into its group's window and decides.
func (st *corrState) add(g *group, h hit, emit func(event.Finding)) bool {
	s := st.spec
	if s.cond.upper() {
		// Tumbling window from the group's first hit: the count is only
		// known when the window closes.
		fired := false
		if len(g.hits) > 0 && h.t.Sub(g.start) > s.span {
			fired = st.decide(g, emit)
			g.hits = g.hits[:0]
		}
		if len(g.hits) == 0 {
			g.start = h.t
		}
		g.hits = append(g.hits, h)
		return fired
	}
	// Sliding window: drop hits older than span before this one.
	cut := 0
	for cut < len(g.hits) && h.t.Sub(g.hits[cut].t) > s.span {
		cut++
	}
	g.hits = append(g.hits[:0], g.hits[cut:]...)
	g.hits = append(g.hits, h)
	if s.typ == corrTemporalOrdered && h.ref != len(s.refs)-1 {
		return false
	}
	if st.decide(g, emit) {
		g.hits = g.hits[:0]
		return true
	}
	return false
}

// measure is the number the condition is about for a window.
func (st *corrState) measure(hits []hit) int {
	s := st.spec
	switch s.typ {
	case corrEventCount:
		return len(hits)
	case corrValueCount:
		seen := map[string]bool{}
		for _, h := range hits {
			seen[h.value] = true
		}
		return len(seen)
	case corrTemporal:
		seen := map[int]bool{}
		for _, h := range hits {
			seen[h.ref] = true
		}
		return len(seen)
	case corrTemporalOrdered:
		return orderedLen(hits, len(s.refs))
	}
	return 0
}

// orderedLen is how many of the referenced rules, in order, the hits
// show as a chain ending at the last hit of the last rule: walking back,
// each earlier rule needs a hit no later than the next one's.
func orderedLen(hits []hit, nrefs int) int {
	bound := -1 // index into hits, walking backwards
	for i := len(hits) - 1; i >= 0; i-- {
		if hits[i].ref == nrefs-1 {
			bound = i
			break
		}
	}
	if bound < 0 {
		return 0
	}
	n := 1
	pos := bound
	for want := nrefs - 2; want >= 0; want-- {
		found := -1
		for i := pos - 1; i >= 0; i-- {
			if hits[i].ref == want {
				found = i
				break
			}
		}
		if found < 0 {
			return n
		}
		pos = found
		n++
	}
	return n
}

func (st *corrState) decide(g *group, emit func(event.Finding)) bool {
	n := st.measure(g.hits)
	if !st.spec.cond.ok(n) {
		return false
	}
	emit(st.finding(g, n))
	return true
}

// Flush implements rule.Stateful: tumbling windows still open are
// decided now.
func (st *corrState) Flush(emit func(event.Finding)) {
	for _, n := range st.nested {
		if n != nil {
			n.Flush(func(event.Finding) {})
		}
	}
	if !st.spec.cond.upper() {
		return
	}
	for _, k := range st.order {
		g := st.groups[k]
		if len(g.hits) > 0 {
			st.decide(g, emit)
			g.hits = g.hits[:0]
		}
	}
}

func (st *corrState) finding(g *group, n int) event.Finding {
	s := st.spec
	hits := g.hits
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].t.Before(hits[j].t) })
	first, last := hits[0], hits[len(hits)-1]
	var groupDesc []string
	for i, name := range s.groupBy {
		groupDesc = append(groupDesc, name+"="+g.vals[i])
	}
	what := map[string]string{
		corrEventCount:      "events",
		corrValueCount:      "distinct " + s.cond.field + " values",
		corrTemporal:        "of the correlated rules",
		corrTemporalOrdered: "of the correlated rules in order",
	}[s.typ]
	summary := fmt.Sprintf("%s: %d %s within %s", s.r.Title, n, what, s.span)
	if len(groupDesc) > 0 {
		summary += " (" + strings.Join(groupDesc, ", ") + ")"
	}
	reason := fmt.Sprintf("%s %d %s (window %s, rules %s)", s.typ, n, s.cond, s.span, strings.Join(s.refNames, ", "))
	d := ordereddict.NewDict()
	d.Set("type", s.typ)
	d.Set("count", n)
	d.Set("timespan", s.span.String())
	d.Set("events", len(hits))
	for i, name := range s.groupBy {
		d.Set("group."+name, g.vals[i])
	}
	f := event.Finding{
		Time:     first.t,
		End:      last.t,
		RuleID:   s.r.ID,
		Title:    s.r.Title,
		Severity: s.r.Severity,
		Tags:     s.r.Tags,
		Host:     last.host,
		User:     last.user,
		Summary:  summary,
		Reason:   reason,
		Analyzer: "rule",
		Details:  d,
	}
	for i, h := range hits {
		if i == maxRefs {
			break
		}
		f.Refs = append(f.Refs, h.ev)
	}
	sum := sha256.Sum256([]byte(s.r.ID + "\x00" + g.key + "\x00" + first.t.UTC().Format(time.RFC3339Nano) + "\x00" + first.ev.Evidence + "\x00" + strconv.FormatInt(first.ev.Offset, 10)))
	f.ID = hex.EncodeToString(sum[:8])
	return f
}

// userOf picks the identity a correlation finding is about: the target
// user, else the acting user, else the RMM operator.
func userOf(ev *event.Event) string {
	switch {
	case ev.User != "":
		return ev.User
	case ev.SubjectUser != "":
		return ev.SubjectUser
	}
	return ev.Operator
}
