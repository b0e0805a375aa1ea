package rule

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"
	"go.yaml.in/yaml/v3"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/yamlx"
	"github.com/spoor-dfir/spoor/rules"
)

// Doc is one rule file handed to another compiler (Sigma).
type Doc struct {
	File string
	Data []byte
}

// SigmaCompiler compiles a batch of Sigma files (internal/sigma.Compile,
// adapted). It is passed in, not imported, because internal/sigma builds
// on this package.
type SigmaCompiler func(docs []Doc) ([]*Rule, []error)

// ruleDoc is the YAML shape of a spoor rule.
type ruleDoc struct {
	ID          string        `yaml:"id"`
	Title       string        `yaml:"title"`
	Description string        `yaml:"description"`
	Severity    string        `yaml:"severity"`
	Tags        []string      `yaml:"tags"`
	Author      string        `yaml:"author"`
	References  []string      `yaml:"references"`
	Filter      filterDoc     `yaml:"filter"`
	Condition   string        `yaml:"condition"`
	Output      string        `yaml:"output"`
	Threshold   *thresholdDoc `yaml:"threshold"`
	TestCase    rawNode       `yaml:"test_case"`
	Tests       rawNode       `yaml:"tests"`
}

type filterDoc struct {
	Source  []string `yaml:"source"`
	Channel []string `yaml:"channel"`
	EventID []int32  `yaml:"event_id"`
}

type thresholdDoc struct {
	Count    int      `yaml:"count"`
	Distinct string   `yaml:"distinct"`
	GroupBy  []string `yaml:"group_by"`
	Window   string   `yaml:"window"`
}

// rawNode keeps a subtree for decoding by hand (tests, test_case).
type rawNode struct{ n *yaml.Node }

func (r *rawNode) UnmarshalYAML(n *yaml.Node) error { r.n = n; return nil }

// fileDoc is the list form of a rule file.
type fileDoc struct {
	Rules rawNode `yaml:"rules"`
}

// ruleDef is a parsed, not yet compiled, spoor rule.
type ruleDef struct {
	src      *source
	node     *yaml.Node
	doc      ruleDoc
	tests    []Test
	testCase *caseconf.Config
}

// source is a rule file with its line index, for positions.
type source struct {
	file       string
	data       []byte
	lineStarts []int
}

func newSource(file string, data []byte) *source {
	s := &source{file: file, data: data, lineStarts: []int{0}}
	for i, c := range data {
		if c == '\n' {
			s.lineStarts = append(s.lineStarts, i+1)
		}
	}
	return s
}

func (s *source) errf(n *yaml.Node, format string, args ...any) error {
	return yamlx.Errorf(s.file, n, format, args...)
}

