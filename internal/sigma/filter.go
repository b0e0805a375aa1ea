package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spoor-dfir/spoor/internal/yamlx"
	"go.yaml.in/yaml/v3"
)

// Sigma filters (sigma-filters-specification, v2) tune rules without
// editing them: a filter document names rules (by id or name, or "any"
// of its logsource) and carries selections and a condition, and every
// rule it applies to matches only when its own condition and the
// filter's both hold. pySigma, the reference implementation, joins them
// as "(rule condition) and (filter condition)", so a filter that drops
// events says so itself:
//
//	title: Admin jump host is expected to run rar
//	logsource: {product: windows, category: process_creation}
//	filter:
//	  rules: [6f3e2987-db24-4c78-a860-b4f4095a7095]
//	  selection:
//	    Computer|startswith: 'JUMP-'
//	  condition: not selection
//
// A filter applies to a rule when its logsource keys (product, category,
// service) all equal the rule's; its field names are renamed by the
// rule's logsource mapping like the rule's own. References to rules that
// are not loaded are ignored (as in pySigma), so one filter file can tune
// rule packs that are not always loaded.

// Filter is a parsed Sigma filter document.
type Filter struct {
	File, Title, ID   string
	Line              int
	product, category string
	service           string
	anyRule           bool
	rules             map[string]bool // ids and names it applies to
	sels              *yaml.Node      // the filter mapping: selections and condition
	cond              string
}

// hasFilterKey reports whether a file has a top-level filter key (a
// Sigma filter document).
func hasFilterKey(data []byte) bool {
	_, ok := yamlx.TopValue(data, "filter")
	return ok
}

// IsFilter reports whether a YAML file holds only Sigma filter documents
// (and so tunes the rules of every file it is loaded with; see
// CompileOptions.Filters).
func IsFilter(data []byte) bool {
	if !hasFilterKey(data) {
		return false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || len(doc.Content) == 0 {
			return false
		}
		if !isFilterNode(doc.Content[0]) {
			return false
		}
		n++
	}
	return n > 0
}

// isFilterNode tells a filter document from a rule: a filter section and
// no detection or correlation, nor a condition of its own (spoor's rules
// have a top-level filter too, beside their condition).
func isFilterNode(n *yaml.Node) bool {
	return n.Kind == yaml.MappingNode && mapGet(n, "filter") != nil && mapGet(n, "detection") == nil &&
		mapGet(n, "correlation") == nil && mapGet(n, "condition") == nil
}

// ParseFilters reads the filter documents of files (other documents are
// left for CompileWith), checking them under opts (placeholders). Each
// problem is an error at file:line:col; the filters that parsed are
// returned.
func ParseFilters(docs []Doc, opts CompileOptions) ([]*Filter, []error) {
	var out []*Filter
	var errs []error
	for _, d := range docs {
		nodes, err := splitDocs(d.File, d.Data, nil)
		if err != nil {
			errs = append(errs, err)
		}
		for _, n := range nodes {
			if !isFilterNode(n) {
				continue
			}
			f, err := parseFilter(d.File, n, &opts)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, f)
		}
	}
	return out, errs
}

func parseFilter(file string, n *yaml.Node, opts *CompileOptions) (*Filter, error) {
	f := &Filter{File: file, Line: n.Line, Title: scalar(n, "title"), ID: scalar(n, "id"), rules: map[string]bool{}}
	if f.Title == "" {
		return nil, yamlx.Errorf(file, n, "filter has no title")
	}
	ls := mapGet(n, "logsource")
	if ls == nil {
		return nil, yamlx.Errorf(file, n, "filter %q: no logsource", f.Title)
	}
	var err error
	if f.product, f.category, f.service, err = parseLogsourceNode(file, ls); err != nil {
		return nil, err
	}
	body := mapGet(n, "filter")
	if body.Kind != yaml.MappingNode {
		return nil, yamlx.Errorf(file, body, "filter %q: filter must be a mapping of rules, selections and condition", f.Title)
	}
	switch rs := mapGet(body, "rules"); {
	case rs == nil:
		f.anyRule = true // omitted: every rule of the logsource, as in pySigma
	case rs.Kind == yaml.ScalarNode && strings.EqualFold(rs.Value, "any"):
		f.anyRule = true
	case rs.Kind == yaml.ScalarNode:
		f.rules[rs.Value] = true
	case rs.Kind == yaml.SequenceNode:
		for _, it := range rs.Content {
			if it.Kind != yaml.ScalarNode || it.Value == "" {
				return nil, yamlx.Errorf(file, it, "filter %q: rules lists rule ids or names", f.Title)
			}
			f.rules[it.Value] = true
		}
		if len(rs.Content) == 0 {
			f.anyRule = true
		}
	default:
		return nil, yamlx.Errorf(file, rs, "filter %q: rules is a list of rule ids or names, or any", f.Title)
	}
	cn := mapGet(body, "condition")
	if cn == nil || cn.Kind != yaml.ScalarNode || strings.TrimSpace(cn.Value) == "" {
		return nil, yamlx.Errorf(file, body, "filter %q: no condition (one condition string, e.g. not selection)", f.Title)
	}
	f.sels, f.cond = mapWithout(body, "rules"), cn.Value
	// Compiled once without renames, so a broken filter is reported once
	// here rather than with every rule it would apply to.
	if _, err := f.compile(&compiler{file: file, opts: opts}); err != nil {
		return nil, err
	}
	return f, nil
}

// appliesTo reports whether f tunes the rule with this id, name and
// logsource.
func (f *Filter) appliesTo(id, name, product, category, service string) bool {
	eq := func(want, have string) bool { return want == "" || strings.EqualFold(want, have) }
	if !eq(f.product, product) || !eq(f.category, category) || !eq(f.service, service) {
		return false
	}
	return f.anyRule || f.rules[id] || name != "" && f.rules[name]
}

// compile compiles the filter's selections and condition with c (the
// rule's compiler: its logsource renames and value maps).
func (f *Filter) compile(c *compiler) (sel, error) {
	sels, err := c.selections(f.sels, "condition")
	if err != nil {
		return sel{}, fmt.Errorf("filter %q: %w", f.Title, err)
	}
	s, _, err := parseCondition(f.cond, sels)
	if err != nil {
		return sel{}, fmt.Errorf("filter %q: %w", f.Title, yamlx.Errorf(f.File, mapGet(f.sels, "condition"), "%v", err))
	}
	return s, nil
}
