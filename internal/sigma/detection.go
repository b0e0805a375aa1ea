package sigma

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/spoor-dfir/spoor/internal/asciifold"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/yamlx"
	"go.yaml.in/yaml/v3"
)

// pred is a compiled piece of a detection. src is the index of the
// logsource source the event belongs to (-1 when the rule is not narrowed),
// which picks the field renames.
type pred func(ev *event.Event, src int) bool

// compiler holds what compiling one rule's detection needs.
type compiler struct {
	file    string
	sources []Source
	opts    *CompileOptions
	fields  []string // field names in order of first use, for summaries
	seen    map[string]bool
}

// field returns the getter for a Sigma field name under each source.
func (c *compiler) field(name string) func(ev *event.Event, src int) (string, bool) {
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	if !c.seen[name] {
		c.seen[name] = true
		c.fields = append(c.fields, name)
	}
	def := fieldGetter(name)
	if len(c.sources) == 0 {
		return func(ev *event.Event, _ int) (string, bool) { return def(ev) }
	}
	per := make([]getter, len(c.sources))
	renamed := false
	for i, s := range c.sources {
		if raw, ok := s.Fields[name]; ok && raw != name {
			per[i] = fieldGetter(raw)
			renamed = true
		} else {
			per[i] = def
		}
	}
	if !renamed {
		return func(ev *event.Event, _ int) (string, bool) { return def(ev) }
	}
	return func(ev *event.Event, src int) (string, bool) {
		if src >= 0 && src < len(per) {
			return per[src](ev)
		}
		return def(ev)
	}
}

// valueMapped reports whether a source of the rule translates values of
// the Sigma field name (Source.Values).
func (c *compiler) valueMapped(name string) bool {
	if name == "" {
		return false
	}
	for _, s := range c.sources {
		if len(s.Values[name]) > 0 {
			return true
		}
	}
	return false
}

// mappedValue widens the matcher one of value n so that, on events of a
// source that writes the value differently (4688's mandatory label SID
// for Sysmon's integrity level name), the source's spelling matches too.
// The rule's own spelling still matches there, so rules that list both
// keep working.
func (c *compiler) mappedValue(name string, n *yaml.Node, m modifiers, one valueMatcher) (valueMatcher, error) {
	per := make([]valueMatcher, len(c.sources))
	mapped := false
	for i, s := range c.sources {
		vms := []valueMatcher{one}
		for _, k := range slices.Sorted(maps.Keys(s.Values[name])) {
			if !strings.EqualFold(k, n.Value) {
				continue
			}
			alt := *n
			alt.Value = s.Values[name][k]
			vm, err := c.value(&alt, m)
			if err != nil {
				return nil, err
			}
			vms = append(vms, vm)
		}
		if len(vms) == 1 {
			continue
		}
		mapped = true
		per[i] = func(s string, present bool, ev *event.Event, src int) bool {
			for _, vm := range vms {
				if vm(s, present, ev, src) {
					return true
				}
			}
			return false
		}
	}
	if !mapped {
		return one, nil
	}
	return func(s string, present bool, ev *event.Event, src int) bool {
		if src >= 0 && src < len(per) && per[src] != nil {
			return per[src](s, present, ev, src)
		}
		return one(s, present, ev, src)
	}, nil
}

// selections compiles the search identifiers of a detection (or filter)
// mapping, every key but those in skip; an error is placed at the
// selection that failed.
func (c *compiler) selections(m *yaml.Node, skip ...string) (map[string]sel, error) {
	sels := map[string]sel{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if slices.Contains(skip, k.Value) {
			continue
		}
		p, nd, err := c.selection(v)
		if err != nil {
			var ye *yamlx.Error
			if !errors.As(err, &ye) {
				err = yamlx.Errorf(c.file, v, "%v", err)
			}
			return nil, err
		}
		sels[k.Value] = sel{p, nd}
	}
	return sels, nil
}

