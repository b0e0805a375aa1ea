package rule

import (
	"fmt"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Template is a compiled output template: literal text with {{ expr }}
// parts, each an expression over the same environment as conditions
// (e.g. "{{user}} logged on to {{host}} from {{src_ip}}",
// "{{decode_ps(command_line)}}"). Empty strings and times render as "-"
// (so a missing value shows), nil as nothing (for optional parts:
// {{provider(user) ? " (provider)" : nil}}), times as RFC 3339 UTC.
type Template struct {
	lits  []string   // len(parts)+1
	parts []*Program // between lits
}

// TemplateError is a template compile error at a rune offset of the
// template text.
type TemplateError struct {
	Offset int
	Msg    string
}

func (e *TemplateError) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// CompileTemplate compiles an output template.
func CompileTemplate(cfg *caseconf.Config, src string) (*Template, error) {
	t := &Template{}
	rest := src
	base := 0 // rune offset of rest in src
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.lits = append(t.lits, rest)
			return t, nil
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, &TemplateError{Offset: base + runeLen(rest[:i]), Msg: "unclosed {{"}
		}
		inner := rest[i+2 : i+2+j]
		innerOff := base + runeLen(rest[:i+2])
		p, err := CompileValue(cfg, inner)
		if err != nil {
			if ee, ok := err.(*ExprError); ok {
				return nil, &TemplateError{Offset: innerOff + ee.Offset, Msg: ee.Msg}
			}
			return nil, &TemplateError{Offset: innerOff, Msg: err.Error()}
		}
		t.lits = append(t.lits, rest[:i])
		t.parts = append(t.parts, p)
		base += runeLen(rest[:i+2+j+2])
		rest = rest[i+2+j+2:]
	}
}

func runeLen(s string) int { return len([]rune(s)) }

// Columns lists the store columns the template reads.
func (t *Template) Columns() []string {
	var out []string
	for _, p := range t.parts {
		out = append(out, p.Columns()...)
	}
	return out
}

// ReadsAll reports whether some expression of the template may read any
// column ($env).
func (t *Template) ReadsAll() bool {
	for _, p := range t.parts {
		if p.ReadsAll() {
			return true
		}
	}
	return false
}

// Render renders the template for one event.
func (t *Template) Render(ev *event.Event) string { return t.render(ev, nil) }

func (t *Template) render(ev *event.Event, extra func(*env)) string {
	var b strings.Builder
	for i, p := range t.parts {
		b.WriteString(t.lits[i])
		v, err := p.run(ev, extra)
		if err != nil {
			b.WriteString("<error>")
			continue
		}
		b.WriteString(formatValue(v))
	}
	b.WriteString(t.lits[len(t.lits)-1])
	return b.String()
}

func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "" // cond ? "text" : nil inserts text only when cond holds
	case string:
		if x == "" {
			return "-"
		}
		return x
	case time.Time:
		if x.IsZero() {
			return "-"
		}
		return x.UTC().Format(time.RFC3339)
	case time.Duration:
		return x.String()
	default:
		return event.String(x)
	}
}
