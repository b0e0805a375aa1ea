package rule

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/spoor-dfir/spoor/internal/asciifold"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// env is what a condition sees: the typed event columns under their store
// (snake_case) names, plus the helpers that need the current event. It is a
// struct, not a map, so a worker fills it by copying fields instead of
// building a map per event; one env is reused per evaluation state.
//
// Helpers that only need the case config are expr functions bound at
// compile time (see functions); field() needs the event, so it is a func
// field bound to the env it lives in.
type env struct {
	// Budget is this evaluation's account (see budget.go); __budget is a
	// name the patcher writes, not a column.
	Budget *budget `expr:"__budget"`
	Source string  `expr:"source"` // the partition, not a table column
	// The typed columns, generated from event.Columns (env_columns.go).
	columnsEnv

	// Set only when a threshold rule renders its output.
	Hits           int       `expr:"hits"`
	DistinctValues string    `expr:"distinct_values"`
	LastTime       time.Time `expr:"last_time"`

	FieldFn    func(string) string `expr:"field"`
	HasFieldFn func(string) bool   `expr:"has_field"`

	ev *event.Event
}

// columnOf maps an env variable to the store column it reads (the
// table's Var → Name: the provider column is event_provider in
// conditions, since provider() is a helper).
var columnOf = func() map[string]string {
	m := map[string]string{"source": "source", "field": "fields", "has_field": "fields"}
	for _, c := range event.Columns {
		m[c.Var] = c.Name
	}
	return m
}()

func newEnv() *env {
	e := &env{Budget: &budget{}}
	e.FieldFn = func(name string) string {
		if e.ev == nil {
			return ""
		}
		return e.ev.Field(name)
	}
	e.HasFieldFn = func(name string) bool {
		return e.ev != nil && e.ev.HasField(name)
	}
	return e
}

func (e *env) set(ev *event.Event) {
	e.ev = ev
	e.Source = ev.Source
	e.setColumns(ev)
	e.Hits, e.DistinctValues, e.LastTime = 0, "", time.Time{}
}

// Program is a compiled expression over one event: a rule condition, a
// query filter, or a part of an output template. It is safe for
// concurrent use; each goroutine gets its own env and VM from a pool.
type Program struct {
	src      string
	prog     *vm.Program
	columns  []string
	requires [][]string
	guards   []Guard
	// fastCol reads the string column a value expression that is only
	// `col` or `lower(col)` (fastLower) reads, so it is computed without
	// the VM (see fastValue): group-by keys of threshold rules are such,
	// evaluated for every event the rule matched. nil for any other.
	fastCol   func(*event.Event) string
	fastLower bool
	pool      sync.Pool

	errs     atomic.Int64
	firstErr atomic.Pointer[error]
	// budgetErrs counts evaluations over their budget; ok is set by the
	// first evaluation that succeeded (read-mostly, so no contention).
	budgetErrs atomic.Int64
	ok         atomic.Bool
}

type evalState struct {
	env *env
	vm  vm.VM
}

// ExprError is a compile error inside an expression, with its position in
// the expression's source (1-based line and column; Offset in runes from
// the start), so callers can point into the file the expression came from.
type ExprError struct {
	Offset int
	Line   int
	Column int
	Msg    string
}

func (e *ExprError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

// CompileExpr compiles a boolean expression (a rule condition or a query
// filter) against the event schema and the helpers of cfg. An unknown
// name, a type mismatch or a bad constant regex/CIDR is an *ExprError.
func CompileExpr(cfg *caseconf.Config, src string) (*Program, error) {
	return compile(cfg, src, true)
}

// CompileValue compiles an expression of any type (template parts,
// group-by keys).
func CompileValue(cfg *caseconf.Config, src string) (*Program, error) {
	return compile(cfg, src, false)
}

func compile(cfg *caseconf.Config, src string, asBool bool) (*Program, error) {
	if cfg == nil {
		cfg = caseconf.Default()
	}
	if strings.TrimSpace(src) == "" {
		return nil, &ExprError{Line: 1, Column: 1, Msg: "empty expression"}
	}
	opts := []expr.Option{expr.Env(env{})}
	opts = append(opts, functions(cfg)...)
	opts = append(opts, budgetFunctions()...)
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, exprError(src, err)
	}
	p := &Program{src: src, prog: prog}
	node := prog.Node()
	v := &inspector{}
	ast.Walk(&node, v)
	if v.err != nil {
		return nil, v.err.bind(src)
	}
	p.columns = v.columns()
	if asBool {
		p.requires = requiresOf(node)
		p.guards = guardsOf(node)
	} else {
		p.fastCol, p.fastLower = fastColumn(src)
	}
	p.pool.New = func() any { return &evalState{env: newEnv()} }
	return p, nil
}