// selection compiles one named search identifier: the predicate the
// straightforward evaluator runs and the same detection as a tree for
// the compiled rule set (set.go).
func (c *compiler) selection(n *yaml.Node) (pred, *node, error) {
	switch n.Kind {
	case yaml.MappingNode:
		return c.fieldMap(n)
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, nil, yamlx.Errorf(c.file, n, "empty search identifier")
		}
		allMaps := true
		for _, it := range n.Content {
			if it.Kind != yaml.MappingNode {
				allMaps = false
			}
		}
		if allMaps {
			var ors []pred
			var nodes []*node
			for _, it := range n.Content {
				p, nd, err := c.fieldMap(it)
				if err != nil {
					return nil, nil, err
				}
				ors = append(ors, p)
				nodes = append(nodes, nd)
			}
			return anyOf(ors), join(nOr, nodes), nil
		}
		// A list of plain values: keywords, any of them.
		return c.fieldValues("", nil, n)
	case yaml.ScalarNode:
		return c.fieldValues("", nil, n)
	case yaml.AliasNode:
		return c.selection(n.Alias)
	}
	return nil, nil, yamlx.Errorf(c.file, n, "unsupported search identifier")
}

func (c *compiler) fieldMap(n *yaml.Node) (pred, *node, error) {
	var ands []pred
	var nodes []*node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		parts := strings.Split(k.Value, "|")
		p, nd, err := c.fieldValues(parts[0], parts[1:], v)
		if err != nil {
			if _, ok := err.(*yamlx.Error); !ok {
				err = yamlx.Errorf(c.file, k, "%s: %v", k.Value, err)
			}
			return nil, nil, err
		}
		ands = append(ands, p)
		nodes = append(nodes, nd)
	}
	if len(ands) == 0 {
		return nil, nil, yamlx.Errorf(c.file, n, "empty search identifier")
	}
	return allOf(ands), join(nAnd, nodes), nil
}

func anyOf(ps []pred) pred {
	if len(ps) == 1 {
		return ps[0]
	}
	return func(ev *event.Event, src int) bool {
		for _, p := range ps {
			if p(ev, src) {
				return true
			}
		}
		return false
	}
}

func allOf(ps []pred) pred {
	if len(ps) == 1 {
		return ps[0]
	}
	return func(ev *event.Event, src int) bool {
		for _, p := range ps {
			if !p(ev, src) {
				return false
			}
		}
		return true
	}
}

// modifiers is a parsed modifier chain.
type modifiers struct {
	transforms []string // in order: wide, utf16*, base64, base64offset, windash
	op         string   // "", contains, startswith, endswith, re, cidr, gt, gte, lt, lte, exists, fieldref
	all        bool
	cased      bool
	expand     bool
	reFlags    string
	// neq negates equality: the field is present and differs from every
	// value (Sigma 2.1; with fieldref, from the other field).
	neq bool
	// timePart (minute, hour, day, week, month, year) compares that part
	// of the field's date, in UTC, with the integer values (Sigma 2.1
	// time modifiers), alone or under gt, gte, lt, lte or neq.
	timePart string
}

