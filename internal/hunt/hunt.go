// Package hunt runs rules and analyzers over the store and writes the
// findings: scan once (only the columns the rules need, pruned to the case
// window), evaluate single-event rules on a worker pool, feed stateful
// rules their matches in time order, let the analyzers observe every
// event, then give every finding a stable ID, sort, correlate into
// incidents and replace the stored findings atomically.
package hunt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spoor-dfir/spoor/analyzers"
	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/incident"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/sigma"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/triage"
)

// Options tune a hunt. The zero value runs every analyzer on all cores
// and writes the findings.
type Options struct {
	Workers int // 0: GOMAXPROCS
	// Analyzers replaces analyzers.All(cfg) (tests); ignored with
	// NoAnalyzers.
	Analyzers   []analyzers.Analyzer
	NoAnalyzers bool
	// Sources limits the scan (evtx, firewall, rmm); nil scans all.
	Sources []string
	// DryRun evaluates without writing findings to the store.
	DryRun bool
	// Progress, if set, is told the number of events scanned so far.
	Progress func(events int64)
	// NoTriage keeps every finding at the severity its rule or analyzer
	// gave it (no context triage, see internal/triage).
	NoTriage bool
	// FullScan decodes every stored row whole and shows every analyzer
	// every event, instead of only what the rules and analyzers read: the
	// reference the selective scan is tested against.
	FullScan bool
	// ReferenceRules evaluates every Sigma rule on its own (rule by rule,
	// each its own Match) instead of all at once through sigma.Set: the
	// reference the compiled set is tested against.
	ReferenceRules bool
}

// Result is what a hunt found.
type Result struct {
	Events    int64
	Rules     int
	Findings  []event.Finding
	Incidents []event.Incident
	// Triage says what context triage did (zero with NoTriage).
	Triage triage.Stats
	// Warnings are problems that did not stop the hunt (a rule failing
	// at run time, a panicking matcher).
	Warnings []string
	// BrokenRules names the rules whose results cannot be trusted (over
	// their evaluation budget, or failing on every event), with why; the
	// CLI exits non-zero for them unless told to keep going.
	BrokenRules []string
	Elapsed     time.Duration
	// Phases says when each phase of the hunt ended, from its start
	// (for SPOOR_HUNT_TRACE): scan, analyzers finished, findings sorted,
	// incidents correlated.
	Phases struct{ Scanned, Finished, Sorted, Correlated time.Duration }
}

// BySeverity counts findings per severity.
func (r Result) BySeverity() map[string]int {
	m := map[string]int{}
	for _, f := range r.Findings {
		m[f.Severity]++
	}
	return m
}

// Summary is the one-line summary of a hunt.
func (r Result) Summary() string {
	by := r.BySeverity()
	var parts []string
	for i := len(event.Severities) - 1; i >= 0; i-- {
		s := event.Severities[i]
		parts = append(parts, fmt.Sprintf("%s %d", s, by[s]))
	}
	s := fmt.Sprintf("hunt: %d events, %d rules, %d findings (%s), %d incidents in %s",
		r.Events, r.Rules, len(r.Findings), strings.Join(parts, ", "), len(r.Incidents), r.Elapsed.Round(time.Millisecond))
	if r.Triage.Judged > 0 {
		s += "\n" + r.Triage.String()
	}
	return s
}

// MaxSeverity is the rank of the highest finding (event.Rank), -1 if none.
func (r Result) MaxSeverity() int {
	m := -1
	for _, f := range r.Findings {
		if k := event.Rank(f.Severity); k > m {
			m = k
		}
	}
	return m
}

const batchSize = 1024

type batch struct {
	seq   int64 // sequence number of evs[0] in scan order
	evs   []event.Event
	masks []uint64 // per event: the analyzers (bit i: ans[i]) that want it, and rulesBit
	refs  sync.WaitGroup
}

// reset empties a batch for reuse.
func (b *batch) reset() { b.evs, b.masks = b.evs[:0], b.masks[:0] }

// match is an event a stateful rule accepted, with its scan position so
// ties in time sort the same way every run.
type match struct {
	seq int64
	ev  *event.Event
}

