package rule

import (
	"slices"
	"strconv"

	"github.com/expr-lang/expr/ast"

	"github.com/spoor-dfir/spoor/internal/asciifold"
	"github.com/spoor-dfir/spoor/internal/event"
)

// A rule whose condition is a disjunction of cases, each about certain
// event ids or needing a command line (defender-disabled: "Defender
// 5001/5010/5012, or Sysmon 13 on a Defender key, or a command that…")
// has no pre-filter, so without more it would be run on every event of
// a hunt. Its guards say when it can hold at all, read from the
// condition's structure: the hunt then runs it only on events some guard
// lets through, and decodes rows for it only where one can.

// Guard is one case of a condition: the event ids it is about (nil: any)
// and groups of tests on string columns of which at least one each must
// hold. A condition with guards can hold only for an event that some
// guard lets through.
type Guard struct {
	EventIDs []int32
	Requires [][]Need
}

// Need is a test on a string column: it holds a value (Text ""), or one
// that contains Text, ASCII letters folded (as icontains compares; a
// case-sensitive `contains` implies it too).
type Need struct {
	Column string
	Text   string
}

func (n Need) String() string {
	if n.Text == "" {
		return n.Column
	}
	return n.Column + "~" + strconv.Quote(n.Text)
}

// maxGuards bounds the cases worked out for one condition; past it the
// condition is taken as unguarded (the guards only ever skip work).
const maxGuards = 16

// guardsOf reads the guards of a boolean expression: nil when some case
// of it may hold for any event. It over-approximates where the condition
// holds: `event_id == N` and `event_id in [...]` restrict the ids,
// `col != ""` a column, `||` joins cases and `&&` combines them;
// anything else says nothing (any event).
func guardsOf(n ast.Node) []Guard {
	for {
		v, ok := n.(*ast.VariableDeclaratorNode)
		if !ok {
			break
		}
		n = v.Expr
	}
	gs := guardsOfNode(n)
	for _, g := range gs {
		if g.EventIDs == nil && len(g.Requires) == 0 {
			return nil
		}
	}
	return gs
}

// guardsOfNode returns the cases of n; nil (not an empty list) means
// unconstrained.
func guardsOfNode(n ast.Node) []Guard {
	switch x := n.(type) {
	case *ast.BinaryNode:
		switch x.Operator {
		case "||", "or":
			l, r := guardsOfNode(x.Left), guardsOfNode(x.Right)
			if l == nil || r == nil {
				return nil
			}
			if a, b := oneGroup(l), oneGroup(r); a != nil && b != nil {
				// Tests on columns alone join into one group: "a holds
				// x or b holds y" is one requirement, not two cases.
				return []Guard{{Requires: [][]Need{append(slices.Clip(a), b...)}}}
			}
			if len(l)+len(r) > maxGuards {
				return nil
			}
			return append(slices.Clip(l), r...)
		case "&&", "and":
			return andGuards(guardsOfNode(x.Left), guardsOfNode(x.Right))
		case "==":
			if ids, ok := eventIDs(x.Left, x.Right); ok {
				return []Guard{{EventIDs: ids}}
			}
			if ids, ok := eventIDs(x.Right, x.Left); ok {
				return []Guard{{EventIDs: ids}}
			}
		case "in":
			if ids, ok := eventIDs(x.Left, x.Right); ok {
				return []Guard{{EventIDs: ids}}
			}
		case "!=":
			if g := nonEmptyAny(x); g != nil {
				return needs(g, []string{""})
			}
		case "contains":
			if col, ok := stringColumn(x.Left); ok {
				// Case-sensitive: implies the folded test for ASCII text.
				if s, ok := x.Right.(*ast.StringNode); ok && s.Value != "" && asciifold.IsASCII(s.Value) {
					return needs([]string{col}, []string{s.Value})
				}
			}
		}
	case *ast.CallNode:
		id, ok := x.Callee.(*ast.IdentifierNode)
		if !ok || len(x.Arguments) != 2 {
			return nil
		}
		col, ok := stringColumn(x.Arguments[0])
		if !ok {
			return nil
		}
		switch id.Value {
		case "icontains":
			if s, ok := x.Arguments[1].(*ast.StringNode); ok && s.Value != "" {
				return needs([]string{col}, []string{s.Value})
			}
		case "contains_any":
			if texts, ok := constStrings(x.Arguments[1]); ok {
				return needs([]string{col}, texts)
			}
		}
	}
	return nil
}

// needs is one guard of one group: each column holding one of texts.
func needs(cols, texts []string) []Guard {
	var g []Need
	for _, c := range cols {
		for _, t := range texts {
			g = append(g, Need{Column: c, Text: t})
		}
	}
	return []Guard{{Requires: [][]Need{g}}}
}

// oneGroup returns the tests of guards that are one group on columns
// alone (no ids), else nil.
func oneGroup(gs []Guard) []Need {
	if len(gs) != 1 || gs[0].EventIDs != nil || len(gs[0].Requires) != 1 {
		return nil
	}
	return gs[0].Requires[0]
}

// stringColumn reads a string column variable (its store column).
func stringColumn(n ast.Node) (string, bool) {
	id, ok := n.(*ast.IdentifierNode)
	if !ok || !stringVar[id.Value] {
		return "", false
	}
	return columnOf[id.Value], true
}