func parseModifiers(mods []string) (modifiers, error) {
	var m modifiers
	setOp := func(op string) error {
		if m.op != "" && m.op != op {
			// fieldref combines with the string operations.
			if m.op == "fieldref" && (op == "contains" || op == "startswith" || op == "endswith") {
				m.op = "fieldref-" + op
				return nil
			}
			if op == "fieldref" && (m.op == "contains" || m.op == "startswith" || m.op == "endswith") {
				m.op = "fieldref-" + m.op
				return nil
			}
			return fmt.Errorf("modifiers %s and %s cannot be combined", m.op, op)
		}
		m.op = op
		return nil
	}
	for _, mod := range mods {
		switch strings.ToLower(mod) {
		case "contains", "startswith", "endswith", "re", "cidr", "gt", "gte", "lt", "lte", "exists", "fieldref":
			if err := setOp(strings.ToLower(mod)); err != nil {
				return m, err
			}
		case "neq":
			m.neq = true
		case "minute", "hour", "day", "week", "month", "year":
			if m.timePart != "" {
				return m, fmt.Errorf("modifiers %s and %s cannot be combined", m.timePart, strings.ToLower(mod))
			}
			m.timePart = strings.ToLower(mod)
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "expand":
			m.expand = true
		case "wide", "utf16le":
			m.transforms = append(m.transforms, "utf16le")
		case "utf16be", "utf16", "base64", "base64offset", "windash":
			m.transforms = append(m.transforms, strings.ToLower(mod))
		case "i", "ignorecase":
			m.reFlags += "i"
		case "m", "multiline":
			m.reFlags += "m"
		case "s", "dotall":
			m.reFlags += "s"
		default:
			return m, fmt.Errorf("unsupported modifier %q", mod)
		}
	}
	if m.reFlags != "" && m.op != "re" {
		return m, fmt.Errorf("regular expression flags need the re modifier")
	}
	if m.neq {
		switch {
		case m.op != "" && !strings.HasPrefix(m.op, "fieldref"):
			return m, fmt.Errorf("modifiers neq and %s cannot be combined", m.op)
		case m.all:
			return m, fmt.Errorf("neq already means the field differs from every value; all adds nothing")
		}
	}
	if m.timePart != "" {
		switch {
		case len(m.transforms) > 0 || m.expand || m.cased:
			return m, fmt.Errorf("the time modifier %s compares numbers: it takes no encodings, expand or cased", m.timePart)
		case m.op != "" && m.op != "gt" && m.op != "gte" && m.op != "lt" && m.op != "lte":
			return m, fmt.Errorf("modifiers %s and %s cannot be combined", m.timePart, m.op)
		}
	}
	return m, nil
}

// fieldValues compiles "field|mods: values" to the straightforward
// evaluator's predicate and to a tree node for the compiled rule set.
func (c *compiler) fieldValues(fieldName string, modNames []string, v *yaml.Node) (pred, *node, error) {
	p, err := c.fieldPred(fieldName, modNames, v)
	if err != nil {
		return nil, nil, err
	}
	return p, c.fieldNode(fieldName, modNames, v, p), nil
}