// plan is the rule set arranged for evaluation.
type plan struct {
	rules    []*rule.Rule
	byID     map[int32][]int // rules whose filter names this event id
	anyID    []int           // rules without an event-id filter
	stateful []bool
	// keepFields says whether a stateful rule reads raw fields; if not,
	// the copies of its matches drop them (most of an event's memory).
	keepFields []bool
	// memoIdx is a rule's index among the memoized rules, -1 if its
	// answers are not remembered (see memo.go); key builds the memo key.
	memoIdx []int
	nMemo   int
	key     []keyPart
	// set evaluates the single-event Sigma rules all at once (they are
	// then in neither byID nor anyID); setIdx maps its indices to rules.
	set      *sigma.Set
	setIdx   []int
	inSet    map[*rule.Rule]bool
	matchers sync.Pool // *sigma.Matcher, for callers without their own
	// shapes gives every finding its triage.Shape; only triage reads it.
	shapes bool
}

// newPlan arranges rules, the Sigma ones in a compiled set.
func newPlan(rules []*rule.Rule) *plan { return newPlanWith(rules, true) }

// newPlanWith arranges rules; with compiled false every rule is evaluated
// on its own (the reference).
func newPlanWith(rules []*rule.Rule, compiled bool) *plan {
	p := &plan{rules: rules, byID: map[int32][]int{}, stateful: make([]bool, len(rules)), keepFields: make([]bool, len(rules)), memoIdx: make([]int, len(rules))}
	var inSet []*rule.Rule
	for i, r := range rules {
		if compiled && sigma.Compiled(r) {
			inSet = append(inSet, r)
			p.setIdx = append(p.setIdx, i)
		}
	}
	if len(inSet) > 0 {
		p.inSet = map[*rule.Rule]bool{}
		for _, r := range inSet {
			p.inSet[r] = true
		}
		p.set = sigma.NewSet(inSet)
		p.matchers.New = func() any { return p.set.NewMatcher() }
	}
	inSetAt := 0
	var keyCols []string
	for i, r := range rules {
		p.memoIdx[i] = -1
		if memoizable(r) {
			p.memoIdx[i] = p.nMemo
			p.nMemo++
			keyCols = append(keyCols, r.MatchColumns...)
		}
	}
	p.key = keyOf(keyCols)
	for i, r := range rules {
		p.stateful[i] = r.Stateful != nil || r.NewState != nil
		p.keepFields[i] = r.Columns == nil || slices.Contains(r.Columns, "fields")
		if inSetAt < len(p.setIdx) && p.setIdx[inSetAt] == i {
			inSetAt++
			continue
		}
		if len(r.Filter.EventIDs) == 0 {
			p.anyID = append(p.anyID, i)
			continue
		}
		seen := map[int32]bool{}
		for _, id := range r.Filter.EventIDs {
			if !seen[id] {
				seen[id] = true
				p.byID[id] = append(p.byID[id], i)
			}
		}
	}
	return p
}

