// Package hunt runs rules and analyzers over the store and writes the
// findings: scan once (only the columns the rules need, pruned to the case
// window), evaluate single-event rules on a worker pool, feed stateful
// rules their matches in time order, let the analyzers observe every
// event, then give every finding a stable ID, sort, correlate into
// incidents and replace the stored findings atomically.
package hunt

import (
	"cmp"
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
	"github.com/spoor-dfir/spoor/internal/parallel"
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
	seq int64 // sequence number of evs[0] in scan order
	evs []event.Event
	// masks holds each event's mask (who is shown it), words words each.
	masks []uint64
	words int
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
	// statefulIdx lists the stateful rules (a handful among thousands).
	statefulIdx []int
	// keepFields says whether a stateful rule reads raw fields; if not,
	// the copies of its matches drop them (most of an event's memory).
	keepFields []bool
	// memoIdx is a rule's index among the memoized rules, -1 if its
	// answers are not remembered (see memo.go); key builds the memo key.
	memoIdx []int
	// guardIdx is, for a rule evaluated every time, the index among the
	// memo's answers of whether its guards let the event through
	// (rule.Guarded), -1 if not remembered: the guards of rules such as
	// defender-disabled look for words in every command line and script,
	// the same ones over and over.
	guardIdx []int
	nMemo    int
	key      []keyPart
	// set evaluates the single-event Sigma rules all at once (they are
	// then in neither byID nor anyID); setIdx maps its indices to rules.
	set      *sigma.Set
	setIdx   []int
	inSet    map[*rule.Rule]bool
	matchers sync.Pool // *sigma.Matcher, for callers without their own
	// shapes gives every finding its triage.Shape; only triage reads it.
	shapes bool
	// reasons are the rules' rule.Reason, worked out once.
	reasons []string
}

// newPlan arranges rules, the Sigma ones in a compiled set.
func newPlan(rules []*rule.Rule) *plan { return newPlanWith(rules, true) }

// newPlanWith arranges rules; with compiled false every rule is evaluated
// on its own (the reference).
func newPlanWith(rules []*rule.Rule, compiled bool) *plan {
	p := &plan{rules: rules, byID: map[int32][]int{}, stateful: make([]bool, len(rules)), keepFields: make([]bool, len(rules)), memoIdx: make([]int, len(rules))}
	for _, r := range rules {
		p.reasons = append(p.reasons, rule.Reason(r))
	}
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
	p.guardIdx = make([]int, len(rules))
	for i, r := range rules {
		p.memoIdx[i], p.guardIdx[i] = -1, -1
		if p.inSet[r] {
			continue // the set remembers its own answers
		}
		if memoizable(r) {
			p.memoIdx[i] = p.nMemo
			p.nMemo++
			keyCols = append(keyCols, r.MatchColumns...)
		} else if cols, ok := guardMemoizable(r); ok {
			p.guardIdx[i] = p.nMemo
			p.nMemo++
			keyCols = append(keyCols, cols...)
		}
	}
	p.key = keyOf(keyCols)
	for i, r := range rules {
		p.stateful[i] = r.Stateful != nil || r.NewState != nil
		if p.stateful[i] {
			p.statefulIdx = append(p.statefulIdx, i)
		}
		p.keepFields[i] = r.Columns == nil || slices.Contains(r.Columns, "fields")
		if inSetAt < len(p.setIdx) && p.setIdx[inSetAt] == i {
			inSetAt++
			continue
		}
		ids := r.Filter.EventIDs
		if len(ids) == 0 {
			ids = guardIDs(r.Guards)
		}
		if len(ids) == 0 {
			p.anyID = append(p.anyID, i)
			continue
		}
		seen := map[int32]bool{}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				p.byID[id] = append(p.byID[id], i)
			}
		}
	}
	return p
}

// guardIDs is every event id a rule's guards name, nil when one of them
// takes any id: the rule then need not be looked at for other events.
func guardIDs(gs []rule.Guard) []int32 {
	var ids []int32
	for _, g := range gs {
		if g.EventIDs == nil {
			return nil
		}
		ids = append(ids, g.EventIDs...)
	}
	return ids
}