// fieldPred compiles "field|mods: values". An empty field name means
// keywords: the values are searched in every raw value of the event.
func (c *compiler) fieldPred(fieldName string, modNames []string, v *yaml.Node) (pred, error) {
	m, err := parseModifiers(modNames)
	if err != nil {
		return nil, yamlx.Errorf(c.file, v, "%v", err)
	}
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	if fieldName == "" && m.op == "" {
		// Keywords are searched for inside the values, not compared whole.
		m.op = "contains"
	}
	var vals []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		vals = []*yaml.Node{v}
	case yaml.SequenceNode:
		vals = v.Content
	default:
		return nil, yamlx.Errorf(c.file, v, "value must be a scalar or a list")
	}
	if len(vals) == 0 {
		return nil, yamlx.Errorf(c.file, v, "empty value list")
	}

	var get func(ev *event.Event, src int) (string, bool)
	if fieldName != "" {
		get = c.field(fieldName)
	}

	// Each value compiles to a matcher over (value, present, event).
	var ms []valueMatcher
	for _, n := range vals {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n.Kind != yaml.ScalarNode {
			return nil, yamlx.Errorf(c.file, n, "list values must be scalars")
		}
		if n.Tag == "!!null" {
			if m.op != "" || len(m.transforms) > 0 || m.neq || m.timePart != "" {
				return nil, yamlx.Errorf(c.file, n, "null cannot take modifiers")
			}
			ms = append(ms, func(s string, present bool, _ *event.Event, _ int) bool { return !present || s == "" })
			continue
		}
		one, err := c.value(n, m)
		if err != nil {
			return nil, err
		}
		if c.valueMapped(fieldName) && m.op != "exists" && !strings.HasPrefix(m.op, "fieldref") {
			if one, err = c.mappedValue(fieldName, n, m, one); err != nil {
				return nil, err
			}
		}
		if m.neq && m.op == "" && m.timePart == "" && (n.Tag == "!!int" || n.Tag == "!!float") {
			// A number also equals its other spellings (0x10, 16.0).
			one = orNumber(one, n.Value)
		}
		ms = append(ms, one)
	}

	if p := c.multiContains(fieldName, m, vals); p != nil {
		return p, nil
	}

	if fieldName == "" {
		switch {
		case m.op == "exists":
			return nil, yamlx.Errorf(c.file, v, "exists needs a field")
		case m.neq || m.timePart != "":
			return nil, yamlx.Errorf(c.file, v, "neq and the time modifiers need a field")
		}
	}

	if m.neq && !strings.HasPrefix(m.op, "fieldref") {
		// The field must be there and equal none of the values: "not
		// sel" is the way to also take events without the field.
		return func(ev *event.Event, src int) bool {
			s, ok := get(ev, src)
			if !ok {
				return false
			}
			for _, mv := range ms {
				if mv(s, true, ev, src) {
					return false
				}
			}
			return true
		}, nil
	}

	if fieldName == "" {
		// Keywords: a value matches when any raw value of the event does.
		kw := func(mv valueMatcher) pred {
			return func(ev *event.Event, src int) bool {
				return eachValue(ev, func(s string) bool { return mv(s, true, ev, src) })
			}
		}
		ps := make([]pred, len(ms))
		for i, mv := range ms {
			ps[i] = kw(mv)
		}
		if m.all {
			return allOf(ps), nil
		}
		return anyOf(ps), nil
	}

	if m.all {
		return func(ev *event.Event, src int) bool {
			s, ok := get(ev, src)
			for _, mv := range ms {
				if !mv(s, ok, ev, src) {
					return false
				}
			}
			return true
		}, nil
	}
	if len(ms) == 1 {
		mv := ms[0]
		return func(ev *event.Event, src int) bool {
			s, ok := get(ev, src)
			return mv(s, ok, ev, src)
		}, nil
	}
	return func(ev *event.Event, src int) bool {
		s, ok := get(ev, src)
		for _, mv := range ms {
			if mv(s, ok, ev, src) {
				return true
			}
		}
		return false
	}, nil
}

// valueMatcher tests one field value (present tells a missing field from
// an empty one).
type valueMatcher func(s string, present bool, ev *event.Event, src int) bool

// value compiles one scalar under a modifier chain; with expand, each
// placeholder value is compiled and any of them may match.
func (c *compiler) value(n *yaml.Node, m modifiers) (valueMatcher, error) {
	if !m.expand {
		return c.valueOne(n, n.Value, m)
	}
	raws, err := c.expand(n.Value)
	if err != nil {
		return nil, yamlx.Errorf(c.file, n, "%v", err)
	}
	var vms []valueMatcher
	for _, raw := range raws {
		vm, err := c.valueOne(n, raw, m)
		if err != nil {
			return nil, err
		}
		vms = append(vms, vm)
	}
	if len(vms) == 1 {
		return vms[0], nil
	}
	return func(s string, present bool, ev *event.Event, src int) bool {
		for _, vm := range vms {
			if vm(s, present, ev, src) {
				return true
			}
		}
		return false
	}, nil
}