func (s *source) errAt(line, col int, format string, args ...any) error {
	return &yamlx.Error{File: s.file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// offset converts a 1-based line and (rune) column to a byte offset.
func (s *source) offset(line, col int) int {
	if line < 1 || line > len(s.lineStarts) {
		return len(s.data)
	}
	off := s.lineStarts[line-1]
	for c := 1; c < col && off < len(s.data); c++ {
		if s.data[off] == '\n' {
			break
		}
		_, sz := utf8.DecodeRune(s.data[off:])
		off += sz
	}
	return off
}

func (s *source) lineCol(off int) (int, int) {
	i := sort.Search(len(s.lineStarts), func(i int) bool { return s.lineStarts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	col := utf8.RuneCount(s.data[s.lineStarts[i]:off]) + 1
	return i + 1, col
}

// posIn maps a rune offset inside a scalar's value to the file position,
// walking the raw text alongside the value so folded lines, block
// indentation and quotes are accounted for. If the two cannot be aligned
// (escape sequences) it falls back to the scalar's own position.
func (s *source) posIn(n *yaml.Node, runeOff int) (int, int) {
	start := s.offset(n.Line, n.Column)
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		if i := bytes.IndexByte(s.data[start:], '\n'); i >= 0 {
			start += i + 1
		}
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		start++
	}
	rp := start
	i := 0
	for _, r := range n.Value {
		if i >= runeOff {
			break
		}
		i++
		for {
			if rp >= len(s.data) {
				return n.Line, n.Column
			}
			c, sz := utf8.DecodeRune(s.data[rp:])
			if c == r {
				rp += sz
				break
			}
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				rp += sz
				continue
			}
			return n.Line, n.Column
		}
	}
	for rp < len(s.data) && (s.data[rp] == ' ' || s.data[rp] == '\t' || s.data[rp] == '\n' || s.data[rp] == '\r') {
		rp++
	}
	return s.lineCol(rp)
}

// IsSigma reports whether a YAML file is a Sigma rule rather than a spoor
// rule: its first document has detection, logsource or correlation (or
// Sigma's action: global) and no spoor condition string.
func IsSigma(data []byte) bool {
	var n yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&n); err != nil || len(n.Content) == 0 {
		return false
	}
	m := n.Content[0]
	if m.Kind != yaml.MappingNode {
		return false
	}
	sigma, spoor := false, false
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i].Value, m.Content[i+1]
		switch k {
		case "detection", "logsource", "correlation":
			sigma = true
		case "action":
			if v.Value == "global" {
				sigma = true
			}
		case "condition":
			if v.Kind == yaml.ScalarNode {
				spoor = true
			}
		case "rules":
			spoor = true
		}
	}
	return sigma && !spoor
}

// LoadPaths loads rules from files and directories (walked for *.yml and
// *.yaml, in lexical order). Sigma files are collected and handed to
// sigma in one batch; without a Sigma compiler they are reported as
// errors. Rule IDs must be unique. Every problem is returned, each with
// file:line:col where it has one; the rules that loaded are returned too.
func LoadPaths(cfg *caseconf.Config, paths []string, sigma SigmaCompiler) ([]*Rule, []error) {
	var out []*Rule
	var errs []error
	var sigmaDocs []Doc
	for _, p := range paths {
		files, err := Files(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if IsSigma(data) {
				sigmaDocs = append(sigmaDocs, Doc{File: f, Data: data})
				continue
			}
			rs, es := ParseFile(cfg, f, data)
			out = append(out, rs...)
			errs = append(errs, es...)
		}
	}
	if len(sigmaDocs) > 0 {
		if sigma == nil {
			for _, d := range sigmaDocs {
				errs = append(errs, fmt.Errorf("%s: Sigma rule, but this build has no Sigma compiler", d.File))
			}
		} else {
			rs, es := sigma(sigmaDocs)
			out = append(out, rs...)
			errs = append(errs, es...)
		}
	}
	out, dup := dedupe(out)
	return out, append(errs, dup...)
}

// Files lists the rule files LoadPaths reads for one path: the file, or
// the *.yml and *.yaml files under a folder in lexical order (hidden
// folders left out).
func Files(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := strings.ToLower(filepath.Ext(path)); ext == ".yml" || ext == ".yaml" {
			files = append(files, path)
		}
		return nil
	})
	return files, err
}

// dedupe drops rules whose ID was already loaded, reporting each.
func dedupe(rs []*Rule) ([]*Rule, []error) {
	seen := map[string]*Rule{}
	var out []*Rule
	var errs []error
	for _, r := range rs {
		if first, ok := seen[r.ID]; ok {
			errs = append(errs, &yamlx.Error{File: r.File, Line: r.Line, Column: 1,
				Msg: fmt.Sprintf("duplicate rule id %q (first in %s:%d)", r.ID, first.File, first.Line)})
			continue
		}
		seen[r.ID] = r
		out = append(out, r)
	}
	return out, errs
}

