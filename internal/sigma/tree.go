package sigma

import (
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spoor-dfir/spoor/internal/asciifold"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
	"go.yaml.in/yaml/v3"
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
	// pre, for a general leaf: lower-case strings of which the field's
	// value (ASCII letters folded) holds one whenever gen holds (the
	// empty string: a non-ASCII byte); nil when there is no such set.
	pre []string
	// opaque: gen may read more of the event than field (and ref).
	opaque bool
	// ref, for a fieldref leaf, is the field it compares with, read as
	// refNames says per source (as names for field).
	ref      string
	refNames []string
}

// refName is the raw field a fieldref leaf compares with for an event of
// source src.
func (n *node) refName(src int) string { return nameAt(n.refNames, src, n.ref) }

// Literal operations: the whole value, its start, its end, anywhere.
const (
	opEq       = '='
	opPrefix   = '^'
	opSuffix   = '$'
	opContains = '~'
	opNonASCII = '8' // prefilters only: the value has a byte >= 0x80
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
	title   string
	sumKeys []sumKey
	filters []string // the filters joined to the rule: file:line title
}

// Filters names the Sigma filters joined to a compiled Sigma rule
// ("file:line title"), so that tools reading the rule's own YAML (the
// SQL export) know it is not the whole rule.
func Filters(r *rule.Rule) []string {
	if d, ok := r.Detection.(*detection); ok {
		return d.filters
	}
	return nil
}

func join(k nodeKind, kids []*node) *node {
	if len(kids) == 1 {
		return kids[0]
	}
	return &node{kind: k, kids: kids}
}

// rawName is the raw field a literal leaf reads for an event of source src.
func (n *node) rawName(src int) string { return nameAt(n.names, src, n.field) }

// rawNames is the raw field name a Sigma field has in each source: the
// source's rename, or the name itself.
func (c *compiler) rawNames(field string) []string {
	var names []string
	for _, s := range c.sources {
		raw, ok := s.Fields[field]
		if !ok {
			raw = field
		}
		names = append(names, raw)
	}
	return names
}

// nameAt is names[src], the raw name for source src, or name when src is
// no source's (the rule is not narrowed to sources).
func nameAt(names []string, src int, name string) string {
	if src >= 0 && src < len(names) {
		return names[src]
	}
	return name
}

// fieldNode is the tree form of "field|mods: values", whose predicate p
// fieldPred built: literal leaves where every value is literal (see
// literalPats), else one general leaf running p.
func (c *compiler) fieldNode(fieldName string, modNames []string, v *yaml.Node, p pred) *node {
	m, err := parseModifiers(modNames)
	if err != nil {
		return &node{kind: nLeaf, gen: p, opaque: true}
	}
	if fieldName == "" && m.op == "" {
		// Keywords: substrings of any raw value (fieldPred does the same).
		m.op = "contains"
	}
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	vals := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		vals = v.Content
	}
	names := c.rawNames(fieldName)
	// Values a source writes differently are matched by p alone: the
	// field's raw text need not hold the rule's literal.
	mapped := c.valueMapped(fieldName)
	if !mapped {
		if lit := c.literalNode(fieldName, names, m, vals); lit != nil {
			return lit
		}
	}
	// Keywords read every value; fieldref reads a second field, named by
	// its one value (more values: read as opaque).
	opaque := fieldName == ""
	var ref string
	var refNames []string
	if strings.HasPrefix(m.op, "fieldref") {
		if len(vals) == 1 && vals[0].Kind == yaml.ScalarNode && vals[0].Value != "" {
			ref = vals[0].Value
			refNames = c.rawNames(ref)
		} else {
			opaque = true
		}
	}
	var pre []string
	if !mapped {
		pre = prefilter(m, vals)
	}
	return &node{kind: nLeaf, gen: p, field: fieldName, names: names, pre: pre, opaque: opaque, ref: ref, refNames: refNames}
}