func (c *compiler) valueOne(n *yaml.Node, raw string, m modifiers) (valueMatcher, error) {
	errf := func(format string, args ...any) error { return yamlx.Errorf(c.file, n, format, args...) }

	if m.timePart != "" {
		want, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return nil, errf("%s needs an integer, not %q", m.timePart, raw)
		}
		part, op := m.timePart, m.op
		return func(s string, present bool, _ *event.Event, _ int) bool {
			if !present {
				return false
			}
			t, ok := parseTime(s)
			if !ok {
				return false
			}
			return compareInt(op, timePart(t, part), want)
		}, nil
	}

	switch m.op {
	case "exists":
		want, err := strconv.ParseBool(raw)
		if err != nil || n.Tag != "!!bool" {
			return nil, errf("exists needs true or false, not %q", raw)
		}
		return func(_ string, present bool, _ *event.Event, _ int) bool { return present == want }, nil
	case "re":
		if len(m.transforms) > 0 {
			return nil, errf("re cannot be combined with encodings")
		}
		flags := ""
		for _, f := range "ims" {
			if strings.ContainsRune(m.reFlags, f) {
				flags += string(f)
			}
		}
		pat := raw
		if flags != "" {
			pat = "(?" + flags + ")" + pat
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, errf("regular expression %q: %v", raw, err)
		}
		return func(s string, present bool, _ *event.Event, _ int) bool { return present && re.MatchString(s) }, nil
	case "cidr":
		pfx, err := netip.ParsePrefix(strings.TrimSpace(raw))
		if err != nil {
			return nil, errf("cidr %q: %v", raw, err)
		}
		pfx = pfx.Masked()
		return func(s string, present bool, _ *event.Event, _ int) bool {
			if !present {
				return false
			}
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				return false
			}
			return pfx.Contains(a.Unmap())
		}, nil
	case "gt", "gte", "lt", "lte":
		want, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, errf("%s needs a number, not %q", m.op, raw)
		}
		op := m.op
		return func(s string, present bool, _ *event.Event, _ int) bool {
			if !present {
				return false
			}
			have, err := parseNumber(s)
			if err != nil {
				return false
			}
			switch op {
			case "gt":
				return have > want
			case "gte":
				return have >= want
			case "lt":
				return have < want
			}
			return have <= want
		}, nil
	case "fieldref", "fieldref-contains", "fieldref-startswith", "fieldref-endswith":
		other := c.field(raw)
		cased, neq := m.cased, m.neq
		op := strings.TrimPrefix(strings.TrimPrefix(m.op, "fieldref"), "-")
		return func(s string, present bool, ev *event.Event, src int) bool {
			o, ok := other(ev, src)
			if !present || !ok {
				return false
			}
			if !cased {
				s, o = strings.ToLower(s), strings.ToLower(o)
			}
			switch op {
			case "contains":
				return strings.Contains(s, o) != neq
			case "startswith":
				return strings.HasPrefix(s, o) != neq
			case "endswith":
				return strings.HasSuffix(s, o) != neq
			}
			return (s == o) != neq
		}, nil
	}

	// String matching: parse wildcards, apply the encodings in order,
	// then the operation.
	variants := [][]token{parsePattern(raw)}
	for _, t := range m.transforms {
		var next [][]token
		for _, toks := range variants {
			out, err := transform(t, toks)
			if err != nil {
				return nil, errf("%v", err)
			}
			next = append(next, out...)
		}
		variants = next
	}
	var sms []strMatcher
	for _, toks := range variants {
		sms = append(sms, compileString(toks, m.op, m.cased))
	}
	if len(sms) == 1 {
		sm := sms[0]
		return func(s string, present bool, _ *event.Event, _ int) bool {
			if !present {
				// Sigma's empty value also stands for a missing field.
				return raw == "" && len(m.transforms) == 0 && m.op == ""
			}
			return sm(s)
		}, nil
	}
	return func(s string, present bool, _ *event.Event, _ int) bool {
		if !present {
			return false
		}
		for _, sm := range sms {
			if sm(s) {
				return true
			}
		}
		return false
	}, nil
}

// orNumber widens an equality matcher on a number to the field's other
// spellings of it (hex, a decimal point), as a numeric comparison would.
func orNumber(eq valueMatcher, raw string) valueMatcher {
	want, err := parseNumber(raw)
	if err != nil {
		return eq
	}
	return func(s string, present bool, ev *event.Event, src int) bool {
		if eq(s, present, ev, src) {
			return true
		}
		have, err := parseNumber(s)
		return present && err == nil && have == want
	}
}