// constStrings reads a constant list of non-empty strings (an empty
// needle would match anything).
func constStrings(n ast.Node) ([]string, bool) {
	var out []string
	switch x := n.(type) {
	case *ast.ArrayNode:
		for _, e := range x.Nodes {
			s, ok := e.(*ast.StringNode)
			if !ok || s.Value == "" {
				return nil, false
			}
			out = append(out, s.Value)
		}
	case *ast.ConstantNode:
		switch vs := x.Value.(type) {
		case []any:
			for _, e := range vs {
				s, ok := e.(string)
				if !ok || s == "" {
					return nil, false
				}
				out = append(out, s)
			}
		case []string:
			for _, s := range vs {
				if s == "" {
					return nil, false
				}
				out = append(out, s)
			}
		default:
			return nil, false
		}
	default:
		return nil, false
	}
	return out, len(out) > 0
}

// andGuards combines the cases of a conjunction: each pair of cases
// holds together (ids intersected, requirements joined); a pair with no
// id in common drops out. Too many pairs: the side with fewer cases
// alone (still an over-approximation).
func andGuards(l, r []Guard) []Guard {
	switch {
	case l == nil:
		return r
	case r == nil:
		return l
	case len(l)*len(r) > maxGuards:
		if len(l) <= len(r) {
			return l
		}
		return r
	}
	out := []Guard{}
	for _, a := range l {
		for _, b := range r {
			g := Guard{Requires: append(slices.Clip(a.Requires), b.Requires...)}
			switch {
			case a.EventIDs == nil:
				g.EventIDs = b.EventIDs
			case b.EventIDs == nil:
				g.EventIDs = a.EventIDs
			default:
				g.EventIDs = []int32{}
				for _, id := range a.EventIDs {
					if slices.Contains(b.EventIDs, id) {
						g.EventIDs = append(g.EventIDs, id)
					}
				}
				if len(g.EventIDs) == 0 {
					continue // cannot hold: no event has two ids
				}
			}
			out = append(out, g)
		}
	}
	return out
}

// eventIDs reads `event_id` compared with an integer or a list of them.
func eventIDs(id, val ast.Node) ([]int32, bool) {
	v, ok := id.(*ast.IdentifierNode)
	if !ok || v.Value != "event_id" {
		return nil, false
	}
	switch x := val.(type) {
	case *ast.IntegerNode:
		return []int32{int32(x.Value)}, int(int32(x.Value)) == x.Value
	case *ast.ArrayNode:
		var out []int32
		for _, e := range x.Nodes {
			i, ok := e.(*ast.IntegerNode)
			if !ok || int(int32(i.Value)) != i.Value {
				return nil, false
			}
			out = append(out, int32(i.Value))
		}
		return out, len(out) > 0
	case *ast.ConstantNode:
		// The compiler folds a constant list into one constant.
		vs, ok := x.Value.([]any)
		if !ok {
			return nil, false
		}
		var out []int32
		for _, e := range vs {
			i, ok := e.(int)
			if !ok || int(int32(i)) != i {
				return nil, false
			}
			out = append(out, int32(i))
		}
		return out, len(out) > 0
	}
	return nil, false
}

// guardFunc compiles guards into one test; nil when there are none (every
// event may match).
func guardFunc(gs []Guard) func(*event.Event) bool {
	if len(gs) == 0 {
		return nil
	}
	type cguard struct {
		ids  []int32
		reqs [][]func(*event.Event) bool
	}
	cs := make([]cguard, len(gs))
	for i, g := range gs {
		cs[i].ids = g.EventIDs
		for _, grp := range g.Requires {
			var fs []func(*event.Event) bool
			for _, n := range grp {
				f := needFunc(n)
				if f == nil {
					fs = nil // a column we cannot read: no requirement
					break
				}
				fs = append(fs, f)
			}
			if fs != nil {
				cs[i].reqs = append(cs[i].reqs, fs)
			}
		}
	}
	return func(ev *event.Event) bool {
	next:
		for i := range cs {
			c := &cs[i]
			if c.ids != nil && !slices.Contains(c.ids, ev.EventID) {
				continue
			}
			for _, grp := range c.reqs {
				ok := false
				for _, f := range grp {
					if f(ev) {
						ok = true
						break
					}
				}
				if !ok {
					continue next
				}
			}
			return true
		}
		return false
	}
}

// needFunc compiles one test; nil for a column it cannot read.
func needFunc(n Need) func(*event.Event) bool {
	get := stringGetter(n.Column)
	if get == nil {
		return nil
	}
	if n.Text == "" {
		return func(ev *event.Event) bool { return get(ev) != "" }
	}
	return func(ev *event.Event) bool { return asciifold.Contains(get(ev), n.Text) }
}

// stringGetter reads a string column of an event.
func stringGetter(name string) func(*event.Event) string {
	if name == "source" {
		return func(ev *event.Event) string { return ev.Source }
	}
	i, ok := event.ColumnIndex(name)
	if !ok || event.Columns[i].Kind != event.KindString {
		return nil
	}
	get := event.Columns[i].Get
	return func(ev *event.Event) string { return get(ev).Str }
}