// Run hunts the store with rules (and the case's analyzers) and, unless
// opts.DryRun, replaces the stored findings and incidents.
func Run(ctx context.Context, st *store.Store, cfg *caseconf.Config, rules []*rule.Rule, opts Options) (Result, error) {
	start := time.Now()
	if cfg == nil {
		cfg = caseconf.Default()
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var ans []analyzers.Analyzer
	if !opts.NoAnalyzers {
		ans = opts.Analyzers
		if ans == nil {
			ans = analyzers.All(cfg)
		}
	}
	// Triage reads the RMM sessions the analyzers share (built once, in
	// the set analyzers.All puts in the list); without one, a set of its
	// own is fed beside the analyzers.
	set, setAt := sessionSet(ans)
	if set == nil && !opts.NoTriage {
		set, setAt = akit.NewSessionSet(cfg), len(ans)
		ans = append(slices.Clip(ans), set)
	}
	// Rules that only feed correlations are evaluated by the correlation.
	rules = slices.DeleteFunc(slices.Clone(rules), func(r *rule.Rule) bool { return r.NoFindings })
	p := newPlanWith(rules, !opts.ReferenceRules)
	p.shapes = !opts.NoTriage
	res := Result{Rules: len(rules)}

	var (
		mu       sync.Mutex
		findings []event.Finding
		matches  = make([][]match, len(rules))
		warnings []string
	)
	pool := sync.Pool{New: func() any { return &batch{evs: make([]event.Event, 0, batchSize)} }}
	work := make(chan *batch, 2*workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mem := newMemo()
			var sm *sigma.Matcher
			if p.set != nil {
				sm = p.set.NewMatcher()
			}
			for b := range work {
				fs, ms, warn := evalBatch(p, mem, sm, b)
				mu.Lock()
				findings = append(findings, fs...)
				for i, m := range ms {
					matches[i] = append(matches[i], m...)
				}
				warnings = append(warnings, warn...)
				mu.Unlock()
				b.refs.Done()
			}
		}()
	}
	// Each analyzer sees the events it wants (all, if it does not say)
	// once, in store order, from its own goroutine (their contract), so
	// analyzers run beside each other and beside the rule workers.
	var anWG sync.WaitGroup
	anChs := make([]chan *batch, len(ans))
	anBroken := make([]bool, len(ans)) // a panicking analyzer is dropped, not fatal
	anWarn := make([]string, len(ans))
	for i, a := range ans {
		ch := make(chan *batch, 2*workers)
		anChs[i] = ch
		anWG.Add(1)
		go func(i int, a analyzers.Analyzer) {
			defer anWG.Done()
			for b := range ch {
				if !anBroken[i] {
					observe(a, b.evs, b.masks, uint64(1)<<uint(i), &anBroken[i], &anWarn[i])
				}
				b.refs.Done()
			}
		}(i, a)
	}
	// Batches go back to the pool once workers and analyzers are done.
	recycle := make(chan *batch, 4*workers)
	var recWG sync.WaitGroup
	recWG.Add(1)
	go func() {
		defer recWG.Done()
		for b := range recycle {
			b.refs.Wait()
			b.reset()
			pool.Put(b)
		}
	}()
	send := func(b *batch) {
		b.refs.Add(1 + len(anChs))
		work <- b
		for _, ch := range anChs {
			ch <- b
		}
		recycle <- b
	}

	from, to := cfg.Window.Bounds()
	full := opts.FullScan || len(ans) > 63
	var rows, seq int64
	err := scanParallel(ctx, st, store.ScanOptions{Sources: opts.Sources, From: from, To: to}, workers, &pool,
		func() *selector {
			if full {
				return nil
			}
			return newSelector(rules, ans, p.inSet, p.shapes)
		},
		func(b *batch, n int64) error {
			b.seq = seq
			seq += int64(len(b.evs))
			rows += n
			send(b)
			if opts.Progress != nil {
				opts.Progress(rows)
			}
			return ctx.Err()
		})
	res.Phases.Scanned = time.Since(start)
	close(work)
	for _, ch := range anChs {
		close(ch)
	}
	wg.Wait()
	anWG.Wait()
	close(recycle)
	recWG.Wait()
	if err != nil {
		return res, err
	}
	if opts.Progress != nil {
		opts.Progress(rows)
	}
	res.Events = rows

	// Stateful rules: their matches in time order (scan order on ties).
	for i, r := range rules {
		if !p.stateful[i] {
			continue
		}
		ms := matches[i]
		sort.Slice(ms, func(a, b int) bool {
			if !ms[a].ev.Time.Equal(ms[b].ev.Time) {
				return ms[a].ev.Time.Before(ms[b].ev.Time)
			}
			return ms[a].seq < ms[b].seq
		})
		s := r.State()
		emit := func(f event.Finding) {
			if f.Analyzer == "" {
				f.Analyzer = "rule"
			}
			findings = append(findings, f)
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					warnings = append(warnings, fmt.Sprintf("rule %s (%s): stateful evaluation panicked: %v", r.ID, r.File, p))
				}
			}()
			for _, m := range ms {
				s.Observe(m.ev, emit)
			}
			s.Flush(emit)
		}()
		matches[i] = nil
	}
	// Analyzers finish side by side; their findings are merged in list
	// order, so the result does not depend on which finishes first.
	anFindings := make([][]event.Finding, len(ans))
	var finWG sync.WaitGroup
	for i, a := range ans {
		if anBroken[i] {
			continue
		}
		finWG.Add(1)
		go func() {
			defer finWG.Done()
			defer func() {
				if p := recover(); p != nil {
					anWarn[i] = fmt.Sprintf("analyzer %s panicked: %v", a.Name(), p)
				}
			}()
			fs := a.Finish()
			for j := range fs {
				if fs[j].Analyzer == "" {
					fs[j].Analyzer = a.Name()
				}
			}
			anFindings[i] = fs
		}()
	}
	finWG.Wait()
	for i := range ans {
		findings = append(findings, anFindings[i]...)
		if anWarn[i] != "" {
			warnings = append(warnings, anWarn[i])
		}
	}
	for _, r := range rules {
		if n, e := r.EvalErrors(); n > 0 {
			warnings = append(warnings, fmt.Sprintf("rule %s (%s): %d evaluation errors, first: %v", r.ID, r.File, n, e))
		}
		if why := r.Broken(); why != "" {
			res.BrokenRules = append(res.BrokenRules, fmt.Sprintf("rule %s (%s) %s", r.ID, r.File, why))
		}
	}
	sort.Strings(res.BrokenRules)
	sort.Strings(warnings)
	res.Warnings = warnings

	res.Phases.Finished = time.Since(start)
	AssignIDs(findings)
	SortFindings(findings)
	if !opts.NoTriage && !anBroken[setAt] {
		res.Triage = triage.Apply(cfg, findings, triage.Sessions(cfg, set))
	}
	res.Phases.Sorted = time.Since(start)
	res.Incidents = incident.Correlate(cfg, findings)
	res.Findings = findings
	res.Phases.Correlated = time.Since(start)
	if !opts.DryRun {
		if err := st.WriteFindings(findings, res.Incidents); err != nil {
			return res, err
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// sessionSet finds the shared RMM session set in an analyzer list, and
// its index.
func sessionSet(ans []analyzers.Analyzer) (*akit.SessionSet, int) {
	for i, a := range ans {
		if s, ok := a.(*akit.SessionSet); ok {
			return s, i
		}
	}
	return nil, -1
}

func observe(a analyzers.Analyzer, evs []event.Event, masks []uint64, bit uint64, broken *bool, warn *string) {
	defer func() {
		if p := recover(); p != nil {
			*broken = true
			*warn = fmt.Sprintf("analyzer %s panicked and was dropped: %v", a.Name(), p)
		}
	}()
	for j := range evs {
		if masks[j]&bit != 0 {
			a.Observe(&evs[j])
		}
	}
}

// evalBatch evaluates every rule on a batch. A panicking matcher (a bug
// in a rule compiler) must not end the hunt: the batch is then redone
// rule by rule with the culprit skipped and reported.
func evalBatch(p *plan, m *memo, sm *sigma.Matcher, b *batch) (fs []event.Finding, ms [][]match, warnings []string) {
	defer func() {
		if r := recover(); r != nil {
			fs, ms, warnings = evalBatchSafe(p, b)
		}
	}()
	ms = make([][]match, len(p.rules))
	for i := range b.evs {
		if b.masks[i]&rulesBit == 0 {
			continue // no rule's pre-filter takes it (see selector)
		}
		fs = evalOne(p, m, sm, &b.evs[i], b.seq+int64(i), fs, ms)
	}
	return fs, ms, nil
}

// evalOne evaluates the rules whose pre-filter names ev's event id and
// those without one, answering memoized rules from m (nil: no memo), and
// the compiled Sigma set with sm (nil: one from the plan's pool).
func evalOne(p *plan, m *memo, sm *sigma.Matcher, ev *event.Event, seq int64, fs []event.Finding, ms [][]match) []event.Finding {
	if p.set != nil {
		if sm == nil {
			sm = p.matchers.Get().(*sigma.Matcher)
			defer p.matchers.Put(sm)
		}
		fs = evalSet(p, sm, ev, fs)
	}
	if p.nMemo == 0 {
		m = nil
	}
	var hit []uint64
	if m != nil {
		hit = m.lookup(p, ev)
	}
	fs = evalEvent(p, p.byID[ev.EventID], ev, seq, fs, ms, hit, m)
	fs = evalEvent(p, p.anyID, ev, seq, fs, ms, hit, m)
	if m != nil && hit == nil {
		m.store()
	}
	return fs
}

// evalSet adds the findings of the compiled Sigma set on ev.
func evalSet(p *plan, sm *sigma.Matcher, ev *event.Event, fs []event.Finding) []event.Finding {
	var buf [16]int
	hits := sm.Match(ev, buf[:0])
	if len(hits) == 0 {
		return fs
	}
	for _, k := range hits {
		f := rule.NewFindingSummary(p.rules[p.setIdx[k]], ev, sm.Summary(k, ev))
		if p.shapes {
			f.Shape = triage.Shape(ev)
		}
		fs = append(fs, f)
	}
	return fs
}

func evalEvent(p *plan, idx []int, ev *event.Event, seq int64, fs []event.Finding, ms [][]match, hit []uint64, m *memo) []event.Finding {
	for _, i := range idx {
		r := p.rules[i]
		var ok bool
		switch k := p.memoIdx[i]; {
		case k >= 0 && hit != nil:
			ok = hit[k/64]&(1<<(k%64)) != 0
		case k >= 0 && m != nil:
			var err error
			ok, err = rule.EvaluateE(r, ev)
			if err != nil {
				m.failed()
			}
			if ok {
				m.bits[k/64] |= 1 << (k % 64)
			}
		default:
			ok = rule.Evaluate(r, ev)
		}
		if !ok {
			continue
		}
		if p.stateful[i] {
			c := *ev
			if !p.keepFields[i] {
				c.Fields, c.RawFields = nil, ""
			}
			ms[i] = append(ms[i], match{seq: seq, ev: &c})
			continue
		}
		f := rule.NewFinding(r, ev)
		if p.shapes {
			f.Shape = triage.Shape(ev)
		}
		fs = append(fs, f)
	}
	return fs
}

func evalBatchSafe(p *plan, b *batch) ([]event.Finding, [][]match, []string) {
	var fs []event.Finding
	ms := make([][]match, len(p.rules))
	bad := map[int]string{}
	// Rule by rule, the compiled set's rules included: the reference
	// evaluation isolates the culprit.
	for i := range b.evs {
		ev := &b.evs[i]
		for ri := range p.rules {
			if _, ok := bad[ri]; ok {
				continue
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						bad[ri] = fmt.Sprint(r)
					}
				}()
				fs = evalEvent(p, []int{ri}, ev, b.seq+int64(i), fs, ms, nil, nil)
			}()
		}
	}
	var warnings []string
	for ri, msg := range bad {
		r := p.rules[ri]
		warnings = append(warnings, fmt.Sprintf("rule %s (%s) panicked and was skipped for %d events from %s: %s",
			r.ID, r.File, len(b.evs), b.evs[0].Evidence, msg))
	}
	return fs, ms, warnings
}