// compareInt applies a numeric modifier ("" is equality).
func compareInt(op string, have, want int) bool {
	switch op {
	case "gt":
		return have > want
	case "gte":
		return have >= want
	case "lt":
		return have < want
	case "lte":
		return have <= want
	}
	return have == want
}

// timeLayouts are the date forms the time modifiers read: RFC 3339 (the
// event time as the TimeCreated field gives it, JSON logs) and the
// "2006-01-02 15:04:05.000" of Sysmon's UtcTime and of SQL exports.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}

// parseTime reads a date field; a date without a zone is taken as UTC,
// as Sigma's time modifiers do no zone conversion.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// timePart extracts a time modifier's number from t (UTC); week is the
// ISO 8601 week (1–53).
func timePart(t time.Time, part string) int {
	switch part {
	case "minute":
		return t.Minute()
	case "hour":
		return t.Hour()
	case "day":
		return t.Day()
	case "week":
		_, w := t.ISOWeek()
		return w
	case "month":
		return int(t.Month())
	}
	return t.Year()
}

func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		u, err := strconv.ParseUint(s[2:], 16, 64)
		return float64(u), err
	}
	return strconv.ParseFloat(s, 64)
}

// expand replaces %name% placeholders with each of their values (all
// combinations when there are several). Names are taken from the rule's
// text only, so a value containing %…% is not expanded again.
func (c *compiler) expand(raw string) ([]string, error) {
	var names []string
	for rest := raw; ; {
		i := strings.IndexByte(rest, '%')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i+1:], '%')
		if j < 0 {
			break
		}
		names = append(names, rest[i+1:i+1+j])
		rest = rest[i+1+j+1:]
	}
	if len(names) == 0 {
		return []string{raw}, nil
	}
	// Split raw into literal parts around the placeholders.
	parts := []string{}
	rest := raw
	for _, name := range names {
		k := strings.Index(rest, "%"+name+"%")
		parts = append(parts, rest[:k])
		rest = rest[k+len(name)+2:]
	}
	out := []string{""}
	for i, name := range names {
		var vals []string
		if c.opts != nil {
			vals = c.opts.Placeholders[name]
		}
		if len(vals) == 0 {
			// An error, not a value matching nothing: the Sigma
			// modifiers appendix leaves expansion to the processing
			// pipeline, and pySigma's value-list placeholder
			// transformation fails on a placeholder it has no
			// values for. A rule silently matching nothing would
			// hide that the case lacks what the rule needs.
			return nil, errors.New(placeholderHelp(name))
		}
		var next []string
		for _, o := range out {
			for _, v := range vals {
				// Placeholder values are Sigma strings: their wildcards
				// count (as in pySigma's placeholder expansion).
				next = append(next, o+parts[i]+v)
			}
		}
		out = next
	}
	for i := range out {
		out[i] += rest
	}
	return out, nil
}

// windashChars are the characters Windows command lines accept in place
// of a leading dash (Sigma windash modifier).
var windashChars = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