func exprError(src string, err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		msg := fe.Message
		return (&ExprError{Offset: fe.From, Msg: msg}).bind(src)
	}
	return &ExprError{Line: 1, Column: 1, Msg: err.Error()}
}

// bind computes line and column from the rune offset.
func (e *ExprError) bind(src string) *ExprError {
	e.Line, e.Column = 1, 1
	n := 0
	for _, r := range src {
		if n == e.Offset {
			break
		}
		if r == '\n' {
			e.Line++
			e.Column = 1
		} else {
			e.Column++
		}
		n++
	}
	return e
}

// inspector collects the columns an expression reads and checks constant
// arguments of re() and cidr() at compile time, so a bad pattern is a load
// error rather than a silent non-match.
type inspector struct {
	cols map[string]bool
	all  bool // $env: the expression may read any column
	err  *ExprError
}

func (v *inspector) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		if x.Value == "$env" {
			v.all = true
		}
		if c, ok := columnOf[x.Value]; ok {
			if v.cols == nil {
				v.cols = map[string]bool{}
			}
			v.cols[c] = true
		}
	case *ast.CallNode:
		id, ok := x.Callee.(*ast.IdentifierNode)
		if !ok || v.err != nil {
			return
		}
		if c, ok := columnOf[id.Value]; ok {
			if v.cols == nil {
				v.cols = map[string]bool{}
			}
			v.cols[c] = true
		}
		if len(x.Arguments) < 2 {
			return
		}
		s, ok := x.Arguments[1].(*ast.StringNode)
		if !ok {
			return
		}
		var err error
		switch id.Value {
		case "re":
			_, err = cachedRegexp(s.Value)
		case "cidr":
			_, err = cachedPrefix(s.Value)
		}
		if err != nil {
			v.err = &ExprError{Offset: s.Location().From, Msg: fmt.Sprintf("%s(): %v", id.Value, err)}
		}
	}
}

// columns returns the columns read, sorted; nil when the expression may
// read any ($env).
func (v *inspector) columns() []string {
	if v.all {
		return nil
	}
	out := make([]string, 0, len(v.cols))
	for c := range v.cols {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// requiresOf reads, from the top-level conjunction of a boolean
// expression (under any let), the string columns that must be non-empty
// for it to hold: a conjunct `col != ""` gives [col], and one of the form
// `a != "" || b != ""` gives [a b]. The hunt uses this to skip rows
// without decoding them, so it only ever under-approximates: anything
// else yields no requirement.
func requiresOf(n ast.Node) [][]string {
	for {
		v, ok := n.(*ast.VariableDeclaratorNode)
		if !ok {
			break
		}
		n = v.Expr
	}
	var out [][]string
	var conj func(n ast.Node)
	conj = func(n ast.Node) {
		if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
			conj(b.Left)
			conj(b.Right)
			return
		}
		if g := nonEmptyAny(n); g != nil {
			out = append(out, g)
		}
	}
	conj(n)
	return out
}

// nonEmptyAny returns the columns of `a != "" || b != "" || …`, or nil.
func nonEmptyAny(n ast.Node) []string {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return nil
	}
	switch b.Operator {
	case "||", "or":
		l, r := nonEmptyAny(b.Left), nonEmptyAny(b.Right)
		if l == nil || r == nil {
			return nil
		}
		return append(l, r...)
	case "!=":
		id, ok := b.Left.(*ast.IdentifierNode)
		str, ok2 := b.Right.(*ast.StringNode)
		if !ok || !ok2 {
			id, ok = b.Right.(*ast.IdentifierNode)
			str, ok2 = b.Left.(*ast.StringNode)
		}
		if !ok || !ok2 || str.Value != "" {
			return nil
		}
		if !stringVar[id.Value] {
			return nil
		}
		return []string{columnOf[id.Value]}
	}
	return nil
}

