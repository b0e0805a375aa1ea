package sqlexport

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/rule/ruleset"
	"github.com/spoor-dfir/spoor/internal/sigma"
)

// Rule is one exported rule: Where is a SQL predicate over one row of the
// events table (its filter, the case's analysis window and its condition).
type Rule struct {
	ID       string
	Title    string
	Kind     string
	Severity string
	Where    string
}

// Skipped is a rule with no faithful SQL form, and why.
type Skipped struct {
	ID     string
	Kind   string
	File   string
	Reason string
}

// Export is the result of compiling a rule set for one dialect.
type Export struct {
	Dialect Dialect
	Rules   []Rule
	Skipped []Skipped
	slots   *slots
}

// Compile compiles rules for dialect d and case cfg (nil: defaults).
// read returns a rule file's bytes: Sigma rules are compiled from their
// source document, which the loaded rule does not keep. The order of the
// rules is kept. A nil read reads as ruleset.ReadSource does (the shipped
// SigmaHQ rules from the binary, the rest from disk).
func Compile(d Dialect, cfg *caseconf.Config, rules []*rule.Rule, read func(file string) ([]byte, error)) *Export {
	if cfg == nil {
		cfg = caseconf.Default()
	}
	if read == nil {
		read = ruleset.ReadSource
	}
	e := &Export{Dialect: d, slots: newSlots()}
	files := map[string][]byte{}
	for _, r := range rules {
		where, err := compileRule(d, cfg, e.slots, r, func(f string) ([]byte, error) {
			if b, ok := files[f]; ok {
				return b, nil
			}
			b, err := read(f)
			if err == nil {
				files[f] = b
			}
			return b, err
		})
		if err != nil {
			e.Skipped = append(e.Skipped, Skipped{ID: r.ID, Kind: r.Kind, File: fmt.Sprintf("%s:%d", r.File, r.Line), Reason: err.Error()})
			continue
		}
		e.Rules = append(e.Rules, Rule{ID: r.ID, Title: r.Title, Kind: r.Kind, Severity: r.Severity, Where: where})
	}
	return e
}

func compileRule(d Dialect, cfg *caseconf.Config, sl *slots, r *rule.Rule, read func(string) ([]byte, error)) (string, error) {
	switch {
	case r.NoFindings:
		return "", unsup("only feeds a correlation (generate: false): a hunt reports no finding of its own")
	case r.Kind == rule.KindThreshold || r.Kind == rule.KindCorrelation || r.Stateful != nil || r.NewState != nil:
		return "", unsup("stateful (%s): counts or correlates events over time", r.Kind)
	case r.Match == nil:
		return "", unsup("no single-event condition")
	}
	var cond string
	var err error
	switch r.Kind {
	case rule.KindSpoor:
		cond, err = compileCondition(d, cfg, sl, r.Condition)
	case rule.KindSigma:
		if fs := sigma.Filters(r); len(fs) > 0 {
			// The rule's file alone is not the rule the hunt runs.
			return "", unsup("tuned by Sigma filters (%s)", strings.Join(fs, "; "))
		}
		var data []byte
		if data, err = read(r.File); err != nil {
			return "", fmt.Errorf("reading the Sigma source: %v", err)
		}
		doc, derr := sigmaDoc(data, r.Line)
		if derr != nil {
			return "", derr
		}
		cond, err = compileSigma(d, sl, doc)
	default:
		return "", unsup("kind %s", r.Kind)
	}
	if err != nil {
		return "", err
	}
	parts := append(filterSQL(d, r.Filter), windowSQL(d, cfg)...)
	parts = append(parts, cond)
	return and(parts), nil
}

// filterSQL is the rule's pre-filter, which the hunt applies before the
// condition.
func filterSQL(d Dialect, f rule.Filter) []string {
	var out []string
	if len(f.EventIDs) > 0 {
		ids := make([]string, len(f.EventIDs))
		for i, id := range f.EventIDs {
			ids[i] = itoa(int64(id))
		}
		out = append(out, d.ident("event_id")+" IN ("+strings.Join(ids, ", ")+")")
	}
	if len(f.Sources) > 0 {
		out = append(out, d.ident("source")+" IN ("+quoteAll(d, f.Sources, false)+")")
	}
	if len(f.Channels) > 0 {
		out = append(out, "lower("+d.ident("channel")+") IN ("+quoteAll(d, f.Channels, true)+")")
	}
	return out
}

func quoteAll(d Dialect, l []string, lower bool) string {
	seen := map[string]bool{}
	var out []string
	for _, s := range l {
		if lower {
			s = strings.ToLower(s)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, d.str(s))
		}
	}
	return strings.Join(out, ", ")
}

// windowSQL is the case's analysis window, which the hunt reads only.
func windowSQL(d Dialect, cfg *caseconf.Config) []string {
	from, to := cfg.Window.Bounds()
	var out []string
	if !from.IsZero() {
		out = append(out, d.ident("time")+" >= "+d.timestamp(from))
	}
	if !to.IsZero() {
		out = append(out, d.ident("time")+" < "+d.timestamp(to))
	}
	return out
}

// timestamp is a UTC instant comparable with the stored time column.
func (d Dialect) timestamp(t time.Time) string {
	s := t.UTC().Format("2006-01-02 15:04:05.999999")
	switch d {
	case Spark:
		return "TIMESTAMP " + d.str(s) // the session zone is UTC (Preamble)
	case Trino:
		return "TIMESTAMP " + d.str(s)
	}
	return "TIMESTAMPTZ " + d.str(s+"+00")
}

// keyColumns are what each query returns per match: the rule id, then the
// event key (source, evidence, offset, seq: see event.Key; offset is the
// record id for EVTX, the line or byte offset for text), with time and
// host for reading.
var keyColumns = []string{"source", "evidence", "offset", "seq", "time", "host"}