func transform(t string, toks []token) ([][]token, error) {
	if t == "windash" {
		var out [][]token
		for _, ch := range windashChars {
			nt := make([]token, len(toks))
			for i, tk := range toks {
				nt[i] = tk
				if tk.kind == 'l' {
					nt[i].lit = windash(tk.lit, ch, i == 0 || toks[i-1].kind != 'l')
				}
			}
			out = append(out, nt)
		}
		return out, nil
	}
	lit, ok := plainText(toks)
	if !ok {
		return nil, fmt.Errorf("%s cannot encode a value with wildcards", t)
	}
	switch t {
	case "utf16le", "utf16be", "utf16":
		u := utf16.Encode([]rune(lit))
		var b []byte
		if t == "utf16" {
			b = append(b, 0xFF, 0xFE)
		}
		for _, r := range u {
			if t == "utf16be" {
				b = binary.BigEndian.AppendUint16(b, r)
			} else {
				b = binary.LittleEndian.AppendUint16(b, r)
			}
		}
		return [][]token{{{kind: 'l', lit: string(b)}}}, nil
	case "base64":
		return [][]token{{{kind: 'l', lit: base64.StdEncoding.EncodeToString([]byte(lit))}}}, nil
	case "base64offset":
		// The three encodings of the value at byte offsets 0, 1 and 2 of
		// a larger base64 text, without the characters that depend on
		// the unknown neighbours (as pySigma does).
		starts := [3]int{0, 2, 3}
		ends := [3]int{0, -3, -2}
		var out [][]token
		seen := map[string]bool{}
		for i := 0; i < 3; i++ {
			enc := base64.StdEncoding.EncodeToString(append([]byte(strings.Repeat(" ", i)), lit...))
			end := len(enc)
			if e := ends[(len(lit)+i)%3]; e != 0 {
				end += e
			}
			if starts[i] > end {
				continue
			}
			s := enc[starts[i]:end]
			if !seen[s] {
				seen[s] = true
				out = append(out, []token{{kind: 'l', lit: s}})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported modifier %q", t)
}

// windash replaces dashes and slashes that start an option (preceded by a
// non-word character or the start, followed by a word character) with ch.
func windash(s, ch string, atStart bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == '/' {
			prevOK := (i == 0 && atStart) || (i > 0 && !isWord(s[i-1]))
			nextOK := i+1 < len(s) && isWord(s[i+1])
			if prevOK && nextOK {
				b.WriteString(ch)
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isWord(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

// sortedKeys is used for deterministic error and summary order.
func sortedKeys(m map[string]sel) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// multiContainsMin is the list length from which a field's contains
// values are matched against one lower-cased copy of the value (vector
// substring search per pattern) instead of folding per pattern.
const multiContainsMin = 3

var lowerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// multiContains compiles the common "Field|contains[|all][|windash]: long
// list of plain words" shape, or returns nil when the values are not of
// that shape.
func (c *compiler) multiContains(fieldName string, m modifiers, vals []*yaml.Node) pred {
	if fieldName == "" || m.op != "contains" || m.cased || m.expand || len(vals) < multiContainsMin || c.valueMapped(fieldName) {
		return nil
	}
	for _, t := range m.transforms {
		if t != "windash" {
			return nil
		}
	}
	// groups[i] are the variants of value i (windash gives several).
	var groups [][][]byte
	for _, n := range vals {
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return nil
		}
		lit, ok := plainText(parsePattern(n.Value))
		if !ok || lit == "" || !asciiFold(strings.ToLower(lit)) {
			return nil
		}
		var vs []string
		if len(m.transforms) > 0 {
			for _, ch := range windashChars {
				vs = append(vs, windash(lit, ch, true))
			}
		} else {
			vs = []string{lit}
		}
		var g [][]byte
		for _, v := range vs {
			g = append(g, []byte(strings.ToLower(v)))
		}
		groups = append(groups, g)
	}
	get := c.field(fieldName)
	all := m.all
	return func(ev *event.Event, src int) bool {
		s, ok := get(ev, src)
		if !ok {
			return false
		}
		if len(s) >= longValue {
			lv := lowerLong(s)
			for _, g := range groups {
				hit := false
				for _, p := range g {
					if lv.contains(p) {
						hit = true
						break
					}
				}
				if hit != all {
					return hit
				}
			}
			return all
		}
		bp := lowerBufs.Get().(*[]byte)
		buf := (*bp)[:0]
		for i := 0; i < len(s); i++ {
			buf = append(buf, asciifold.Lower(s[i]))
		}
		res := all
		for _, g := range groups {
			hit := false
			for _, p := range g {
				if bytes.Contains(buf, p) {
					hit = true
					break
				}
			}
			if hit != all {
				res = hit
				break
			}
		}
		if cap(buf) <= 1<<20 {
			*bp = buf
			lowerBufs.Put(bp)
		}
		return res
	}
}