// stringVar holds the env variables that are string columns (those a
// condition can require to be non-empty).
var stringVar = func() map[string]bool {
	m := map[string]bool{"source": true}
	for _, c := range event.Columns {
		if c.Kind == event.KindString {
			m[c.Var] = true
		}
	}
	return m
}()

// ReadsAll reports whether the expression may read any column ($env).
func (p *Program) ReadsAll() bool { return p.columns == nil }

// Requires lists groups of store columns of which at least one must be
// non-empty for the (boolean) expression to hold; see requiresOf.
func (p *Program) Requires() [][]string { return p.requires }

// Guards lists the cases of a boolean expression (see Guard); nil when
// some case may hold for any event.
func (p *Program) Guards() []Guard { return p.guards }

// Source returns the expression text.
func (p *Program) Source() string { return p.src }

// Columns lists the store columns the expression reads ("fields" for raw
// fields), sorted; nil when it may read any (it uses $env).
func (p *Program) Columns() []string { return p.columns }

// Eval evaluates a boolean program on one event. A runtime error (rare
// after type checking: e.g. a nil value) is returned and counted.
func (p *Program) Eval(ev *event.Event) (bool, error) {
	out, err := p.run(ev, nil)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// Value evaluates a program of any type on one event.
func (p *Program) Value(ev *event.Event) (any, error) {
	if p.fastCol != nil {
		return p.fastValue(ev), nil
	}
	return p.run(ev, nil)
}

// fastValue is the value of a fastCol program.
func (p *Program) fastValue(ev *event.Event) string {
	if p.fastLower {
		return strings.ToLower(p.fastCol(ev))
	}
	return p.fastCol(ev)
}

// appendFast appends the value of a fastCol program to b, lower-casing
// ASCII in place (no string made of a lower-cased column).
func (p *Program) appendFast(b []byte, ev *event.Event) []byte {
	if p.fastLower {
		return appendLower(b, p.fastCol(ev))
	}
	return append(b, p.fastCol(ev)...)
}

// fastColumn returns the reader of the string column col for an
// expression that is `col` or `lower(col)` (lower: the latter), nil for
// anything else.
func fastColumn(src string) (get func(*event.Event) string, lower bool) {
	s := strings.TrimSpace(src)
	if in, ok := strings.CutPrefix(s, "lower("); ok {
		if in, ok = strings.CutSuffix(in, ")"); !ok {
			return nil, false
		}
		s, lower = strings.TrimSpace(in), true
	}
	if !stringVar[s] {
		return nil, false
	}
	return stringGetter(columnOf[s]), lower
}

// appendLower appends strings.ToLower(s) to b: ASCII in place, anything
// else through strings.ToLower.
func appendLower(b []byte, s string) []byte {
	if !asciifold.IsASCII(s) {
		return append(b, strings.ToLower(s)...)
	}
	for i := 0; i < len(s); i++ {
		b = append(b, asciifold.Lower(s[i]))
	}
	return b
}

func (p *Program) run(ev *event.Event, extra func(*env)) (any, error) {
	st := p.pool.Get().(*evalState)
	st.env.set(ev)
	st.env.Budget.reset()
	if extra != nil {
		extra(st.env)
	}
	out, err := st.vm.Run(p.prog, st.env)
	st.env.ev = nil
	p.pool.Put(st)
	if err != nil {
		if p.errs.Add(1) == 1 {
			p.firstErr.Store(&err)
		}
		if errors.Is(err, ErrBudget) {
			p.budgetErrs.Add(1)
		}
		return nil, err
	}
	if !p.ok.Load() {
		p.ok.Store(true)
	}
	return out, nil
}

// Broken says why the program's results cannot be trusted, or "": it went
// over its evaluation budget, or it failed on every event it was
// evaluated on.
func (p *Program) Broken() string {
	n, first := p.Errors()
	switch {
	case n == 0:
		return ""
	case p.budgetErrs.Load() > 0:
		return fmt.Sprintf("exceeded its evaluation budget on %d events (first: %v)", p.budgetErrs.Load(), first)
	case !p.ok.Load():
		return fmt.Sprintf("failed on every event it was evaluated on (%d, first: %v)", n, first)
	}
	return ""
}

// Errors reports how many evaluations failed at run time, and the first
// failure.
func (p *Program) Errors() (int64, error) {
	n := p.errs.Load()
	if e := p.firstErr.Load(); e != nil {
		return n, *e
	}
	return n, nil
}