// Builtin loads the rule pack embedded in the binary (rules/*.yml).
func Builtin(cfg *caseconf.Config) ([]*Rule, []error) {
	names, err := fs.Glob(rules.FS, "*.yml")
	if err != nil {
		return nil, []error{err}
	}
	sort.Strings(names)
	var out []*Rule
	var errs []error
	for _, n := range names {
		data, err := rules.FS.ReadFile(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rs, es := ParseFile(cfg, "rules/"+n, data)
		out = append(out, rs...)
		errs = append(errs, es...)
	}
	out, dup := dedupe(out)
	return out, append(errs, dup...)
}

// ParseFile parses and compiles one spoor rule file: a single rule, or a
// mapping with a rules: list. It returns the rules that compiled and every
// error found, each with file:line:col.
func ParseFile(cfg *caseconf.Config, file string, data []byte) ([]*Rule, []error) {
	if cfg == nil {
		cfg = caseconf.Default()
	}
	src := newSource(file, data)
	doc, err := yamlx.Parse(file, data)
	if err != nil {
		return nil, []error{err}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, []error{&yamlx.Error{File: file, Line: 1, Column: 1, Msg: "empty rule file"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, []error{src.errf(root, "a rule file is a mapping (one rule) or has a rules: list")}
	}
	var nodes []*yaml.Node
	if mapValue(root, "rules") != nil {
		var fd fileDoc
		if err := yamlx.Decode(file, root, &fd); err != nil {
			return nil, unjoin(err)
		}
		rn := deref(fd.Rules.n)
		if rn == nil || rn.Kind != yaml.SequenceNode {
			return nil, []error{src.errf(mapValue(root, "rules"), "rules: must be a list of rules")}
		}
		nodes = rn.Content
	} else {
		nodes = []*yaml.Node{root}
	}
	var out []*Rule
	var errs []error
	for _, n := range nodes {
		def, es := parseDef(src, deref(n))
		if len(es) > 0 {
			errs = append(errs, es...)
			continue
		}
		r, es := build(cfg, def)
		if len(es) > 0 {
			errs = append(errs, es...)
			continue
		}
		out = append(out, r)
	}
	return out, errs
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return deref(m.Content[i+1])
		}
	}
	return nil
}

// item is the i-th element of a sequence, or the sequence itself when
// there is no such element (merge keys and aliases can make the decoded
// list differ from the node's).
func item(seq *yaml.Node, i int) *yaml.Node {
	if seq != nil && i < len(seq.Content) {
		return deref(seq.Content[i])
	}
	return seq
}

// deref resolves YAML aliases (*name) to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

var validSources = map[string]bool{event.SourceEVTX: true, event.SourceFirewall: true, event.SourceRMM: true}

// parseDef decodes and validates everything that does not depend on the
// case: fields, severity, filter, threshold shape and tests.
func parseDef(src *source, n *yaml.Node) (*ruleDef, []error) {
	def := &ruleDef{src: src, node: n}
	if n.Kind != yaml.MappingNode {
		return nil, []error{src.errf(n, "a rule is a mapping")}
	}
	if err := yamlx.Decode(src.file, n, &def.doc); err != nil {
		return nil, unjoin(err)
	}
	d := &def.doc
	var errs []error
	for _, req := range []struct{ key, val string }{{"id", d.ID}, {"title", d.Title}, {"severity", d.Severity}, {"condition", d.Condition}} {
		if strings.TrimSpace(req.val) == "" {
			pos := mapValue(n, req.key)
			if pos == nil {
				pos = n
			}
			errs = append(errs, src.errf(pos, "%s is required", req.key))
		}
	}
	if d.Severity != "" && event.Rank(d.Severity) < 0 {
		errs = append(errs, src.errf(mapValue(n, "severity"), "severity %q: want one of %s", d.Severity, strings.Join(event.Severities, ", ")))
	}
	if fn := mapValue(n, "filter"); fn != nil {
		for i, s := range d.Filter.Source {
			if !validSources[s] {
				errs = append(errs, src.errf(item(mapValue(fn, "source"), i), "source %q: want evtx, firewall or rmm", s))
			}
		}
	}
	if d.Threshold != nil {
		tn := mapValue(n, "threshold")
		if d.Threshold.Count < 1 {
			pos := mapValue(tn, "count")
			if pos == nil {
				pos = tn
			}
			errs = append(errs, src.errf(pos, "threshold.count must be at least 1"))
		}
		if w, err := time.ParseDuration(d.Threshold.Window); err != nil || w <= 0 {
			pos := mapValue(tn, "window")
			if pos == nil {
				pos = tn
			}
			errs = append(errs, src.errf(pos, "threshold.window %q: want a positive duration such as 10m", d.Threshold.Window))
		}
	}
	if d.TestCase.n != nil {
		cfg, err := parseTestCase(src, d.TestCase.n)
		if err != nil {
			errs = append(errs, err)
		}
		def.testCase = cfg
	}
	if d.Tests.n != nil {
		tests, es := parseTests(src, d.Tests.n, d.Threshold != nil)
		def.tests = tests
		errs = append(errs, es...)
	}
	return def, errs
}

// parseTestCase decodes an inline case config. caseconf only parses
// whole files, so the subtree is re-encoded and error lines are shifted
// back to where the subtree starts.
func parseTestCase(src *source, n *yaml.Node) (*caseconf.Config, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, src.errf(n, "test_case must be a mapping (a case config)")
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, src.errf(n, "test_case: %v", err)
	}
	cfg, err := caseconf.Parse(src.file, buf.Bytes())
	if err != nil {
		var ye *yamlx.Error
		if errors.As(err, &ye) {
			return nil, src.errAt(ye.Line+n.Line-1, ye.Column+n.Column-1, "test_case: %s", ye.Msg)
		}
		return nil, src.errf(n, "test_case: %v", strings.TrimPrefix(err.Error(), src.file+": "))
	}
	return cfg, nil
}

