package sigma

import (
	"fmt"
	"path"
	"strings"

	"github.com/spoor-dfir/spoor/internal/event"
)

// condParser parses a Sigma condition over the named search identifiers.
// Grammar (lowest precedence first):
//
//	expr    = and { "or" and }
//	and     = not { "and" not }
//	not     = "not" not | primary
//	primary = "(" expr ")" | ("1"|"any"|"all") "of" name | name
//
// where name may contain * wildcards and "them" stands for every
// identifier not starting with "_".
type condParser struct {
	toks []string
	pos  int
	sels map[string]sel
	used map[string]bool
}

// sel is a compiled search identifier: the straightforward evaluator's
// predicate and the tree the compiled rule set evaluates.
type sel struct {
	p pred
	n *node
}

func tokenizeCond(s string) []string {
	var toks []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '|':
			flush()
			toks = append(toks, string(r))
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return toks
}

func parseCondition(s string, sels map[string]sel) (sel, map[string]bool, error) {
	p := &condParser{toks: tokenizeCond(s), sels: sels, used: map[string]bool{}}
	if len(p.toks) == 0 {
		return sel{}, nil, fmt.Errorf("empty condition")
	}
	for _, t := range p.toks {
		if t == "|" {
			return sel{}, nil, fmt.Errorf("condition %q: aggregations (| count() …) are the deprecated Sigma 1 form and are not supported; write a correlation rule", s)
		}
	}
	e, err := p.expr()
	if err != nil {
		return sel{}, nil, fmt.Errorf("condition %q: %v", s, err)
	}
	if p.pos < len(p.toks) {
		return sel{}, nil, fmt.Errorf("condition %q: unexpected %q", s, p.toks[p.pos])
	}
	return e, p.used, nil
}

// anySel and allSel combine identifiers in both forms.
func anySel(ss []sel) sel {
	ps, ns := split(ss)
	return sel{anyOf(ps), join(nOr, ns)}
}

func allSel(ss []sel) sel {
	ps, ns := split(ss)
	return sel{allOf(ps), join(nAnd, ns)}
}

func split(ss []sel) ([]pred, []*node) {
	ps := make([]pred, len(ss))
	ns := make([]*node, len(ss))
	for i, s := range ss {
		ps[i], ns[i] = s.p, s.n
	}
	return ps, ns
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *condParser) is(word string) bool { return strings.EqualFold(p.peek(), word) }

func (p *condParser) expr() (sel, error) {
	l, err := p.and()
	if err != nil {
		return sel{}, err
	}
	ors := []sel{l}
	for p.is("or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return sel{}, err
		}
		ors = append(ors, r)
	}
	return anySel(ors), nil
}

func (p *condParser) and() (sel, error) {
	l, err := p.not()
	if err != nil {
		return sel{}, err
	}
	ands := []sel{l}
	for p.is("and") {
		p.pos++
		r, err := p.not()
		if err != nil {
			return sel{}, err
		}
		ands = append(ands, r)
	}
	return allSel(ands), nil
}

func (p *condParser) not() (sel, error) {
	if p.is("not") {
		p.pos++
		x, err := p.not()
		if err != nil {
			return sel{}, err
		}
		return sel{func(ev *event.Event, src int) bool { return !x.p(ev, src) }, &node{kind: nNot, kids: []*node{x.n}}}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (sel, error) {
	t := p.peek()
	switch {
	case t == "":
		return sel{}, fmt.Errorf("unexpected end")
	case t == "(":
		p.pos++
		e, err := p.expr()
		if err != nil {
			return sel{}, err
		}
		if p.peek() != ")" {
			return sel{}, fmt.Errorf("missing )")
		}
		p.pos++
		return e, nil
	case t == ")":
		return sel{}, fmt.Errorf("unexpected )")
	case strings.EqualFold(t, "and") || strings.EqualFold(t, "or"):
		return sel{}, fmt.Errorf("unexpected %q", t)
	}
	if p.pos+1 < len(p.toks) && strings.EqualFold(p.toks[p.pos+1], "of") {
		q := strings.ToLower(t)
		if q != "1" && q != "any" && q != "all" {
			return sel{}, fmt.Errorf("unsupported quantifier %q (use 1 of or all of)", t)
		}
		if p.pos+2 >= len(p.toks) {
			return sel{}, fmt.Errorf("%s of: missing identifier", t)
		}
		target := p.toks[p.pos+2]
		p.pos += 3
		names, err := p.resolve(target)
		if err != nil {
			return sel{}, err
		}
		ss := make([]sel, len(names))
		for i, n := range names {
			ss[i] = p.sels[n]
		}
		if q == "all" {
			return allSel(ss), nil
		}
		return anySel(ss), nil
	}
	p.pos++
	s, ok := p.sels[t]
	if !ok {
		return sel{}, fmt.Errorf("unknown search identifier %q", t)
	}
	p.used[t] = true
	return s, nil
}

// resolve expands "them" or a wildcard name to the sorted identifiers it
// stands for.
func (p *condParser) resolve(target string) ([]string, error) {
	var names []string
	for _, n := range sortedKeys(p.sels) {
		if target == "them" {
			if !strings.HasPrefix(n, "_") {
				names = append(names, n)
			}
			continue
		}
		if ok, _ := path.Match(target, n); ok {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%q matches no search identifier", target)
	}
	for _, n := range names {
		p.used[n] = true
	}
	return names, nil
}
