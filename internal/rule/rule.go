// Package rule is spoor's detection-rule model: a compiled Rule that the
// hunt evaluates per event. spoor's own YAML+expr rules and Sigma rules
// (internal/sigma) both compile to this one shape, once, at load.
package rule

import (
	"github.com/spoor-dfir/spoor/internal/event"
)

// Kinds of rules.
const (
	KindSpoor       = "spoor"             // YAML + expr condition, one event
	KindThreshold   = "threshold"         // YAML + expr, count by key within a window
	KindSigma       = "sigma"             // Sigma detection, one event
	KindCorrelation = "sigma-correlation" // Sigma 2 correlation rule
)

// Rule is a loaded, compiled detection. It is safe for concurrent use by
// several hunt workers for Match and Summary; Stateful is driven by one
// goroutine in event-time order.
type Rule struct {
	ID          string
	Title       string
	Description string
	Severity    string // info|low|medium|high|critical
	Kind        string
	Tags        []string
	File        string // where it was loaded from
	Line        int
	// Source, License and Author say where a rule comes from and under
	// which terms (set by internal/rule/ruleset): e.g. "SigmaHQ 8eaafff1f284",
	// "DRL-1.1" and the rule's authors; spoor's own pack is "spoor".
	Source  string
	License string
	Author  string

	// Filter lets the hunt skip events cheaply before Match.
	Filter Filter
	// Match reports whether one event matches. Nil for rules that are
	// purely stateful (correlations over other rules).
	Match func(ev *event.Event) bool
	// Summary renders the finding's summary for a matching event.
	Summary func(ev *event.Event) string
	// Stateful, when set, receives the events Match accepted (or, for
	// correlations, all events passing Filter), in time order, and emits
	// findings itself; per-event findings are then not emitted.
	Stateful Stateful
	// NoFindings marks a rule that only feeds correlations (Sigma's
	// `generate: false`, the default for rules a correlation refers to):
	// the correlation evaluates it itself, and the hunt neither evaluates
	// nor reports it on its own.
	NoFindings bool
	// Tests are the rule's embedded test cases (spoor rules test).
	Tests []Test

	// Condition and Output are the rule's source text, for listings.
	Condition string
	Output    string
	// Columns names the store columns Match, Summary and Stateful read
	// ("fields" for raw fields), so the hunt reads only those; nil means
	// all columns.
	Columns []string
	// Requires lists groups of string columns of which at least one must
	// be non-empty for Match to hold (derived from the condition), so the
	// hunt can pass over rows without decoding them.
	Requires [][]string
	// Guards are the cases of the condition (derived from it): Match
	// can hold only for an event one of them lets through. nil: any
	// event may match.
	Guards []Guard
	// MatchColumns, when set, names every column Match reads: Match is
	// then a pure function of them (and the case), so the hunt may
	// remember its answer for values it has seen. nil: unknown.
	MatchColumns []string
	// FieldDict says Match walks Event.Fields as a dict (Sigma's
	// matchers do); other rules read raw fields through Event.Field,
	// which the hunt serves from the undecoded text.
	FieldDict bool
	// Detection, when set, is the rule compiler's own form of Match, for
	// a matcher that evaluates many rules at once (internal/sigma's Set);
	// Match stays the reference and the answer for a single rule.
	Detection any
	// NewState, when set, returns fresh state for a stateful rule (one per
	// hunt or test run) and is preferred over Stateful.
	NewState func() Stateful

	// def is the parsed spoor rule, kept so tests can recompile it
	// against their own case (test_case); nil for Sigma rules.
	def  *ruleDef
	prog *Program
	// guard tests Guards before the condition runs.
	guard func(*event.Event) bool
}

// State returns the stateful part to drive for one run: a fresh one when
// the rule can make it, else Stateful; nil for single-event rules.
func (r *Rule) State() Stateful {
	if r.NewState != nil {
		return r.NewState()
	}
	return r.Stateful
}

// EvalErrors reports how many condition evaluations failed at run time
// and the first failure (spoor rules only; Sigma matchers do not fail).
func (r *Rule) EvalErrors() (int64, error) {
	if r.prog == nil {
		return 0, nil
	}
	return r.prog.Errors()
}

// Broken says why the rule's condition cannot be trusted (over its
// evaluation budget, or failing on every event), or "".
func (r *Rule) Broken() string {
	if r.prog == nil {
		return ""
	}
	return r.prog.Broken()
}

// Filter is a cheap pre-filter: an event passes when each non-empty list
// contains its value.
type Filter struct {
	Sources  []string
	Channels []string // compared case-insensitively
	EventIDs []int32
}

// Stateful is the state of a threshold or correlation rule across events.
type Stateful interface {
	// Observe takes one event (in time order) and may emit findings. It
	// may keep ev: callers hand events they do not change afterwards (the
	// hunt hands copies of the matched events, shared between the rules
	// that matched the same event).
	Observe(ev *event.Event, emit func(event.Finding))
	// Flush emits what is still pending at the end of the events.
	Flush(emit func(event.Finding))
}

// Test is one embedded test case: an event and whether the rule must
// match it (for stateful rules: a sequence and the expected finding count).
type Test struct {
	Name   string
	Events []*event.Event
	Match  bool // single-event rules
	Count  int  // stateful rules: findings expected
	Line   int  // where the test is in the rule file
}
