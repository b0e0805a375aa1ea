package rule

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
	"go.yaml.in/yaml/v3"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// maxRefs bounds the events a burst finding points to; the count is kept
// in Details. A 3,000-attempt brute force needs its first events and a
// number, not 3,000 references.
const maxRefs = 100

// maxShownValues bounds the distinct values listed in a summary.
const maxShownValues = 10

// threshold is a compiled threshold spec: count (or distinct count) of
// matching events per group within a sliding window.
type threshold struct {
	rule     *Rule
	count    int
	window   time.Duration
	distinct *Program // nil: count events
	distSrc  string
	groupBy  []*Program
	groupSrc []string
	output   *Template
}

func compileThreshold(cfg *caseconf.Config, def *ruleDef, r *Rule, out *Template) (*threshold, []error) {
	d := def.doc.Threshold
	src := def.src
	tn := mapValue(def.node, "threshold")
	w, _ := time.ParseDuration(d.Window) // validated in parseDef
	th := &threshold{rule: r, count: d.Count, window: w, output: out, groupSrc: d.GroupBy, distSrc: d.Distinct}
	var errs []error
	comp := func(key string, vn *yaml.Node, s string) *Program {
		p, err := CompileValue(cfg, s)
		if err != nil {
			var ee *ExprError
			if errors.As(err, &ee) {
				line, col := src.posIn(vn, ee.Offset)
				errs = append(errs, src.errAt(line, col, "threshold.%s: %s", key, ee.Msg))
			} else {
				errs = append(errs, src.errf(vn, "threshold.%s: %v", key, err))
			}
		}
		return p
	}
	if d.Distinct != "" {
		th.distinct = comp("distinct", mapValue(tn, "distinct"), d.Distinct)
	}
	if gn := mapValue(tn, "group_by"); gn != nil {
		for i, g := range d.GroupBy {
			th.groupBy = append(th.groupBy, comp("group_by", item(gn, i), g))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return th, nil
}

// readsAll reports whether a group-by or distinct expression may read
// any column ($env).
func (th *threshold) readsAll() bool {
	if th.distinct != nil && th.distinct.ReadsAll() {
		return true
	}
	for _, g := range th.groupBy {
		if g.ReadsAll() {
			return true
		}
	}
	return false
}

func (th *threshold) columns() []string {
	var out []string
	if th.distinct != nil {
		out = append(out, th.distinct.Columns()...)
	}
	for _, g := range th.groupBy {
		out = append(out, g.Columns()...)
	}
	return out
}

func (th *threshold) newState() Stateful {
	return &thresholdState{th: th, groups: map[string]*group{}}
}

// thresholdState runs one threshold rule over events in time order. Per
// group it keeps the matching events of the last window; when they reach
// the threshold a burst opens, and every later event within one window of
// the burst's last event joins it, so one attack yields one finding.
type thresholdState struct {
	th     *threshold
	groups map[string]*group
	kbuf   []byte // the group key being looked up
}

type entry struct {
	ev  *event.Event
	val string
}

type group struct {
	key      string
	win      []entry
	distinct map[string]int
	burst    *burst
}

type burst struct {
	first  *event.Event
	start  time.Time
	last   time.Time
	refs   []event.Ref
	hits   int
	values map[string]bool
	order  []string
}

// Observe takes one matching event, in time order.
func (s *thresholdState) Observe(ev *event.Event, emit func(event.Finding)) {
	th := s.th
	// The key is built in the state's buffer and looked up without
	// becoming a string: a brute force sends every attempt through here,
	// into a few groups.
	s.kbuf = th.appendKey(s.kbuf[:0], ev)
	g := s.groups[string(s.kbuf)]
	if g == nil {
		key := string(s.kbuf)
		g = &group{key: key, distinct: map[string]int{}}
		s.groups[key] = g
	}
	val := ""
	if th.distinct != nil {
		val = valueString(th.distinct, ev)
	}
	if b := g.burst; b != nil {
		if ev.Time.Sub(b.last) <= th.window {
			b.add(ev, val)
			return
		}
		emit(th.finding(g.key, b))
		g.burst = nil
	}
	g.win = append(g.win, entry{ev: ev, val: val}) // Observe may keep ev
	if th.distinct != nil {
		g.distinct[val]++
	}
	// Evict what fell out of the window.
	drop := 0
	for drop < len(g.win) && ev.Time.Sub(g.win[drop].ev.Time) > th.window {
		if th.distinct != nil {
			v := g.win[drop].val
			if g.distinct[v]--; g.distinct[v] <= 0 {
				delete(g.distinct, v)
			}
		}
		drop++
	}
	if drop > 0 {
		g.win = append(g.win[:0], g.win[drop:]...)
	}
	n := len(g.win)
	if th.distinct != nil {
		n = len(g.distinct)
	}
	if n >= th.count {
		b := &burst{first: g.win[0].ev, start: g.win[0].ev.Time, values: map[string]bool{}}
		for _, e := range g.win {
			b.add(e.ev, e.val)
		}
		g.burst = b
		g.win = g.win[:0]
		clear(g.distinct)
	}
}

func (b *burst) add(ev *event.Event, val string) {
	b.hits++
	b.last = ev.Time
	if len(b.refs) < maxRefs {
		b.refs = append(b.refs, event.RefOf(ev))
	}
	if val != "" && !b.values[val] {
		b.values[val] = true
		b.order = append(b.order, val)
	}
}

// Flush emits the bursts still open, in group-key order.
func (s *thresholdState) Flush(emit func(event.Finding)) {
	keys := make([]string, 0, len(s.groups))
	for k, g := range s.groups {
		if g.burst != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := s.groups[k]
		emit(s.th.finding(k, g.burst))
		g.burst = nil
	}
}

// appendKey appends ev's group key to b: the group-by values joined by
// U+001F ("" without group-by).
func (th *threshold) appendKey(b []byte, ev *event.Event) []byte {
	for i, g := range th.groupBy {
		if i > 0 {
			b = append(b, 0x1f)
		}
		if g.fastCol != nil {
			b = g.appendFast(b, ev)
			continue
		}
		b = append(b, valueString(g, ev)...)
	}
	return b
}

func valueString(p *Program, ev *event.Event) string {
	if p.fastCol != nil {
		return p.fastValue(ev) // no detour through any (an allocation per event)
	}
	v, err := p.Value(ev)
	if err != nil || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return formatValue(v)
}

// user is the identity of a burst: for a distinct count (many targets,
// as in a spray) the actor, otherwise the usual one.
func (th *threshold) user(ev *event.Event) string {
	if th.distinct != nil {
		return ev.SubjectUser
	}
	return UserOf(ev)
}

func (th *threshold) finding(key string, b *burst) event.Finding {
	r := th.rule
	shown := b.order
	more := 0
	if len(shown) > maxShownValues {
		more = len(shown) - maxShownValues
		shown = shown[:maxShownValues]
	}
	vals := strings.Join(shown, ", ")
	if more > 0 {
		vals += fmt.Sprintf(", … (+%d more)", more)
	}
	var summary string
	if th.output != nil {
		summary = th.output.render(b.first, func(e *env) {
			e.Hits, e.DistinctValues, e.LastTime = b.hits, vals, b.last
		})
	} else {
		summary = fmt.Sprintf("%s: %d events on %s", r.Title, b.hits, formatValue(b.first.Host))
	}
	what := "matching events"
	if th.distinct != nil {
		what = fmt.Sprintf("matching events with %d distinct %s", len(b.order), th.distSrc)
	}
	reason := fmt.Sprintf("%d %s within %s (threshold %d per %s)", b.hits, what, b.last.Sub(b.start).Round(time.Second), th.count, th.window)
	if d := strings.TrimSpace(r.Description); d != "" {
		reason = d + " " + reason + "."
	}
	det := ordereddict.NewDict().
		Set("hits", b.hits).
		Set("threshold", th.count).
		Set("window", th.window.String())
	if th.distinct != nil {
		det.Set("distinct", len(b.order))
		det.Set("distinct_of", th.distSrc)
		det.Set("values", vals)
	}
	if len(th.groupSrc) > 0 {
		det.Set("group_by", strings.Join(th.groupSrc, ", "))
		det.Set("group", strings.ReplaceAll(key, "\x1f", " | "))
	}
	if b.hits > len(b.refs) {
		det.Set("refs_truncated", b.hits-len(b.refs))
	}
	return event.Finding{
		Time:      b.start,
		End:       b.last,
		RuleID:    r.ID,
		Title:     r.Title,
		Severity:  r.Severity,
		Tags:      append([]string(nil), r.Tags...),
		Host:      b.first.Host,
		User:      th.user(b.first),
		Summary:   summary,
		Reason:    reason,
		Analyzer:  "rule",
		SessionID: b.first.SessionID,
		Details:   det,
		Refs:      b.refs,
	}
}