// Run hunts the store with rules (and the case's analyzers) and, unless
// opts.DryRun, replaces the stored findings and incidents. It runs in
// stages, each handing the next what it made: scan (rules and analyzers
// fed from one scan), settle (stateful replay beside the analyzers'
// finish), order (IDs and the one finding order), triage, incidents,
// write.
func Run(ctx context.Context, st *store.Store, cfg *caseconf.Config, rules []*rule.Rule, opts Options) (Result, error) {
	start := time.Now()
	h := newHunter(cfg, rules, opts)
	res := Result{Rules: len(h.rules)}

	sc, err := h.scan(ctx, st)
	res.Phases.Scanned = time.Since(start)
	if err != nil {
		return res, err
	}
	res.Events = sc.rows

	findings, warnings := h.settle(sc)
	res.Warnings, res.BrokenRules = h.health(warnings)
	res.Phases.Finished = time.Since(start)

	order(findings)
	if !h.opts.NoTriage && h.set != nil && !sc.broken[h.setAt] {
		res.Triage = triage.Apply(h.cfg, findings, triage.Sessions(h.cfg, h.set))
	}
	res.Phases.Sorted = time.Since(start)

	res.Incidents = incident.Correlate(h.cfg, findings)
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

// hunter is a hunt set up: the rules arranged for evaluation and the
// analyzers that watch the scan.
type hunter struct {
	cfg     *caseconf.Config
	opts    Options
	workers int
	rules   []*rule.Rule
	p       *plan
	// ans are the case's analyzers; set (at index setAt) is the RMM
	// session set they share, which triage reads too.
	ans   []analyzers.Analyzer
	set   *akit.SessionSet
	setAt int
}

func newHunter(cfg *caseconf.Config, rules []*rule.Rule, opts Options) *hunter {
	if cfg == nil {
		cfg = caseconf.Default()
	}
	h := &hunter{cfg: cfg, opts: opts, workers: opts.Workers}
	if h.workers <= 0 {
		h.workers = runtime.GOMAXPROCS(0)
	}
	if !opts.NoAnalyzers {
		h.ans = opts.Analyzers
		if h.ans == nil {
			h.ans = analyzers.All(cfg)
		}
	}
	// Triage reads the RMM sessions the analyzers share (built once, in
	// the set analyzers.All puts in the list); without one, a set of its
	// own is fed beside the analyzers.
	h.set, h.setAt = sessionSet(h.ans)
	if h.set == nil && !opts.NoTriage {
		h.set, h.setAt = akit.NewSessionSet(cfg), len(h.ans)
		h.ans = append(slices.Clip(h.ans), h.set)
	}
	// Rules that only feed correlations are evaluated by the correlation.
	h.rules = slices.DeleteFunc(slices.Clone(rules), func(r *rule.Rule) bool { return r.NoFindings })
	h.p = newPlanWith(h.rules, !opts.ReferenceRules)
	h.p.shapes = !opts.NoTriage
	return h
}

// scanResult is what the scan stage hands on: the single-event rules'
// findings, the stateful rules' matches (per rule, in no order), and
// which analyzers panicked (dropped, with a warning each).
type scanResult struct {
	rows int64
	// findings come per batch, joined once by settle (appending them to
	// one growing slice copied every finding several times over).
	findings [][]event.Finding
	matches  [][]match
	warnings []string
	broken   []bool
	anWarn   []string
}

// scan reads the store once and fans every batch out to the rule
// workers and to each analyzer's goroutine.
func (h *hunter) scan(ctx context.Context, st *store.Store) (*scanResult, error) {
	out := &scanResult{matches: make([][]match, len(h.rules)), broken: make([]bool, len(h.ans)), anWarn: make([]string, len(h.ans))}
	words := maskWords(len(h.ans))
	pool := sync.Pool{New: func() any { return &batch{evs: make([]event.Event, 0, batchSize)} }}
	f := h.fanOut(out, &pool)
	from, to := h.cfg.Window.Bounds()
	var seq int64
	err := scanParallel(ctx, st, store.ScanOptions{Sources: h.opts.Sources, From: from, To: to}, h.workers, words, &pool,
		func() *selector {
			if h.opts.FullScan {
				return nil
			}
			return newSelector(h.rules, h.ans, h.p.inSet, h.p.shapes)
		},
		func(b *batch, n int64) error {
			b.seq = seq
			seq += int64(len(b.evs))
			out.rows += n
			f.send(b)
			if h.opts.Progress != nil {
				h.opts.Progress(out.rows)
			}
			return ctx.Err()
		})
	f.close()
	if err != nil {
		return out, err
	}
	if h.opts.Progress != nil {
		h.opts.Progress(out.rows)
	}
	return out, nil
}

// fanOut hands each scanned batch to the rule workers (any one of them)
// and to every analyzer's goroutine, and puts it back in the pool once
// all are done with it.
type fanOut struct {
	work    chan *batch
	anChs   []chan *batch
	recycle chan *batch
	wg      sync.WaitGroup // rule workers, analyzers, recycler
}

func (h *hunter) fanOut(out *scanResult, pool *sync.Pool) *fanOut {
	f := &fanOut{work: make(chan *batch, 2*h.workers), recycle: make(chan *batch, 4*h.workers)}
	var mu sync.Mutex
	for w := 0; w < h.workers; w++ {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			mem := newMemo()
			var sm *sigma.Matcher
			if h.p.set != nil {
				sm = h.p.set.NewMatcher()
			}
			for b := range f.work {
				fs, ms, warn := evalBatch(h.p, mem, sm, b)
				mu.Lock()
				if len(fs) > 0 {
					out.findings = append(out.findings, fs)
				}
				for _, i := range h.p.statefulIdx {
					out.matches[i] = append(out.matches[i], ms[i]...)
				}
				out.warnings = append(out.warnings, warn...)
				mu.Unlock()
				b.refs.Done()
			}
		}()
	}
	// Each analyzer sees the events it wants (all, if it does not say)
	// once, in store order, from its own goroutine (their contract), so
	// analyzers run beside each other and beside the rule workers.
	for i, a := range h.ans {
		ch := make(chan *batch, 2*h.workers)
		f.anChs = append(f.anChs, ch)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for b := range ch {
				if !out.broken[i] {
					observe(a, b, analyzerBit(i), &out.broken[i], &out.anWarn[i])
				}
				b.refs.Done()
			}
		}()
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for b := range f.recycle {
			b.refs.Wait()
			b.reset()
			pool.Put(b)
		}
	}()
	return f
}