// AssignIDs gives findings without an ID a stable one: a hash of rule (or
// analyzer), host, time and the first event referred to, so a re-hunt of
// the same store gives the same IDs.
func AssignIDs(fs []event.Finding) {
	for i := range fs {
		if fs[i].ID != "" {
			continue
		}
		f := &fs[i]
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d", f.Analyzer, f.RuleID, f.Host, f.Time.UnixNano())
		if len(f.Refs) > 0 {
			r := f.Refs[0]
			fmt.Fprintf(h, "\x00%s\x00%d\x00%d", r.Evidence, r.Offset, r.RecordID)
		} else {
			fmt.Fprintf(h, "\x00%s", f.Summary)
		}
		f.ID = "f-" + hex.EncodeToString(h.Sum(nil))[:16]
	}
}

// SortFindings orders findings by time, then rule, host, user, first
// reference and summary, and makes IDs unique (a suffix on repeats), so
// the stored order and IDs are deterministic.
func SortFindings(fs []event.Finding) {
	// An order of indices (ties: the earlier index, as a stable sort
	// would) by an n log n sort, then the findings moved once: a stable
	// sort of the large structs themselves costs n log² n moves.
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := &fs[i], &fs[j]
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if c := strings.Compare(a.RuleID, b.RuleID); c != 0 {
			return c
		}
		if c := strings.Compare(a.Analyzer, b.Analyzer); c != 0 {
			return c
		}
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		if c := strings.Compare(a.User, b.User); c != 0 {
			return c
		}
		ra, rb := firstRef(a), firstRef(b)
		if c := strings.Compare(ra.Evidence, rb.Evidence); c != 0 {
			return c
		}
		if ra.Offset != rb.Offset {
			if ra.Offset < rb.Offset {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.Summary, b.Summary); c != 0 {
			return c
		}
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return i - j
	})
	// Position k takes fs[order[k]]: follow each cycle of the
	// permutation, one finding held aside (no second copy of them all).
	for start := range order {
		if order[start] < 0 {
			continue
		}
		held := fs[start]
		for j := start; ; {
			src := order[j]
			order[j] = -1
			if src == start {
				fs[j] = held
				break
			}
			fs[j] = fs[src]
			j = src
		}
	}
	seen := map[string]int{}
	for i := range fs {
		n := seen[fs[i].ID]
		seen[fs[i].ID] = n + 1
		if n > 0 {
			fs[i].ID += "-" + strconv.Itoa(n+1)
		}
	}
}

func firstRef(f *event.Finding) event.Ref {
	if len(f.Refs) == 0 {
		return event.Ref{}
	}
	return f.Refs[0]
}