// build compiles a parsed rule against a case.
func build(cfg *caseconf.Config, def *ruleDef) (*Rule, []error) {
	d := &def.doc
	src := def.src
	n := def.node
	r := &Rule{
		ID: d.ID, Title: d.Title, Description: strings.TrimSpace(d.Description), Severity: d.Severity,
		Kind: KindSpoor, Tags: d.Tags, File: src.file, Line: n.Line,
		Filter:    Filter{Sources: d.Filter.Source, Channels: d.Filter.Channel, EventIDs: d.Filter.EventID},
		Tests:     def.tests,
		Condition: d.Condition, Output: d.Output, def: def,
	}
	var errs []error
	cols := map[string]bool{}
	readsAll := false
	exprErr := func(key string, vn *yaml.Node, off int, msg string) {
		line, col := src.posIn(vn, off)
		errs = append(errs, src.errAt(line, col, "%s: %s", key, msg))
	}
	cn := mapValue(n, "condition")
	prog, err := CompileExpr(cfg, d.Condition)
	if err != nil {
		var ee *ExprError
		if errors.As(err, &ee) {
			exprErr("condition", cn, ee.Offset, ee.Msg)
		} else {
			errs = append(errs, src.errf(cn, "condition: %v", err))
		}
	} else {
		r.prog = prog
		r.Requires = prog.Requires()
		r.Guards = prog.Guards()
		r.guard = guardFunc(r.Guards)
		r.MatchColumns = prog.Columns() // nil when it reads any ($env)
		readsAll = readsAll || prog.ReadsAll()
		for _, c := range prog.Columns() {
			cols[c] = true
		}
		r.Match = func(ev *event.Event) bool {
			ok, _ := prog.Eval(ev)
			return ok
		}
	}
	var tmpl *Template
	if d.Output != "" {
		on := mapValue(n, "output")
		t, err := CompileTemplate(cfg, d.Output)
		if err != nil {
			var te *TemplateError
			if errors.As(err, &te) {
				exprErr("output", on, te.Offset, te.Msg)
			} else {
				errs = append(errs, src.errf(on, "output: %v", err))
			}
		} else {
			tmpl = t
			readsAll = readsAll || t.ReadsAll()
			for _, c := range t.Columns() {
				cols[c] = true
			}
			r.Summary = t.Render
		}
	}
	if r.Summary == nil {
		title := d.Title
		r.Summary = func(ev *event.Event) string { return defaultSummary(title, ev) }
		cols["host"], cols["user"], cols["subject_user"], cols["operator"] = true, true, true, true
	}
	if d.Threshold != nil {
		r.Kind = KindThreshold
		th, es := compileThreshold(cfg, def, r, tmpl)
		errs = append(errs, es...)
		if th != nil {
			readsAll = readsAll || th.readsAll()
			for _, c := range th.columns() {
				cols[c] = true
			}
			r.NewState = th.newState
			r.Stateful = th.newState()
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	for _, c := range FindingColumns {
		cols[c] = true // what findings and filters read
	}
	if readsAll {
		r.Columns = nil // $env somewhere: every column
		return r, nil
	}
	r.Columns = make([]string, 0, len(cols))
	for c := range cols {
		r.Columns = append(r.Columns, c)
	}
	sort.Strings(r.Columns)
	return r, nil
}

// FindingColumns are what any finding of a rule reads of its event (its
// reference, host, identity, session), whatever the rule says it reads.
var FindingColumns = []string{"time", "source", "host", "channel", "provider", "event_id", "record_id", "evidence", "offset", "seq", "user", "subject_user", "operator", "session_id"}

func defaultSummary(title string, ev *event.Event) string {
	s := title + " on " + formatValue(ev.Host)
	if u := UserOf(ev); u != "" {
		s += " (" + u + ")"
	}
	return s
}

// Test-event keys and how they set an event: the condition variables
// (event.Columns' Var, and source), so a test reads like the condition it
// exercises.
var testSetters = func() map[string]func(ev *event.Event, v string) error {
	m := map[string]func(ev *event.Event, v string) error{
		"source": func(ev *event.Event, v string) error { ev.Source = v; return nil },
	}
	for i := range event.Columns {
		c := &event.Columns[i]
		m[c.Var] = func(ev *event.Event, v string) error {
			if err := c.SetString(ev, v); err != nil {
				if c.Kind == event.KindTime {
					return fmt.Errorf("time %q: want RFC 3339, e.g. 2024-03-09T02:14:00+01:00", v)
				}
				return fmt.Errorf("%q is not an integer", v)
			}
			return nil
		}
	}
	return m
}()

// testEpoch is the time of a test event that gives none: a Monday at
// 10:00 UTC, inside the default business hours.
var testEpoch = time.Date(2024, 1, 8, 10, 0, 0, 0, time.UTC)

func parseTests(src *source, n *yaml.Node, stateful bool) ([]Test, []error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return nil, []error{src.errf(n, "tests must be a list")}
	}
	var out []Test
	var errs []error
	for i, tn := range n.Content {
		tn = deref(tn)
		if tn.Kind != yaml.MappingNode {
			errs = append(errs, src.errf(tn, "a test is a mapping with name, event/events and match/count"))
			continue
		}
		t := Test{Name: fmt.Sprintf("test %d", i+1), Line: tn.Line}
		var evNodes []*yaml.Node
		hasMatch, hasCount := false, false
		for j := 0; j+1 < len(tn.Content); j += 2 {
			k, v := tn.Content[j], deref(tn.Content[j+1])
			switch k.Value {
			case "name":
				t.Name = v.Value
			case "match":
				if err := v.Decode(&t.Match); err != nil {
					errs = append(errs, src.errf(v, "match: want true or false"))
				}
				hasMatch = true
			case "count":
				if err := v.Decode(&t.Count); err != nil || t.Count < 0 {
					errs = append(errs, src.errf(v, "count: want a number of findings"))
				}
				hasCount = true
			case "event":
				evNodes = append(evNodes, v)
			case "events":
				if v.Kind != yaml.SequenceNode {
					errs = append(errs, src.errf(v, "events must be a list"))
					continue
				}
				evNodes = append(evNodes, v.Content...)
			default:
				errs = append(errs, src.errf(k, "unknown key %q in test (known: name, event, events, match, count)", k.Value))
			}
		}
		switch {
		case stateful && !hasCount:
			errs = append(errs, src.errf(tn, "test %q of a threshold rule needs count: (findings expected)", t.Name))
		case !stateful && !hasMatch:
			errs = append(errs, src.errf(tn, "test %q needs match: true or false", t.Name))
		case !stateful && hasCount:
			errs = append(errs, src.errf(tn, "test %q: count: is for threshold rules; use match:", t.Name))
		}
		if len(evNodes) == 0 {
			errs = append(errs, src.errf(tn, "test %q has no event", t.Name))
		}
		prev := time.Time{}
		for _, en := range evNodes {
			evs, err := parseTestEvent(src, deref(en), prev, len(t.Events))
			if err != nil {
				errs = append(errs, err...)
				continue
			}
			if len(evs) > 0 {
				prev = evs[len(evs)-1].Time
			}
			t.Events = append(t.Events, evs...)
		}
		out = append(out, t)
	}
	return out, errs
}

// parseTestEvent decodes one test event (schema fields by condition
// name, raw fields under fields:, repeat:/every: to make a sequence).
func parseTestEvent(src *source, n *yaml.Node, prev time.Time, index int) ([]*event.Event, []error) {
	if n.Kind != yaml.MappingNode {
		return nil, []error{src.errf(n, "an event is a mapping of fields")}
	}
	ev := &event.Event{Source: event.SourceEVTX, Fields: ordereddict.NewDict()}
	var errs []error
	repeat, every := 1, time.Second
	hasTime := false
	for j := 0; j+1 < len(n.Content); j += 2 {
		k, v := n.Content[j], deref(n.Content[j+1])
		switch k.Value {
		case "fields":
			d, err := rawFields(src, v)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ev.Fields = d
		case "repeat":
			if err := v.Decode(&repeat); err != nil || repeat < 1 || repeat > 100000 {
				errs = append(errs, src.errf(v, "repeat: want a count from 1 to 100000"))
			}
		case "every":
			d, err := time.ParseDuration(v.Value)
			if err != nil || d < 0 {
				errs = append(errs, src.errf(v, "every: want a duration such as 30s"))
			}
			every = d
		default:
			set, ok := testSetters[k.Value]
			if !ok {
				errs = append(errs, src.errf(k, "unknown event key %q (use a condition variable such as event_id, user, or raw fields under fields:)", k.Value))
				continue
			}
			if v.Kind != yaml.ScalarNode {
				errs = append(errs, src.errf(v, "%s: want a scalar", k.Value))
				continue
			}
			if err := set(ev, v.Value); err != nil {
				errs = append(errs, src.errf(v, "%s: %v", k.Value, err))
			}
			if k.Value == "time" {
				hasTime = true
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if !hasTime {
		if prev.IsZero() {
			ev.Time = testEpoch
		} else {
			ev.Time = prev.Add(time.Second)
		}
	}
	if ev.Evidence == "" {
		ev.Evidence = src.file
	}
	out := make([]*event.Event, 0, repeat)
	for i := 0; i < repeat; i++ {
		c := *ev
		c.Time = ev.Time.Add(time.Duration(i) * every)
		if ev.Offset == 0 {
			c.Offset = int64(index + i + 1)
		}
		out = append(out, &c)
	}
	return out, nil
}

func rawFields(src *source, n *yaml.Node) (*ordereddict.Dict, error) {
	if n.Kind != yaml.MappingNode {
		return nil, src.errf(n, "fields: want a mapping of raw field names to values")
	}
	d := ordereddict.NewDict()
	for j := 0; j+1 < len(n.Content); j += 2 {
		k, v := n.Content[j], deref(n.Content[j+1])
		switch v.Kind {
		case yaml.ScalarNode:
			d.Set(k.Value, v.Value)
		case yaml.MappingNode:
			sub, err := rawFields(src, v)
			if err != nil {
				return nil, err
			}
			d.Set(k.Value, sub)
		default:
			return nil, src.errf(v, "fields.%s: want a scalar or a mapping", k.Value)
		}
	}
	return d, nil
}
