package rule

import (
	"slices"
	"strings"

	"github.com/spoor-dfir/spoor/internal/event"
)

// Pass reports whether ev gets past the pre-filter: each non-empty list
// must contain the event's value (channels compared case-insensitively).
func (f *Filter) Pass(ev *event.Event) bool {
	return f.PassKey(ev.Source, ev.EventID, ev.Channel)
}

// PassKey is Pass on an event's source, event id and channel alone (all
// the filter reads).
func (f *Filter) PassKey(source string, eventID int32, channel string) bool {
	if len(f.EventIDs) > 0 {
		ok := false
		for _, id := range f.EventIDs {
			if id == eventID {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.Sources) > 0 {
		ok := false
		for _, s := range f.Sources {
			if s == source {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.Channels) > 0 {
		ok := false
		for _, c := range f.Channels {
			if strings.EqualFold(c, channel) {
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

// Empty reports whether the filter lets every event through.
func (f *Filter) Empty() bool {
	return len(f.EventIDs) == 0 && len(f.Sources) == 0 && len(f.Channels) == 0
}

// EvaluateE is Evaluate that also says whether the condition failed at
// run time (the answer is then false), for callers that remember answers
// and must not remember a failure.
func EvaluateE(r *Rule, ev *event.Event) (bool, error) {
	if !r.Filter.Pass(ev) || r.guard != nil && !r.guard(ev) {
		return false, nil
	}
	if r.prog != nil {
		return r.prog.Eval(ev)
	}
	return r.Match == nil || r.Match(ev), nil
}

// Guarded reports whether ev passes r's guards (true when r has none):
// a function of ev's event id and the string columns the guards name
// (see Guard), so a hunt may remember it per tuple of those values.
func Guarded(r *Rule, ev *event.Event) bool { return r.guard == nil || r.guard(ev) }

// EvaluateGuarded is Evaluate for an event known to pass r's guards
// (Guarded): they are not tested again.
func EvaluateGuarded(r *Rule, ev *event.Event) bool {
	return r.Filter.Pass(ev) && (r.Match == nil || r.Match(ev))
}

// GuardColumns are the columns r's guards read beside the event id; ok
// is false when r has no guards.
func GuardColumns(r *Rule) (cols []string, ok bool) {
	if r.guard == nil {
		return nil, false
	}
	for _, g := range r.Guards {
		for _, grp := range g.Requires {
			for _, n := range grp {
				if !slices.Contains(cols, n.Column) {
					cols = append(cols, n.Column)
				}
			}
		}
	}
	return cols, true
}

// Evaluate runs the filter and the single-event match of r on ev, as the
// hunt does.
func Evaluate(r *Rule, ev *event.Event) bool {
	if !r.Filter.Pass(ev) || r.guard != nil && !r.guard(ev) {
		return false
	}
	return r.Match == nil || r.Match(ev)
}

// UserOf picks the identity a finding is about: the target user, else
// the acting user, else the RMM operator.
func UserOf(ev *event.Event) string {
	switch {
	case ev.User != "":
		return ev.User
	case ev.SubjectUser != "":
		return ev.SubjectUser
	default:
		return ev.Operator
	}
}

// NewFinding builds the finding of a single-event rule for one matching
// event. Its ID is left empty: the hunt assigns stable IDs.
func NewFinding(r *Rule, ev *event.Event) event.Finding {
	return NewFindingWith(r, ev, SummaryOf(r, ev), Reason(r))
}

// SummaryOf renders the summary of r's finding on ev: its Summary, or
// its title when it has none.
func SummaryOf(r *Rule, ev *event.Event) string {
	if r.Summary != nil {
		return r.Summary(ev)
	}
	return r.Title
}

// NewFindingWith is NewFinding with the summary already rendered (by a
// matcher that evaluates many rules at once and renders it as the rule's
// Summary would) and the rule's Reason worked out once for all its
// findings.
func NewFindingWith(r *Rule, ev *event.Event, summary, reason string) event.Finding {
	return event.Finding{
		Time:      ev.Time,
		End:       ev.Time,
		RuleID:    r.ID,
		Title:     r.Title,
		Severity:  r.Severity,
		Tags:      slices.Clip(r.Tags), // shared: nothing changes a finding's tags in place
		Host:      ev.Host,
		User:      UserOf(ev),
		Summary:   summary,
		Reason:    reason,
		Analyzer:  "rule",
		SessionID: ev.SessionID,
		Refs:      []event.Ref{event.RefOf(ev)},
	}
}

// Reason is the explanation a rule's findings carry: its description (or
// title) and, for third-party rules, author, source and licence.
func Reason(r *Rule) string {
	d := strings.TrimSpace(r.Description)
	if d == "" {
		d = r.Title
	}
	if r.Author != "" {
		// Third-party rules name their authors wherever they fire (the
		// SigmaHQ rules' licence, DRL 1.1, asks for it).
		d += " (rule by " + r.Author
		if r.Source != "" {
			d += ", " + r.Source
		}
		if r.License != "" {
			d += ", " + r.License
		}
		d += ")"
	}
	return d
}
