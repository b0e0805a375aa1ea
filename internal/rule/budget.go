package rule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm/runtime"
)

// A rule is code from outside (a shared pack, a colleague, a download):
// `len(repeat(repeat("a", 1000), 1000000)) > 0` took 4.8 GB, and a reduce
// building a string ran for ever. Every evaluation (one event, one rule)
// therefore has a budget:
//
//   - loops: expr's VM counts loop iterations and array elements against
//     its own memory budget (1e6 per evaluation);
//   - strings: every string a builtin, a function or a concatenation makes
//     is counted (maxEvalBytes per evaluation), and repeat, replace and
//     join are checked before they allocate (maxString each);
//   - time: the body of every loop, and every counted string, checks the
//     clock now and then (maxEvalTime per evaluation).
//
// Going over fails the evaluation with ErrBudget; the hunt reports the
// rule by name.
const (
	maxEvalBytes = 64 << 20
	maxString    = 16 << 20
	maxEvalTime  = 250 * time.Millisecond
)

// ErrBudget is the error of an evaluation that went over its budget.
var ErrBudget = errors.New("rule evaluation budget exceeded")

// budget is one evaluation's account; the env carries it (as __budget, a
// name no rule can write) to the checked helpers the patcher calls.
type budget struct {
	bytes int64
	ticks int
	start time.Time
}

func (b *budget) reset() { *b = budget{} }

// tick checks the clock every 16th call; the first call starts it.
func (b *budget) tick() error {
	b.ticks++
	if b.ticks&15 != 1 {
		return nil
	}
	if b.start.IsZero() {
		b.start = time.Now()
		return nil
	}
	if d := time.Since(b.start); d > maxEvalTime {
		return fmt.Errorf("%w: ran over %v on one event", ErrBudget, maxEvalTime)
	}
	return nil
}

func (b *budget) alloc(n int) error {
	b.bytes += int64(n)
	if b.bytes > maxEvalBytes {
		return fmt.Errorf("%w: made over %d MiB of strings for one event", ErrBudget, maxEvalBytes>>20)
	}
	return b.tick()
}

func budgetOf(v any) *budget {
	b, _ := v.(*budget)
	if b == nil {
		return &budget{} // a Program run outside a pool state (cannot happen); stay safe
	}
	return b
}