// literalNode is the tree of literal leaves for the values, or nil when
// some value is not literal.
func (c *compiler) literalNode(fieldName string, names []string, m modifiers, vals []*yaml.Node) *node {
	if m.expand || m.cased || m.neq || m.timePart != "" {
		return nil
	}
	if fieldName == "" && m.op != "contains" {
		return nil
	}
	switch m.op {
	case "", "contains", "startswith", "endswith":
	default:
		return nil
	}
	var leaves []*node
	for _, n := range vals {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return nil
		}
		lits, ok := literalPats(n.Value, m)
		if !ok {
			return nil
		}
		leaves = append(leaves, &node{kind: nLeaf, field: fieldName, names: names, lits: lits})
	}
	if len(leaves) == 0 {
		return nil
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
		toks = squashStars(withOp(toks, m.op))
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

// prefilter returns strings of which a value matching any of vals under
// m must contain one (ASCII letters folded), or nil when some value has
// none: the literal run of a wildcard pattern, a literal a regular
// expression requires. Null (a missing field) and the non-string
// operations have none.
func prefilter(m modifiers, vals []*yaml.Node) []string {
	if m.expand || m.neq || m.timePart != "" {
		// A negation holds on values without the literal; a date part
		// is not a substring of the date.
		return nil
	}
	var out []string
	for _, n := range vals {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return nil
		}
		var ps []string
		switch m.op {
		case "re":
			flags := ""
			for _, f := range "ims" {
				if strings.ContainsRune(m.reFlags, f) {
					flags += string(f)
				}
			}
			pat := n.Value
			if flags != "" {
				pat = "(?" + flags + ")" + pat
			}
			ps = regexLits(pat)
		case "", "contains", "startswith", "endswith":
			ps = globLits(n.Value, m)
		}
		if ps == nil {
			return nil
		}
		out = append(out, ps...)
		if m.all {
			// Every value must match: one value's strings suffice.
			return out
		}
	}
	return out
}

// globLits returns, per encoding variant of a wildcard pattern, its
// longest literal run, as compileString will compare it.
func globLits(raw string, m modifiers) []string {
	variants := [][]token{parsePattern(raw)}
	for _, t := range m.transforms {
		var next [][]token
		for _, toks := range variants {
			out, err := transform(t, toks)
			if err != nil {
				return nil
			}
			next = append(next, out...)
		}
		variants = next
	}
	var out []string
	for _, toks := range variants {
		best := ""
		ascii := true
		for _, t := range toks {
			if t.kind != 'l' {
				continue
			}
			ascii = ascii && asciiFold(strings.ToLower(t.lit))
			if len(t.lit) > len(best) {
				best = t.lit
			}
		}
		switch {
		case !m.cased && !ascii:
			// Case-insensitive, with a letter ASCII folding does not
			// cover: the value is compared lower-cased in full, which
			// may turn non-ASCII letters into ASCII ones (the Kelvin
			// sign), so no run of the pattern is required as it is. But
			// a non-ASCII letter lower-cases to a non-ASCII one, and
			// only from one: the value must hold a non-ASCII byte.
			out = append(out, nonASCII)
		case best == "":
			return nil
		default:
			out = append(out, asciiLower(best))
		}
	}
	return out
}

// nonASCII, among prefilter strings, stands for "a byte >= 0x80".
const nonASCII = ""

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = asciifold.Lower(c)
	}
	return string(b)
}

// regexLits returns strings of which every match of pat contains one,
// or nil. Under case folding a letter also matches its Unicode case
// variants (k: the Kelvin sign, s: the long s), so only runs of other
// letters and caseless characters are used.
func regexLits(pat string) []string {
	re, err := syntax.Parse(pat, syntax.Perl)
	if err != nil {
		return nil
	}
	return required(re.Simplify())
}

func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			if s := string(re.Rune); len(s) >= 2 {
				return []string{asciiLower(s)}
			}
			return nil
		}
		best, cur := "", []rune{}
		flush := func() {
			if s := string(cur); len(s) > len(best) {
				best = s
			}
			cur = cur[:0]
		}
		for _, r := range re.Rune {
			l := unicode.ToLower(r)
			if l == 'k' || l == 's' || r >= utf8.RuneSelf && unicode.SimpleFold(r) != r {
				flush()
				continue
			}
			cur = append(cur, l)
		}
		flush()
		if len(best) >= 2 {
			return []string{asciiLower(best)}
		}
		return nil
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
		return nil
	case syntax.OpConcat:
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			ps := required(sub)
			if ps == nil {
				continue
			}
			short := 1 << 30
			for _, p := range ps {
				short = min(short, len(p))
			}
			if short > bestLen {
				best, bestLen = ps, short
			}
		}
		return best
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			ps := required(sub)
			if ps == nil {
				return nil
			}
			out = append(out, ps...)
		}
		return out
	}
	return nil
}