func (f *fanOut) send(b *batch) {
	b.refs.Add(1 + len(f.anChs))
	f.work <- b
	for _, ch := range f.anChs {
		ch <- b
	}
	f.recycle <- b
}

// close waits until every batch sent is evaluated and observed.
func (f *fanOut) close() {
	close(f.work)
	for _, ch := range f.anChs {
		close(ch)
	}
	close(f.recycle)
	f.wg.Wait()
}

// settle runs the two stages that follow the scan side by side, each a
// set of independent jobs on the hunt's workers: stateful replay (each
// stateful rule fed its matches in time order) and finish (each analyzer
// that did not panic reports its findings). Findings are merged in a
// fixed order — the scan's, then rule by rule, then analyzer by analyzer
// — so the result does not depend on which job ends first.
func (h *hunter) settle(sc *scanResult) ([]event.Finding, []string) {
	var stateful []int
	for i := range h.rules {
		if h.p.stateful[i] {
			stateful = append(stateful, i)
		}
	}
	n := len(stateful) + len(h.ans)
	per := make([][]event.Finding, n)
	warn := make([]string, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(h.workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if j < len(stateful) {
					i := stateful[j]
					per[j], warn[j] = replay(h.rules[i], sc.matches[i])
					sc.matches[i] = nil
					continue
				}
				k := j - len(stateful)
				warn[j] = sc.anWarn[k]
				if !sc.broken[k] {
					per[j], warn[j] = finish(h.ans[k], warn[j])
				}
			}
		}()
	}
	for j := 0; j < n; j++ {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	total := 0
	for _, fs := range append(sc.findings, per...) {
		total += len(fs)
	}
	warnings := sc.warnings
	for j := range per {
		if warn[j] != "" {
			warnings = append(warnings, warn[j])
		}
	}
	findings := join(append(sc.findings, per...), total)
	sc.findings = nil
	return findings, warnings
}