// budgetFunctions are the checked helpers and the replacements of the
// builtins that allocate more than their input.
func budgetFunctions() []expr.Option {
	return []expr.Option{
		expr.Function("__acct", func(p ...any) (any, error) {
			s, _ := p[1].(string)
			return p[1], budgetOf(p[0]).alloc(len(s))
		}, new(func(*budget, string) string)),
		expr.Function("__tick", func(p ...any) (any, error) {
			return true, budgetOf(p[0]).tick()
		}, new(func(*budget) bool)),
		expr.Function("__concat", func(p ...any) (any, error) {
			a, _ := p[1].(string)
			b, _ := p[2].(string)
			if len(a)+len(b) > maxString {
				return nil, fmt.Errorf("%w: a string over %d MiB", ErrBudget, maxString>>20)
			}
			s := a + b
			return s, budgetOf(p[0]).alloc(len(s))
		}, new(func(*budget, string, string) string)),
		expr.Function("__add", func(p ...any) (any, error) {
			a, aok := p[1].(string)
			b, bok := p[2].(string)
			if aok && bok {
				if len(a)+len(b) > maxString {
					return nil, fmt.Errorf("%w: a string over %d MiB", ErrBudget, maxString>>20)
				}
				s := a + b
				return s, budgetOf(p[0]).alloc(len(s))
			}
			return runtime.Add(p[1], p[2]), nil
		}, new(func(*budget, any, any) any)),
		expr.DisableBuiltin("repeat"),
		expr.Function("repeat", func(p ...any) (any, error) {
			s, _ := p[0].(string)
			n := runtime.ToInt(p[1])
			if n < 0 {
				return nil, fmt.Errorf("repeat: negative count %d", n)
			}
			if n > 0 && len(s) > maxString/n {
				return nil, fmt.Errorf("%w: repeat would make %d×%d bytes", ErrBudget, len(s), n)
			}
			return strings.Repeat(s, n), nil
		}, new(func(string, int) string)),
		expr.DisableBuiltin("replace"),
		expr.Function("replace", func(p ...any) (any, error) {
			s, _ := p[0].(string)
			old, _ := p[1].(string)
			nw, _ := p[2].(string)
			if len(nw) > len(old) {
				n := strings.Count(s, old)
				if old == "" {
					n = len(s) + 1
				}
				if len(s)+n*(len(nw)-len(old)) > maxString {
					return nil, fmt.Errorf("%w: replace would make a string over %d MiB", ErrBudget, maxString>>20)
				}
			}
			return strings.ReplaceAll(s, old, nw), nil
		}, new(func(string, string, string) string)),
		expr.DisableBuiltin("join"),
		expr.Function("join", func(p ...any) (any, error) {
			sep := ""
			if len(p) > 1 {
				sep, _ = p[1].(string)
			}
			var parts []string
			switch v := p[0].(type) {
			case []string:
				parts = v
			case []any:
				parts = make([]string, len(v))
				for i, x := range v {
					s, ok := x.(string)
					if !ok {
						return nil, fmt.Errorf("join: element %d is %T, not a string", i, x)
					}
					parts[i] = s
				}
			default:
				return nil, fmt.Errorf("join: %T is not an array of strings", p[0])
			}
			size := len(sep) * len(parts)
			for _, s := range parts {
				if size += len(s); size > maxString {
					return nil, fmt.Errorf("%w: join would make a string over %d MiB", ErrBudget, maxString>>20)
				}
			}
			return strings.Join(parts, sep), nil
		}, new(func([]any, string) string), new(func([]any) string), new(func([]string, string) string), new(func([]string) string)),
		expr.Patch(&budgetPatcher{}),
	}
}

// budgetPatcher rewrites the checked AST: strings made by calls, builtins
// and + are counted (__acct), + of two strings or unknown values goes
// through __add, and loop bodies tick the clock.
type budgetPatcher struct{}

func budgetIdent() ast.Node { return &ast.IdentifierNode{Value: "__budget"} }

func (budgetPatcher) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok && strings.HasPrefix(id.Value, "__") {
			return
		}
		if isString(x) {
			ast.Patch(n, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__acct"}, Arguments: []ast.Node{budgetIdent(), x}})
		}
	case *ast.BuiltinNode:
		for _, a := range x.Arguments {
			if c, ok := a.(*ast.PredicateNode); ok {
				if _, done := c.Node.(*ast.SequenceNode); !done {
					c.Node = &ast.SequenceNode{Nodes: []ast.Node{
						&ast.CallNode{Callee: &ast.IdentifierNode{Value: "__tick"}, Arguments: []ast.Node{budgetIdent()}},
						c.Node,
					}}
				}
			}
		}
		if isString(x) {
			ast.Patch(n, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__acct"}, Arguments: []ast.Node{budgetIdent(), x}})
		}
	case *ast.BinaryNode:
		if x.Operator != "+" {
			return
		}
		if !maybeString(x.Left) && !maybeString(x.Right) {
			return
		}
		fn := "__add"
		if isString(x.Left) && isString(x.Right) {
			fn = "__concat"
		}
		ast.Patch(n, &ast.CallNode{Callee: &ast.IdentifierNode{Value: fn}, Arguments: []ast.Node{budgetIdent(), x.Left, x.Right}})
	}
}

func isString(n ast.Node) bool {
	t := n.Type()
	return t != nil && t.Kind().String() == "string"
}

func maybeString(n ast.Node) bool {
	t := n.Type()
	return t == nil || t.Kind().String() == "string" || t.Kind().String() == "interface"
}
