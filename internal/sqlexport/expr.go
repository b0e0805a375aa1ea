package sqlexport

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// typ is the SQL type of a compiled sub-expression.
type typ int

const (
	tBool typ = iota
	tStr
	tInt
	tTime
	tList
)

// val is a compiled sub-expression. Lists stay Go values (they are only
// ever constant arguments: `x in [...]`, contains_any).
type val struct {
	sql  string
	t    typ
	list []any
	lit  *string // the value, when it is a string constant
}

// unsupported is why a rule has no faithful SQL form.
type unsupported struct{ why string }

func (u *unsupported) Error() string { return u.why }

func unsup(format string, args ...any) error {
	return &unsupported{fmt.Sprintf(format, args...)}
}

// column is a store column as a condition reads it.
type column struct {
	col      string
	t        typ
	nullable bool
}

// columns are the condition variables that are store columns (the
// rule variables of event.Columns, and source), with their types.
var columns = func() map[string]column {
	m := map[string]column{"source": {"source", tStr, false}}
	for _, c := range event.Columns {
		t := tStr
		switch c.Kind {
		case event.KindTime:
			t = tTime
		case event.KindInt32, event.KindInt64:
			t = tInt
		}
		m[c.Var] = column{c.Name, t, c.Nullable}
	}
	return m
}()

// exprCompiler turns one spoor condition into a SQL predicate. Helpers
// that read the case (provider, business_hours, …) are compiled with the
// case's values in place, as spoor compiles them.
type exprCompiler struct {
	d     Dialect
	cfg   *caseconf.Config
	slots *slots
	vars  map[string]val
}

// compileCondition compiles an expr condition to a SQL boolean.
func compileCondition(d Dialect, cfg *caseconf.Config, sl *slots, src string) (string, error) {
	tree, err := parser.Parse(src)
	if err != nil {
		return "", err
	}
	c := &exprCompiler{d: d, cfg: cfg, slots: sl, vars: map[string]val{}}
	v, err := c.node(tree.Node)
	if err != nil {
		return "", err
	}
	if v.t != tBool {
		return "", unsup("the condition is not a boolean")
	}
	return v.sql, nil
}

func strVal(sql string) val  { return val{sql: sql, t: tStr} }
func boolVal(sql string) val { return val{sql: sql, t: tBool} }

func (c *exprCompiler) lit(s string) val {
	return val{sql: c.d.str(s), t: tStr, lit: &s}
}

func (c *exprCompiler) node(n ast.Node) (val, error) {
	switch x := n.(type) {
	case *ast.BoolNode:
		if x.Value {
			return boolVal("TRUE"), nil
		}
		return boolVal("FALSE"), nil
	case *ast.StringNode:
		return c.lit(x.Value), nil
	case *ast.IntegerNode:
		return val{sql: itoa(int64(x.Value)), t: tInt}, nil
	case *ast.ArrayNode:
		var l []any
		for _, e := range x.Nodes {
			switch k := e.(type) {
			case *ast.StringNode:
				l = append(l, k.Value)
			case *ast.IntegerNode:
				l = append(l, k.Value)
			default:
				return val{}, unsup("a list with a non-constant element")
			}
		}
		return val{t: tList, list: l}, nil
	case *ast.IdentifierNode:
		if v, ok := c.vars[x.Value]; ok {
			return v, nil
		}
		col, ok := columns[x.Value]
		if !ok {
			return val{}, unsup("variable %s", x.Value)
		}
		if col.t == tTime {
			return val{sql: c.d.timeCol(), t: tTime}, nil
		}
		sql := c.d.ident(col.col)
		if col.nullable {
			// A condition sees "" or 0 for NULL (as spoor's rule
			// environment does), so NOT and != behave the same.
			zero := "''"
			if col.t == tInt {
				zero = "0"
			}
			sql = "coalesce(" + sql + ", " + zero + ")"
		}
		return val{sql: sql, t: col.t}, nil
	case *ast.VariableDeclaratorNode:
		v, err := c.node(x.Value)
		if err != nil {
			return val{}, err
		}
		if v.t != tList {
			// Inline scalars in parentheses so precedence holds.
			v.sql = "(" + v.sql + ")"
		}
		old, had := c.vars[x.Name]
		c.vars[x.Name] = v
		out, err := c.node(x.Expr)
		if had {
			c.vars[x.Name] = old
		} else {
			delete(c.vars, x.Name)
		}
		return out, err
	case *ast.UnaryNode:
		v, err := c.node(x.Node)
		if err != nil {
			return val{}, err
		}
		switch x.Operator {
		case "!", "not":
			if v.t != tBool {
				return val{}, unsup("! of a non-boolean")
			}
			return boolVal("(NOT " + v.sql + ")"), nil
		case "-":
			if v.t != tInt {
				return val{}, unsup("- of a non-number")
			}
			return val{sql: "(-" + v.sql + ")", t: tInt}, nil
		}
		return val{}, unsup("operator %s", x.Operator)
	case *ast.BinaryNode:
		return c.binary(x)
	case *ast.ConditionalNode:
		cond, err := c.node(x.Cond)
		if err != nil {
			return val{}, err
		}
		a, err := c.node(x.Exp1)
		if err != nil {
			return val{}, err
		}
		b, err := c.node(x.Exp2)
		if err != nil {
			return val{}, err
		}
		if cond.t != tBool || a.t != b.t || a.t == tList {
			return val{}, unsup("a conditional of mixed types")
		}
		return val{sql: "(CASE WHEN " + cond.sql + " THEN " + a.sql + " ELSE " + b.sql + " END)", t: a.t}, nil
	case *ast.BuiltinNode:
		return c.call(x.Name, x.Arguments)
	case *ast.CallNode:
		id, ok := x.Callee.(*ast.IdentifierNode)
		if !ok {
			return val{}, unsup("a method call")
		}
		return c.call(id.Value, x.Arguments)
	}
	return val{}, unsup("expression %T", n)
}