func (e *Export) selectKey() string {
	cols := make([]string, len(keyColumns))
	for i, c := range keyColumns {
		cols[i] = e.Dialect.ident(c)
	}
	return strings.Join(cols, ", ")
}

// ViewName is the view PerRule's queries read.
const ViewName = "spoor_events"

// View creates the view of the events with the raw fields the rules read
// extracted (a temporary view where the engine has them).
func (e *Export) View(events string) string {
	kw := "CREATE OR REPLACE TEMP VIEW "
	switch e.Dialect {
	case Spark:
		kw = "CREATE OR REPLACE TEMPORARY VIEW "
	case Trino:
		kw = "CREATE OR REPLACE VIEW "
	}
	return kw + ViewName + " AS\nSELECT * FROM " + e.slots.from(e.Dialect, events)
}

// PerRule returns one query per exported rule over the view (View).
func (e *Export) PerRule() []string {
	out := make([]string, len(e.Rules))
	for i, r := range e.Rules {
		out[i] = "SELECT " + e.Dialect.str(r.ID) + " AS rule_id, " + e.selectKey() + "\nFROM " + ViewName + "\nWHERE " + r.Where
	}
	return out
}

// Combined returns one query for all exported rules that reads the
// events once: each row yields the ids of the rules it matches, one
// output row per (rule id, event), ordered by the event key and rule id.
func (e *Export) Combined(events string) string {
	d := e.Dialect
	if len(e.Rules) == 0 {
		return "SELECT CAST(NULL AS " + map[bool]string{true: "string", false: "varchar"}[d == Spark] + ") AS rule_id, " + e.selectKey() + " FROM " + events + " WHERE FALSE"
	}
	var b strings.Builder
	hits := make([]string, len(e.Rules))
	for i, r := range e.Rules {
		hits[i] = "    CASE WHEN " + r.Where + " THEN " + d.str(r.ID) + " END"
	}
	list := strings.Join(hits, ",\n")
	events = e.slots.from(d, events)
	order := "\nORDER BY " + e.selectKeyOrder() + ", rule_id"
	switch d {
	case Spark:
		fmt.Fprintf(&b, "SELECT rule_id, %s\nFROM (\n  SELECT %s, filter(array(\n%s\n  ), x -> x IS NOT NULL) AS hits\n  FROM %s\n) m\nLATERAL VIEW explode(hits) t AS rule_id%s", e.selectKey(), e.selectKey(), list, events, order)
	case Trino:
		fmt.Fprintf(&b, "SELECT t.rule_id, %s\nFROM (\n  SELECT %s, filter(ARRAY[\n%s\n  ], x -> x IS NOT NULL) AS hits\n  FROM %s\n) m\nCROSS JOIN UNNEST(m.hits) AS t(rule_id)%s", e.prefixed("m"), e.selectKey(), list, events, order)
	default:
		fmt.Fprintf(&b, "SELECT rule_id, %s\nFROM (\n  SELECT %s, unnest(list_filter([\n%s\n  ], x -> x IS NOT NULL)) AS rule_id\n  FROM %s\n) m%s", e.selectKey(), e.selectKey(), list, events, order)
	}
	return b.String()
}

func (e *Export) prefixed(alias string) string {
	cols := make([]string, len(keyColumns))
	for i, c := range keyColumns {
		cols[i] = alias + "." + e.Dialect.ident(c)
	}
	return strings.Join(cols, ", ")
}

func (e *Export) selectKeyOrder() string {
	return e.Dialect.ident("source") + ", " + e.Dialect.ident("evidence") + ", " + e.Dialect.ident("offset") + ", " + e.Dialect.ident("seq")
}

// Counts returns how many rules were exported and how many were skipped,
// by kind.
func (e *Export) Counts() (exported, skipped map[string]int) {
	exported, skipped = map[string]int{}, map[string]int{}
	for _, r := range e.Rules {
		exported[r.Kind]++
	}
	for _, s := range e.Skipped {
		skipped[s.Kind]++
	}
	return exported, skipped
}

// Summary is one line: exported and skipped counts by kind.
func (e *Export) Summary() string {
	ex, sk := e.Counts()
	f := func(m map[string]int) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		var parts []string
		for _, k := range ks {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%s: %d rules exported (%s); %d cannot be expressed in SQL (%s)",
		e.Dialect, len(e.Rules), f(ex), len(e.Skipped), f(sk))
}

// WriteSQL writes the export as one SQL file: a comment header with the
// counts and every rule that was left out with its reason, then the
// combined query, or one query per rule (each preceded by its id).
func (e *Export) WriteSQL(w io.Writer, events string, perRule bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "-- spoor rules export --sql %s\n-- %s\n", e.Dialect, e.Summary())
	fmt.Fprintf(&b, "-- Each row is one (rule_id, event) match; the event key is (source, evidence, offset, seq).\n")
	if len(e.Skipped) > 0 {
		b.WriteString("-- Not exported:\n")
		for _, s := range e.Skipped {
			fmt.Fprintf(&b, "--   %s (%s, %s): %s\n", s.ID, s.Kind, s.File, oneLine(s.Reason))
		}
	}
	b.WriteString("\n")
	b.WriteString(e.Dialect.Preamble())
	if perRule {
		fmt.Fprintf(&b, "%s;\n\n", e.View(events))
		for i, q := range e.PerRule() {
			r := e.Rules[i]
			fmt.Fprintf(&b, "-- %s: %s\n%s;\n\n", r.ID, oneLine(r.Title), q)
		}
	} else {
		b.WriteString(e.Combined(events))
		b.WriteString(";\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