// join concatenates parts (total findings in all) into one slice, the
// parts copied on every core: a hundred thousand findings are tens of
// megabytes, copied while nothing else can run.
func join(parts [][]event.Finding, total int) []event.Finding {
	out := make([]event.Finding, total)
	at := make([]int, len(parts)) // where each part goes
	for i, n := 1, 0; i < len(parts); i++ {
		n += len(parts[i-1])
		at[i] = n
	}
	parallel.Chunks(len(parts), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			copy(out[at[i]:], parts[i])
		}
	})
	return out
}

// replay runs one stateful rule over its matches in time order (scan
// order on ties); a panic ends that rule only, with a warning.
func replay(r *rule.Rule, ms []match) (fs []event.Finding, warn string) {
	// Sorted by keys laid out beside the matches: comparing the events'
	// times through their pointers missed the cache on every compare.
	keys := make([]replayKey, len(ms))
	for i := range ms {
		t := ms[i].ev.Time // seconds and nanoseconds: UnixNano overflows before 1678 (a zero FILETIME is 1601)
		keys[i] = replayKey{t.Unix(), int32(t.Nanosecond()), ms[i].seq, int32(i)}
	}
	slices.SortFunc(keys, func(a, b replayKey) int {
		if c := cmp.Compare(a.sec, b.sec); c != 0 {
			return c
		}
		if c := cmp.Compare(a.nsec, b.nsec); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	defer func() {
		if p := recover(); p != nil {
			warn = fmt.Sprintf("rule %s (%s): stateful evaluation panicked: %v", r.ID, r.File, p)
		}
	}()
	s := r.State()
	emit := func(f event.Finding) {
		if f.Analyzer == "" {
			f.Analyzer = "rule"
		}
		fs = append(fs, f)
	}
	for _, k := range keys {
		s.Observe(ms[k.i].ev, emit)
	}
	s.Flush(emit)
	return fs, ""
}

// replayKey orders a stateful rule's matches: time, then scan position.
type replayKey struct {
	sec  int64
	nsec int32
	seq  int64
	i    int32
}

// finish asks an analyzer for its findings; a panic drops them, with a
// warning (in place of warn, the scan's warning about it, if any).
func finish(a analyzers.Analyzer, warn string) (fs []event.Finding, _ string) {
	defer func() {
		if p := recover(); p != nil {
			fs, warn = nil, fmt.Sprintf("analyzer %s panicked: %v", a.Name(), p)
		}
	}()
	fs = a.Finish()
	for j := range fs {
		if fs[j].Analyzer == "" {
			fs[j].Analyzer = a.Name()
		}
	}
	return fs, warn
}

// health adds the rules' run-time errors to warnings and names the
// broken rules, both sorted.
func (h *hunter) health(warnings []string) (_ []string, broken []string) {
	for _, r := range h.rules {
		if n, e := r.EvalErrors(); n > 0 {
			warnings = append(warnings, fmt.Sprintf("rule %s (%s): %d evaluation errors, first: %v", r.ID, r.File, n, e))
		}
		if why := r.Broken(); why != "" {
			broken = append(broken, fmt.Sprintf("rule %s (%s) %s", r.ID, r.File, why))
		}
	}
	sort.Strings(broken)
	sort.Strings(warnings)
	return warnings, broken
}

// order gives findings their IDs and the one finding order
// (event.SortFindings), and makes IDs unique (a suffix on repeats), so
// the stored order and IDs are deterministic.
func order(fs []event.Finding) {
	AssignIDs(fs)
	event.SortFindings(fs)
	// IDs seen so far: those AssignIDs made are 64 bits of a hash, told
	// apart as numbers (a map of strings cost as much as the sort on a
	// brute force's hundred thousand findings), any other as strings.
	seen := make(map[uint64]int, len(fs))
	var other map[string]int
	for i := range fs {
		var n int
		if h, ok := idBits(fs[i].ID); ok {
			n = seen[h]
			seen[h] = n + 1
		} else {
			if other == nil {
				other = map[string]int{}
			}
			n = other[fs[i].ID]
			other[fs[i].ID] = n + 1
		}
		if n > 0 {
			fs[i].ID += "-" + strconv.Itoa(n+1)
		}
	}
}

// idBits reads an ID as AssignIDs writes it ("f-" and 16 lower-case hex
// digits) back into its 64 bits.
func idBits(id string) (uint64, bool) {
	if len(id) != 18 || id[0] != 'f' || id[1] != '-' {
		return 0, false
	}
	var h uint64
	for i := 2; i < 18; i++ {
		c := id[i]
		switch {
		case '0' <= c && c <= '9':
			h = h<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			h = h<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return h, true
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

func observe(a analyzers.Analyzer, b *batch, bit int, broken *bool, warn *string) {
	defer func() {
		if p := recover(); p != nil {
			*broken = true
			*warn = fmt.Sprintf("analyzer %s panicked and was dropped: %v", a.Name(), p)
		}
	}()
	w, m := bit>>6, uint64(1)<<(bit&63)
	for j := range b.evs {
		if b.masks[j*b.words+w]&m != 0 {
			a.Observe(&b.evs[j])
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
	var free []event.Finding // the worker's room left for this batch's findings
	if m != nil {
		// Findings and matches are made in the worker's room: findings
		// after the findings of its batches before (a slice per batch,
		// grown as it filled, left two or three times the findings' bytes
		// behind, and a copy at their number still moved each once more),
		// matches copied by the worker (a batch's own slice per rule was
		// thousands of empty slices for a handful of stateful rules).
		// Emptied here, so a batch redone after a panic leaves nothing
		// behind.
		if m.ms == nil {
			m.ms = make([][]match, len(p.rules))
		}
		for _, i := range p.statefulIdx {
			m.ms[i] = m.ms[i][:0]
		}
		if cap(m.room)-len(m.room) < batchSize/4 {
			m.room = make([]event.Finding, 0, findingsRoom)
		}
		free = m.room[len(m.room):]
		ms, fs = m.ms, free
	} else {
		ms = make([][]match, len(p.rules))
	}
	for i := range b.evs {
		if !mask(b.masks[i*b.words:]).has(rulesBit) {
			continue // no rule's pre-filter takes it (see selector)
		}
		fs = evalOne(p, m, sm, &b.evs[i], b.seq+int64(i), fs, ms)
	}
	if m != nil {
		if len(fs) == 0 {
			return nil, ms, nil
		}
		if len(fs) <= cap(free) && &fs[0] == &free[:1][0] {
			// Made in the room: taken. (Those that outgrew it were
			// moved to an array of their own by append.)
			m.room = m.room[:len(m.room)+len(fs)]
		}
		fs = fs[:len(fs):len(fs)] // later batches' findings follow in the room
	}
	return fs, ms, nil
}

// findingsRoom is the number of findings a worker makes room for at a
// time.
const findingsRoom = 8192

// evalOne evaluates the rules whose pre-filter names ev's event id and
// those without one, answering memoized rules from m (nil: no memo), and
// the compiled Sigma set with sm (nil: one from the plan's pool).
func evalOne(p *plan, m *memo, sm *sigma.Matcher, ev *event.Event, seq int64, fs []event.Finding, ms [][]match) []event.Finding {
	n := len(fs)
	field := ev.Field
	var pairs func() ([]event.KV, bool)
	if p.set != nil {
		if sm == nil {
			sm = p.matchers.Get().(*sigma.Matcher)
			defer p.matchers.Put(sm)
		}
		fs = evalSet(p, sm, ev, fs)
		field = func(name string) string { return sm.Field(ev, name) }
		pairs = func() ([]event.KV, bool) { return sm.Pairs(ev) }
	}
	var sh *triage.Shaper
	if m != nil {
		sh = m.shaper
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
	return shape(p, sh, ev, field, pairs, fs[n:], fs)
}

// shape gives the findings made of ev (made, a tail of fs) the event's
// triage shape, worked out once however many rules fired on it (by sh,
// the worker's, when not nil); field and pairs read ev's raw fields (see
// triage.ShapeFrom).
func shape(p *plan, sh *triage.Shaper, ev *event.Event, field func(string) string, pairs func() ([]event.KV, bool), made, fs []event.Finding) []event.Finding {
	if !p.shapes || len(made) == 0 {
		return fs
	}
	s := sh.Shape(ev, field, pairs)
	for i := range made {
		made[i].Shape = s
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
		i := p.setIdx[k]
		fs = append(fs, rule.NewFindingWith(p.rules[i], ev, sm.Summary(k, ev), p.reasons[i]))
	}
	return fs
}

func evalEvent(p *plan, idx []int, ev *event.Event, seq int64, fs []event.Finding, ms [][]match, hit []uint64, m *memo) []event.Finding {
	// The stateful rules that match ev share one copy of it (and one
	// without raw fields); a failed-logon event feeds several.
	var whole, slim *event.Event
	for _, i := range idx {
		r := p.rules[i]
		var ok bool
		switch k, g := p.memoIdx[i], p.guardIdx[i]; {
		case g >= 0 && hit != nil:
			ok = hit[g/64]&(1<<(g%64)) != 0 && rule.EvaluateGuarded(r, ev)
		case g >= 0 && m != nil:
			if rule.Guarded(r, ev) {
				m.bits[g/64] |= 1 << (g % 64)
				ok = rule.EvaluateGuarded(r, ev)
			}
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
			var c *event.Event
			switch {
			case p.keepFields[i]:
				if whole == nil {
					whole = new(event.Event)
					*whole = *ev
				}
				c = whole
			default:
				if slim == nil {
					slim = new(event.Event)
					*slim = *ev
					slim.Fields, slim.RawFields = nil, ""
				}
				c = slim
			}
			ms[i] = append(ms[i], match{seq: seq, ev: c})
			continue
		}
		fs = append(fs, rule.NewFindingWith(r, ev, rule.SummaryOf(r, ev), p.reasons[i]))
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
		n := len(fs)
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
		fs = shape(p, nil, ev, ev.Field, nil, fs[n:], fs)
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
// the same store gives the same IDs. Hashing is split across the cores:
// each ID depends on its own finding only.
func AssignIDs(fs []event.Finding) {
	parallel.Chunks(len(fs), 4096, func(lo, hi int) {
		var buf []byte
		for i := lo; i < hi; i++ {
			f := &fs[i]
			if f.ID == "" {
				buf = idInput(buf[:0], f)
				sum := sha256.Sum256(buf)
				var id [18]byte
				id[0], id[1] = 'f', '-'
				hex.Encode(id[2:], sum[:8])
				f.ID = string(id[:])
			}
		}
	})
}

// idInput appends what a finding's ID hashes: analyzer, rule, host and
// time in nanoseconds, then the first reference's evidence, offset and
// record id, or the summary when there is none, NUL-separated.
func idInput(b []byte, f *event.Finding) []byte {
	b = append(b, f.Analyzer...)
	b = append(b, 0)
	b = append(b, f.RuleID...)
	b = append(b, 0)
	b = append(b, f.Host...)
	b = append(b, 0)
	b = strconv.AppendInt(b, f.Time.UnixNano(), 10)
	b = append(b, 0)
	if len(f.Refs) == 0 {
		return append(b, f.Summary...)
	}
	r := &f.Refs[0]
	b = append(b, r.Evidence...)
	b = append(b, 0)
	b = strconv.AppendInt(b, r.Offset, 10)
	b = append(b, 0)
	return strconv.AppendInt(b, r.RecordID, 10)
}