func (c *exprCompiler) binary(x *ast.BinaryNode) (val, error) {
	l, err := c.node(x.Left)
	if err != nil {
		return val{}, err
	}
	r, err := c.node(x.Right)
	if err != nil {
		return val{}, err
	}
	op := x.Operator
	switch op {
	case "&&", "and", "||", "or":
		if l.t != tBool || r.t != tBool {
			return val{}, unsup("%s of non-booleans", op)
		}
		kw := " AND "
		if op == "||" || op == "or" {
			kw = " OR "
		}
		return boolVal("(" + l.sql + kw + r.sql + ")"), nil
	case "==", "!=":
		if l.t != r.t || l.t == tList || l.t == tTime {
			return val{}, unsup("%s between %v and %v", op, l.t, r.t)
		}
		sqlOp := " = "
		if op == "!=" {
			sqlOp = " <> "
		}
		return boolVal("(" + l.sql + sqlOp + r.sql + ")"), nil
	case "<", ">", "<=", ">=":
		if l.t != tInt || r.t != tInt {
			return val{}, unsup("%s on non-numbers", op)
		}
		return boolVal("(" + l.sql + " " + op + " " + r.sql + ")"), nil
	case "+":
		switch {
		case l.t == tStr && r.t == tStr:
			return strVal("(" + l.sql + " || " + r.sql + ")"), nil
		case l.t == tInt && r.t == tInt:
			return val{sql: "(" + l.sql + " + " + r.sql + ")", t: tInt}, nil
		}
		return val{}, unsup("+ of mixed types")
	case "in":
		if r.t != tList || (l.t != tStr && l.t != tInt) {
			return val{}, unsup("in without a constant list")
		}
		if len(r.list) == 0 {
			return boolVal("FALSE"), nil
		}
		var items []string
		for _, it := range r.list {
			switch v := it.(type) {
			case string:
				if l.t != tStr {
					return val{}, unsup("in: a string in a list of numbers")
				}
				items = append(items, c.d.str(v))
			case int:
				if l.t != tInt {
					return val{}, unsup("in: a number in a list of strings")
				}
				items = append(items, itoa(int64(v)))
			}
		}
		return boolVal("(" + l.sql + " IN (" + strings.Join(items, ", ") + "))"), nil
	case "contains", "startsWith", "endsWith":
		if l.t != tStr || r.t != tStr {
			return val{}, unsup("%s on non-strings", op)
		}
		return boolVal(c.strOp(op, l.sql, r.sql)), nil
	case "matches":
		if l.t != tStr || r.lit == nil {
			return val{}, unsup("matches without a constant pattern")
		}
		return c.regex(l.sql, *r.lit)
	}
	return val{}, unsup("operator %s", op)
}

