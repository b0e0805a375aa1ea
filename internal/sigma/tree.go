package sigma

import (
	"strings"

	"github.com/spoor-dfir/spoor/internal/event"
	"gopkg.in/yaml.v3"
)

// A detection is also kept as a tree, for the compiled rule set (set.go):
// and/or/not over leaves. A leaf is either literal — the field is present
// and its value, ASCII letters folded, equals, starts with, ends with or
// contains one of a few lower-case strings — so the set can find it for
// all rules at once with one automaton per field, or general, and then it
// is the straightforward evaluator's own predicate.

type nodeKind uint8

const (
	nAnd nodeKind = iota
	nOr
	nNot
	nLeaf
)

type node struct {
	kind nodeKind
	kids []*node
	// Leaves: lits non-nil for a literal leaf on field (a Sigma name,
	// renamed per logsource source by names; "" for keywords, which look
	// in every raw value and the message); gen otherwise.
	field string
	names []string // per source: the raw field name field reads
	lits  []litPat
	gen   pred
}

// Literal operations: the whole value, its start, its end, anywhere.
const (
	opEq       = '='
	opPrefix   = '^'
	opSuffix   = '$'
	opContains = '~'
)

// litPat is one literal pattern: lower-case, ASCII folding exact for it.
type litPat struct {
	op  byte
	pat string
}

// detection is what a compiled Sigma rule keeps for the rule set.
type detection struct {
	root    *node
	sources []Source
	srcOf   func(ev *event.Event) int
}

func join(k nodeKind, kids []*node) *node {
	if len(kids) == 1 {
		return kids[0]
	}
	return &node{kind: k, kids: kids}
}

// rawName is the raw field a literal leaf reads for an event of source src.
func (n *node) rawName(src int) string {
	if src >= 0 && src < len(n.names) {
		return n.names[src]
	}
	return n.field
}

// fieldNode is the tree form of "field|mods: values", whose predicate p
// fieldPred built: literal leaves where every value is literal (see
// literalPats), else one general leaf running p.
func (c *compiler) fieldNode(fieldName string, modNames []string, v *yaml.Node, p pred) *node {
	gen := &node{kind: nLeaf, gen: p}
	m, err := parseModifiers(modNames)
	if err != nil || m.expand || m.cased {
		return gen
	}
	if fieldName == "" {
		if m.op != "" && m.op != "contains" {
			return gen
		}
		// Keywords: substrings of any raw value (fieldPred does the same).
		m.op = "contains"
	}
	switch m.op {
	case "", "contains", "startswith", "endswith":
	default:
		return gen
	}
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	vals := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		vals = v.Content
	}
	var names []string
	for _, s := range c.sources {
		raw, ok := s.Fields[fieldName]
		if !ok {
			raw = fieldName
		}
		names = append(names, raw)
	}
	var leaves []*node
	for _, n := range vals {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return gen
		}
		lits, ok := literalPats(n.Value, m)
		if !ok {
			return gen
		}
		leaves = append(leaves, &node{kind: nLeaf, field: fieldName, names: names, lits: lits})
	}
	if len(leaves) == 0 {
		return gen
	}
	if m.all {
		return join(nAnd, leaves)
	}
	return join(nOr, leaves)
}

// literalPats returns the literal patterns one value stands for under m
// (one per encoding variant), or false when the value is not literal:
// wildcards inside, an empty pattern (which also matches a missing
// field), or a letter ASCII folding does not cover. It follows valueOne
// and compileString step by step, so a literal leaf holds exactly when
// their matcher does.
func literalPats(raw string, m modifiers) ([]litPat, bool) {
	variants := [][]token{parsePattern(raw)}
	for _, t := range m.transforms {
		var next [][]token
		for _, toks := range variants {
			out, err := transform(t, toks)
			if err != nil {
				return nil, false
			}
			next = append(next, out...)
		}
		variants = next
	}
	var out []litPat
	for _, toks := range variants {
		switch m.op {
		case "contains":
			toks = append(append([]token{{kind: '*'}}, toks...), token{kind: '*'})
		case "startswith":
			toks = append(append([]token(nil), toks...), token{kind: '*'})
		case "endswith":
			toks = append([]token{{kind: '*'}}, toks...)
		}
		toks = squashStars(toks)
		var lp litPat
		switch n := len(toks); {
		case n == 0:
			return nil, false
		case n == 1 && toks[0].kind == 'l':
			lp = litPat{opEq, toks[0].lit}
		case n == 2 && toks[0].kind == 'l' && toks[1].kind == '*':
			lp = litPat{opPrefix, toks[0].lit}
		case n == 2 && toks[0].kind == '*' && toks[1].kind == 'l':
			lp = litPat{opSuffix, toks[1].lit}
		case n == 3 && toks[0].kind == '*' && toks[1].kind == 'l' && toks[2].kind == '*':
			lp = litPat{opContains, toks[1].lit}
		default:
			return nil, false
		}
		lp.pat = strings.ToLower(lp.pat)
		if lp.pat == "" || !asciiFold(lp.pat) {
			return nil, false
		}
		out = append(out, lp)
	}
	return out, len(out) > 0
}
