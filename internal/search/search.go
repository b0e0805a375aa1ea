// Package search finds stored events by keyword or regular expression in
// any column or raw field (spoor search): the investigator's first move
// with an indicator in hand — an address, an account, a file name, a hash.
package search

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

// Options say how terms match.
type Options struct {
	Regex         bool // terms are RE2 regular expressions, not literal text
	CaseSensitive bool // literal terms and regexes match case-sensitively
	All           bool // every term must match (somewhere in the event); default: any term
	Limit         int  // stop after this many matches (0: no limit)
	// Progress is told after each part file how many of how many are
	// done; nil is allowed.
	Progress func(done, total int)
}

// Matcher decides whether an event contains the terms.
type Matcher struct {
	res []*regexp.Regexp
	all bool
}

// NewMatcher compiles the terms. A literal term matches as a substring.
func NewMatcher(terms []string, o Options) (*Matcher, error) {
	if len(terms) == 0 {
		return nil, errors.New("no search term")
	}
	m := &Matcher{all: o.All}
	for _, t := range terms {
		if t == "" {
			return nil, errors.New("empty search term")
		}
		p := t
		if !o.Regex {
			p = regexp.QuoteMeta(t)
		}
		if !o.CaseSensitive {
			p = "(?i)" + p
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("term %q: %v", t, err)
		}
		m.res = append(m.res, re)
	}
	return m, nil
}

// columns lists the event's typed values as text: source and every
// column of event.Columns but time and offset, numbers as decimals (so
// "4624" finds the event id and "3389" a port); NULL is "".
func columns(ev *event.Event) []string {
	out := make([]string, 0, len(event.Columns)+1)
	out = append(out, ev.Source)
	for i := range event.Columns {
		c := &event.Columns[i]
		if c.Name != "time" && c.Name != "offset" {
			out = append(out, c.Text(ev))
		}
	}
	return out
}

// walk calls fn with every leaf value of the raw fields as text, nested
// structures included, and stops when fn returns true.
func walk(v any, fn func(string) bool) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return fn(x)
	case *ordereddict.Dict:
		for _, it := range x.Items() {
			if walk(it.Value, fn) {
				return true
			}
		}
		return false
	case []any:
		for _, e := range x {
			if walk(e, fn) {
				return true
			}
		}
		return false
	default:
		return fn(fmt.Sprint(x))
	}
}

// Match reports whether ev contains the terms (any, or all with
// Options.All), in a column or a raw field. It decodes the raw fields
// only when the typed columns did not already decide.
func (m *Matcher) Match(ev *event.Event) bool {
	cols := columns(ev)
	hit := make([]bool, len(m.res))
	left := len(m.res)
	check := func(s string) bool {
		if s == "" {
			return false
		}
		for i, re := range m.res {
			if !hit[i] && re.MatchString(s) {
				hit[i] = true
				left--
				if !m.all || left == 0 {
					return true
				}
			}
		}
		return false
	}
	for _, c := range cols {
		if check(c) {
			return true
		}
	}
	if d := ev.FieldDict(); d != nil {
		if walk(d, check) {
			return true
		}
	}
	return false
}

// Run scans the store and returns the matching events in time order
// (then source, evidence and offset, so the order is total and the output
// the same on every run), each with its raw fields decoded. truncated is
// true when Options.Limit stopped the scan early.
func Run(ctx context.Context, st *store.Store, m *Matcher, o Options) (out []event.Event, truncated bool, err error) {
	errLimit := errors.New("limit")
	sel := func(*store.RowKey) store.Want { return store.Want{Cols: store.AllColumns} }
	_, err = st.ScanSelectProgress(ctx, store.ScanOptions{}, sel, func(ev *event.Event) error {
		if !m.Match(ev) {
			return nil
		}
		cp := *ev
		cp.Fields = ev.FieldDict()
		cp.RawFields = ""
		out = append(out, cp)
		if o.Limit > 0 && len(out) >= o.Limit {
			return errLimit
		}
		return nil
	}, o.Progress)
	if errors.Is(err, errLimit) {
		truncated, err = true, nil
	}
	if err != nil {
		return nil, false, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Evidence != b.Evidence {
			return a.Evidence < b.Evidence
		}
		return a.Offset < b.Offset
	})
	return out, truncated, nil
}