// strOp is a case-sensitive contains/startsWith/endsWith of two strings.
func (c *exprCompiler) strOp(op, s, sub string) string {
	switch op {
	case "startsWith":
		return "(substr(" + s + ", 1, length(" + sub + ")) = " + sub + ")"
	case "endsWith":
		return "(length(" + s + ") >= length(" + sub + ") AND substr(" + s + ", length(" + s + ") - length(" + sub + ") + 1) = " + sub + ")"
	}
	return "(" + c.d.contains(s, sub) + ")"
}

// regex checks that the pattern means the same in the engines (RE2 syntax
// without the constructs Java and Joni read differently) and compiles it.
func (c *exprCompiler) regex(s, pattern string) (val, error) {
	if _, err := regexp.Compile(pattern); err != nil {
		return val{}, unsup("regular expression %q: %v", pattern, err)
	}
	if err := portableRegex(pattern); err != nil {
		return val{}, err
	}
	return boolVal(c.d.regex(s, pattern)), nil
}

// portableRegex rejects the regular-expression constructs whose meaning
// differs between Go's RE2 and the engines' (Java for Spark, Joni for
// Trino; DuckDB uses RE2): Unicode classes, POSIX classes, \Q…\E, \z,
// flags other than i, m and s, and character-class subtraction syntax.
func portableRegex(p string) error {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 < len(p) {
				switch p[i+1] {
				case 'p', 'P', 'Q', 'E', 'z', 'C':
					return unsup("regular expression %q uses \\%c", p, p[i+1])
				}
				i++
			}
		case '[':
			if strings.HasPrefix(p[i:], "[[:") || strings.HasPrefix(p[i:], "[^[:") {
				return unsup("regular expression %q uses a POSIX class", p)
			}
			if strings.Contains(p[i:], "&&") {
				return unsup("regular expression %q: && inside a class", p)
			}
		case '(':
			if strings.HasPrefix(p[i:], "(?") {
				j := i + 2
				for j < len(p) && strings.IndexByte("imsU-", p[j]) >= 0 {
					if p[j] == 'U' {
						return unsup("regular expression %q uses the U flag", p)
					}
					j++
				}
				if j < len(p) && p[j] == 'P' {
					return unsup("regular expression %q uses a named group", p)
				}
			}
		}
	}
	return nil
}

// call compiles a helper call.
func (c *exprCompiler) call(name string, args []ast.Node) (val, error) {
	vs := make([]val, len(args))
	for i, a := range args {
		v, err := c.node(a)
		if err != nil {
			return val{}, err
		}
		vs[i] = v
	}
	want := func(ts ...typ) error {
		if len(vs) != len(ts) {
			return unsup("%s with %d arguments", name, len(vs))
		}
		for i, t := range ts {
			if vs[i].t != t {
				return unsup("%s: argument %d of an unexpected type", name, i+1)
			}
		}
		return nil
	}
	switch name {
	case "field", "has_field":
		if err := want(tStr); err != nil {
			return val{}, err
		}
		if vs[0].lit == nil || strings.ContainsAny(*vs[0].lit, "\"'\\[]$") {
			return val{}, unsup("%s() of a computed or unusual field name", name)
		}
		v, has := c.slots.top(c.d, *vs[0].lit)
		if name == "has_field" {
			return boolVal(has), nil
		}
		return strVal(v), nil
	case "lower", "upper":
		if err := want(tStr); err != nil {
			return val{}, err
		}
		return strVal(name + "(" + vs[0].sql + ")"), nil
	case "icontains":
		if err := want(tStr, tStr); err != nil {
			return val{}, err
		}
		return boolVal("(" + c.d.contains("lower("+vs[0].sql+")", "lower("+vs[1].sql+")") + ")"), nil
	case "contains_any", "starts_with_any", "ends_with_any":
		if err := want(tStr, tList); err != nil {
			return val{}, err
		}
		op := map[string]string{"contains_any": "contains", "starts_with_any": "startsWith", "ends_with_any": "endsWith"}[name]
		var ors []string
		low := "lower(" + vs[0].sql + ")"
		for _, it := range vs[1].list {
			s, ok := it.(string)
			if !ok {
				continue // spoor skips non-strings in the list
			}
			ors = append(ors, c.strOp(op, low, c.d.str(strings.ToLower(s))))
		}
		if len(ors) == 0 {
			return boolVal("FALSE"), nil
		}
		return boolVal("(" + strings.Join(ors, " OR ") + ")"), nil
	case "re":
		if err := want(tStr, tStr); err != nil {
			return val{}, err
		}
		if vs[1].lit == nil {
			return val{}, unsup("re() with a computed pattern")
		}
		return c.regex(vs[0].sql, *vs[1].lit)
	case "cidr":
		if err := want(tStr, tStr); err != nil {
			return val{}, err
		}
		if vs[1].lit == nil {
			return val{}, unsup("cidr() with a computed network")
		}
		pfx, err := netip.ParsePrefix(*vs[1].lit)
		if err != nil {
			return val{}, unsup("cidr(): %v", err)
		}
		return c.inNets(vs[0].sql, []netip.Prefix{pfx})
	case "provider", "provider_operator":
		if err := want(tStr); err != nil {
			return val{}, err
		}
		return c.provider(name, vs[0].sql)
	case "provider_ip":
		if err := want(tStr); err != nil {
			return val{}, err
		}
		var nets []netip.Prefix
		for _, p := range c.cfg.Providers {
			for _, n := range p.Networks {
				pfx, err := caseconf.ParsePrefix(n)
				if err != nil {
					return val{}, unsup("provider network %q: %v", n, err)
				}
				nets = append(nets, pfx)
			}
		}
		return c.inNets(vs[0].sql, nets)
	case "internal":
		if err := want(tStr); err != nil {
			return val{}, err
		}
		var nets []netip.Prefix
		for _, n := range c.cfg.InternalNetworks {
			pfx, err := caseconf.ParsePrefix(n)
			if err != nil {
				return val{}, unsup("internal network %q: %v", n, err)
			}
			nets = append(nets, pfx)
		}
		return c.inNets(vs[0].sql, nets)
	case "privileged":
		if err := want(tStr); err != nil {
			return val{}, err
		}
		return c.privileged(vs[0].sql), nil
	case "business_hours", "weekend", "holiday":
		if err := want(tTime); err != nil {
			return val{}, err
		}
		return c.calendar(name, vs[0].sql), nil
	case "hour":
		if err := want(tTime); err != nil {
			return val{}, err
		}
		return val{sql: "hour(" + c.d.localTime(vs[0].sql, c.cfg.Location().String()) + ")", t: tInt}, nil
	}
	return val{}, unsup("%s() has no SQL form", name)
}

// globLike turns a case-file glob (* ? and literal backslashes) into a
// LIKE pattern; classes ([…]) have no LIKE form.
func globLike(pat string) (string, bool) {
	var b strings.Builder
	for _, r := range pat {
		switch r {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		case '[':
			return "", false
		case '%', '_', '!':
			b.WriteByte('!')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), true
}

// provider is caseconf's Provider (account patterns against the name and
// its part after the last backslash, case-insensitive) and, for
// provider_operator, the operator patterns first.
func (c *exprCompiler) provider(name, s string) (val, error) {
	low := "lower(" + s + ")"
	bare := c.afterLastBackslash(low)
	var ors []string
	add := func(pat string, withBare bool) error {
		p, ok := globLike(strings.ToLower(pat))
		if !ok {
			return unsup("provider pattern %q uses a [class]", pat)
		}
		ors = append(ors, c.d.like(low, p))
		if withBare {
			ors = append(ors, c.d.like(bare, p))
		}
		return nil
	}
	for _, p := range c.cfg.Providers {
		if name == "provider_operator" {
			for _, pat := range p.Operators {
				if err := add(pat, false); err != nil {
					return val{}, err
				}
			}
		}
		for _, pat := range p.Accounts {
			if err := add(pat, true); err != nil {
				return val{}, err
			}
		}
	}
	if len(ors) == 0 {
		return boolVal("FALSE"), nil
	}
	return boolVal("(" + s + " <> '' AND (" + strings.Join(ors, " OR ") + "))"), nil
}

// afterLastBackslash is the text after the last backslash of s (all of
// s without one): reversed, the part before the first backslash.
func (c *exprCompiler) afterLastBackslash(s string) string {
	bs := c.d.str(`\`)
	return "(CASE WHEN " + c.d.contains(s, bs) + " THEN reverse(substr(reverse(" + s + "), 1, " + c.d.strpos("reverse("+s+")", bs) + " - 1)) ELSE " + s + " END)"
}

// privileged is caseconf's Privileged: the case's groups by name (after
// the last backslash) and the well-known privileged SIDs.
func (c *exprCompiler) privileged(s string) val {
	low := "lower(" + s + ")"
	g := c.afterLastBackslash(low)
	var names []string
	seen := map[string]bool{}
	for _, p := range c.cfg.PrivilegedGroups {
		l := strings.ToLower(p)
		if !seen[l] {
			seen[l] = true
			names = append(names, c.d.str(l))
		}
	}
	sort.Strings(names)
	sids := []string{"s-1-5-32-544", "s-1-5-32-548", "s-1-5-32-549", "s-1-5-32-550", "s-1-5-32-551", "s-1-5-32-555"}
	for i, s := range sids {
		sids[i] = c.d.str(s)
	}
	names = append(names, sids...)
	dom := "(" + c.d.like(g, "s-1-5-21-%") + " AND (" + c.d.like(g, "%-512") + " OR " + c.d.like(g, "%-518") + " OR " + c.d.like(g, "%-519") + "))"
	return boolVal("(" + g + " IN (" + strings.Join(names, ", ") + ") OR " + dom + ")")
}

// calendar compiles business_hours, weekend and holiday with the case's
// zone, days, hours and holidays.
func (c *exprCompiler) calendar(name, t string) val {
	lt := c.d.localTime(t, c.cfg.Location().String())
	var days []string
	for _, d := range c.cfg.BusinessHours.Days {
		days = append(days, itoa(int64(isoDay[strings.ToLower(d)[:min(3, len(d))]])))
	}
	sort.Strings(days)
	business := "(" + c.d.isoDOW(lt) + " IN (" + strings.Join(days, ", ") + "))"
	if len(days) == 0 {
		business = "FALSE"
	}
	holiday := "FALSE"
	if len(c.cfg.Holidays) > 0 {
		var hs []string
		for _, h := range c.cfg.Holidays {
			hs = append(hs, c.d.str(h))
		}
		sort.Strings(hs)
		holiday = "(" + c.d.dateText(lt) + " IN (" + strings.Join(hs, ", ") + "))"
	}
	switch name {
	case "weekend":
		return boolVal("(NOT " + business + ")")
	case "holiday":
		return boolVal(holiday)
	}
	start, _ := time.Parse("15:04", c.cfg.BusinessHours.Start)
	endMin := 24 * 60
	if e, err := time.Parse("15:04", c.cfg.BusinessHours.End); err == nil {
		endMin = e.Hour()*60 + e.Minute()
	}
	m := c.d.minuteOfDay(lt)
	return boolVal("(" + business + " AND NOT " + holiday + " AND " + m + " >= " + itoa(int64(start.Hour()*60+start.Minute())) + " AND " + m + " < " + itoa(int64(endMin)) + ")")
}

var isoDay = map[string]int{"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}

// inNets tests whether a text column is an IPv4 address (as Go's netip
// parses it: four decimal octets without leading zeros) inside one of the
// prefixes, by a regular expression per prefix. IPv6 prefixes have no
// portable SQL form.
func (c *exprCompiler) inNets(s string, nets []netip.Prefix) (val, error) {
	if len(nets) == 0 {
		return boolVal("FALSE"), nil
	}
	var alts []string
	for _, p := range nets {
		p = p.Masked()
		if !p.Addr().Is4() {
			return val{}, unsup("IPv6 network %s", p)
		}
		alts = append(alts, ipv4Regex(p))
	}
	sort.Strings(alts)
	return boolVal(c.d.regex(s, "^("+strings.Join(alts, "|")+")$")), nil
}

// ipv4Regex matches the dotted-decimal addresses of one IPv4 prefix.
func ipv4Regex(p netip.Prefix) string {
	a := p.Addr().As4()
	bits := p.Bits()
	var parts []string
	for i := 0; i < 4; i++ {
		fixed := bits - 8*i // bits of this octet fixed by the prefix
		switch {
		case fixed >= 8:
			parts = append(parts, itoa(int64(a[i])))
		case fixed <= 0:
			parts = append(parts, octetRange(0, 255))
		default:
			mask := byte(0xff << (8 - fixed))
			lo := a[i] & mask
			parts = append(parts, octetRange(int(lo), int(lo)|int(^mask)))
		}
	}
	return strings.Join(parts, `\.`)
}

// octetRange matches the decimal numbers lo..hi without leading zeros.
func octetRange(lo, hi int) string {
	if lo == 0 && hi == 255 {
		return `(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	}
	var alts []string
	for v := lo; v <= hi; v++ {
		alts = append(alts, itoa(int64(v)))
	}
	return "(" + strings.Join(alts, "|") + ")"
}
