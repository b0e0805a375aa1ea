// Package sigma compiles Sigma rules (https://sigmahq.io, specification
// v2) to spoor's rule shape, once at load: detections become compiled
// matchers (lower-cased literals, compiled regular expressions, parsed
// CIDRs), logsources become channel/event-id filters with field renames
// from an extensible mapping (logsources.yaml), and correlation rules
// become stateful rules with sliding windows.
//
// Choices where the specification leaves room, made for EVTX evidence:
//
//   - null and the empty string match a missing field as well as an empty one (EVTX
//     renders absent and empty data alike); any other value needs the
//     field, so "not filter" passes events without it.
//   - Keywords (unnamed values) are substrings of any raw field value or
//     the message.
//   - Field names resolve per record kind: the logsource mapping renames
//     (Security 4688: Image→NewProcessName …), then EventID, Channel,
//     Provider_Name, Computer and EventRecordID from the typed columns,
//     then the raw fields (one level into UserData). Data joins a classic
//     event's unnamed Data, Data_2, … with newlines.
//   - Regular expressions are Go RE2 (no look-around or back-references);
//     a rule using them fails to load with the reason.
//   - Correlations count within a sliding window and reset a group after
//     firing; conditions with an upper bound (lt, lte, eq) are decided when
//     a window closes (tumbling from the group's first event, or at Flush).
//     Rules referenced by a correlation produce findings of their own only
//     with generate: true (rule.Rule.NoFindings marks the others).
//   - neq (modifiers appendix v2.1): the field is present and equals none
//     of the values; a number also excludes its other spellings (16, 0x10).
//     With fieldref it compares two fields.
//   - Time modifiers (minute, hour, day, week, month, year; v2.1) take a
//     date field's part in UTC, as the appendix asks (no zone
//     conversion); week is the ISO 8601 week. TimeCreated is the record's
//     own time; other fields are read as RFC 3339 or
//     "2006-01-02 15:04:05.000" dates. They combine with gt, gte, lt, lte
//     and neq: "TimeCreated|hour|gte: 20".
//   - Filters (filters specification v2, filter.go) are joined to the
//     rules they name as "(rule) and (filter)", as pySigma does.
//   - expand placeholders take their values from CompileOptions
//     (CasePlaceholders: %provider_accounts% and the others from the case
//     config); one without values is a load error at the value, as in
//     pySigma, not a value that matches nothing.
//
// The logsource mapping (logsources.yaml, extended by a user's file
// through LoadLogsources) has one entry per product/category/service:
//
//	logsources:
//	  - product: windows
//	    category: process_creation
//	    sources:                      # the records the logsource stands for
//	      - channel: Security         # case-insensitive
//	        event_ids: [4688]         # empty: any event of the channel
//	        fields:                   # Sigma name -> the record's field
//	          Image: NewProcessName
//	        values:                   # Sigma value -> the record's spelling
//	          IntegrityLevel: {High: S-1-16-12288}
//
// A value map widens a rule's value on that source only: IntegrityLevel:
// High matches 4688's S-1-16-12288 as well as the name, so rules that list
// both spellings keep working.
package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/yamlx"
	"go.yaml.in/yaml/v3"
)

// Doc is one rule file: its name (for errors and Rule.File) and content.
type Doc struct {
	File string
	Data []byte
}

// CompileOptions tunes compilation. The zero value uses the built-in
// logsource mapping and no placeholders.
type CompileOptions struct {
	// Logsources maps logsources to channels; nil means DefaultLogsources.
	Logsources *Logsources
	// Placeholders are the values of %name% placeholders for the expand
	// modifier (from the case config: e.g. admin accounts, networks).
	Placeholders map[string][]string
	// Filters are Sigma filters (ParseFilters) from files outside the
	// batch, applied to the batch's rules with the filters found in the
	// batch itself.
	Filters []*Filter
}

// Compile compiles a batch of Sigma rule files with default options. The
// batch lets correlation rules refer to rules of other files by id or
// name. Every rule that cannot be loaded is reported as an error naming
// its file and position and the reason; the others are returned in input
// order.
func Compile(docs []Doc) ([]*rule.Rule, []error) {
	return CompileWith(docs, CompileOptions{})
}

// compiled is a rule with what correlation rules need of it.
type compiled struct {
	r     *rule.Rule
	name  string
	match func(ev *event.Event) bool
	comp  *compiler
	srcOf func(ev *event.Event) int
}

// CompileWith is Compile with options.
func CompileWith(docs []Doc, opts CompileOptions) ([]*rule.Rule, []error) {
	if opts.Logsources == nil {
		opts.Logsources = DefaultLogsources()
	}
	var errs []error
	// Filters are known before any rule compiles: a rule compiles with
	// the filters that apply to it.
	var filterDocs []Doc
	for _, d := range docs {
		if hasFilterKey(d.Data) {
			filterDocs = append(filterDocs, d)
		}
	}
	filters, ferrs := ParseFilters(filterDocs, opts)
	errs = append(errs, ferrs...)
	opts.Filters = append(append([]*Filter(nil), opts.Filters...), filters...)
	type pending struct {
		file string
		node *yaml.Node
		pos  int // index in out, to keep input order
	}
	// Files are parsed and compiled on every core (a rule pack has
	// thousands), then taken in input order.
	type item struct {
		c    *compiled
		corr *yaml.Node // a correlation, compiled once all rules are known
		err  error
	}
	perDoc := make([][]item, len(docs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(docs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var slab []yaml.Node // this worker's room for nodes (see fastDoc)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(docs) {
					return
				}
				d := docs[i]
				// A syntax error ends the file, but the documents
				// before it still load.
				nodes, err := splitDocs(d.File, d.Data, &slab)
				var items []item
				if err != nil && !hasFilterKey(d.Data) { // ParseFilters reported it
					items = append(items, item{err: err})
				}
				for _, n := range nodes {
					if isFilterNode(n) {
						continue // parsed above
					}
					if mapGet(n, "correlation") != nil {
						items = append(items, item{corr: n})
						continue
					}
					c, err := compileRule(d.File, n, &opts)
					items = append(items, item{c: c, err: err})
				}
				perDoc[i] = items
			}
		}()
	}
	wg.Wait()
	var out []*compiled
	var corrs []pending
	for i, items := range perDoc {
		for _, it := range items {
			switch {
			case it.err != nil:
				errs = append(errs, it.err)
			case it.corr != nil:
				corrs = append(corrs, pending{file: docs[i].File, node: it.corr, pos: len(out)})
				out = append(out, nil)
			default:
				out = append(out, it.c)
			}
		}
	}
	if len(corrs) > 0 {
		byRef := map[string]*compiled{}
		for _, c := range out {
			if c == nil {
				continue
			}
			byRef[c.r.ID] = c
			if c.name != "" {
				byRef[c.name] = c
			}
		}
		// Correlations may refer to correlations (chaining), in any
		// order: compile those whose references are known until no more
		// progress; what is left reports its unknown reference (or cycle).
		ready := func(p pending) bool {
			for _, ref := range stringList(mapGet(p.node, "correlation"), "rules") {
				if byRef[ref] == nil {
					return false
				}
			}
			return true
		}
		for progress := true; progress && len(corrs) > 0; {
			progress = false
			var left []pending
			for _, p := range corrs {
				if !ready(p) {
					left = append(left, p)
					continue
				}
				progress = true
				c, err := compileCorrelation(p.file, p.node, byRef)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				out[p.pos] = c
				byRef[c.r.ID] = c
				if c.name != "" {
					byRef[c.name] = c
				}
			}
			corrs = left
		}
		for _, p := range corrs {
			_, err := compileCorrelation(p.file, p.node, byRef)
			if err == nil {
				err = yamlx.Errorf(p.file, p.node, "correlation rule %q is part of a reference cycle", scalar(p.node, "title"))
			}
			errs = append(errs, err)
		}
	}
	rules := make([]*rule.Rule, 0, len(out))
	for _, c := range out {
		if c != nil {
			rules = append(rules, c.r)
		}
	}
	return rules, errs
}

// splitDocs parses a possibly multi-document file and applies Sigma's
// collection actions: "global" merges into every later document, "reset"
// forgets the global part, "repeat" repeats the previous document with
// changes.
func splitDocs(file string, data []byte, slab *[]yaml.Node) ([]*yaml.Node, error) {
	// Nearly every rule is read by fastDoc (see fastyaml.go; slab as
	// there); the rest, and every error, by go-yaml.
	fast, isFast := fastDoc(data, slab)
	var dec *yaml.Decoder
	if !isFast {
		dec = yaml.NewDecoder(bytes.NewReader(data))
	}
	var out []*yaml.Node
	var global, prev *yaml.Node
	for {
		var n *yaml.Node
		if isFast {
			if fast == nil {
				break
			}
			n, fast = fast, nil
		} else {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return out, yamlError(file, err)
			}
			if len(doc.Content) == 0 {
				continue
			}
			n = doc.Content[0]
		}
		if n.Kind != yaml.MappingNode {
			return out, yamlx.Errorf(file, n, "a Sigma rule must be a mapping")
		}
		action := ""
		if a := mapGet(n, "action"); a != nil {
			action = a.Value
			n = mapWithout(n, "action")
		}
		switch action {
		case "global":
			global = n
			continue
		case "reset":
			global = nil
			continue
		case "repeat":
			if prev == nil {
				return out, yamlx.Errorf(file, n, "action: repeat without a previous rule")
			}
			n = mergeNodes(prev, n)
		case "":
			if global != nil {
				n = mergeNodes(global, n)
			}
		default:
			return out, yamlx.Errorf(file, n, "unknown action %q", action)
		}
		prev = n
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, &yamlx.Error{File: file, Line: 1, Column: 1, Msg: "no Sigma rule in file"}
	}
	return out, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(file string, err error) error {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line := 0
		fmt.Sscan(m[1], &line)
		return &yamlx.Error{File: file, Line: line, Column: 1, Msg: m[2]}
	}
	return &yamlx.Error{File: file, Line: 1, Column: 1, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			if v.Kind == yaml.AliasNode {
				return v.Alias
			}
			return v
		}
	}
	return nil
}
func mapWithout(n *yaml.Node, key string) *yaml.Node {
	c := *n
	c.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != key {
			c.Content = append(c.Content, n.Content[i], n.Content[i+1])
		}
	}
	return &c
}

// mergeNodes deep-merges mapping over into base (over wins), copying.
func mergeNodes(base, over *yaml.Node) *yaml.Node {
	if base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	c := *over
	c.Content = nil
	done := map[string]bool{}
	for i := 0; i+1 < len(base.Content); i += 2 {
		k, v := base.Content[i], base.Content[i+1]
		if ov := mapGet(over, k.Value); ov != nil {
			v = mergeNodes(v, ov)
		}
		done[k.Value] = true
		c.Content = append(c.Content, k, v)
	}
	for i := 0; i+1 < len(over.Content); i += 2 {
		if !done[over.Content[i].Value] {
			c.Content = append(c.Content, over.Content[i], over.Content[i+1])
		}
	}
	return &c
}

// severity maps Sigma levels to spoor's.
func severity(level string) (string, bool) {
	switch strings.ToLower(level) {
	case "informational", "info":
		return event.SevInfo, true
	case "low":
		return event.SevLow, true
	case "medium", "":
		return event.SevMedium, true
	case "high":
		return event.SevHigh, true
	case "critical":
		return event.SevCritical, true
	}
	return "", false
}

func scalar(n *yaml.Node, key string) string {
	if v := mapGet(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

func stringList(n *yaml.Node, key string) []string {
	v := mapGet(n, key)
	if v == nil {
		return nil
	}
	if v.Kind == yaml.ScalarNode {
		return []string{v.Value}
	}
	var out []string
	for _, it := range v.Content {
		if it.Kind == yaml.ScalarNode {
			out = append(out, it.Value)
		}
	}
	return out
}

// meta fills the fields every Sigma rule kind shares.
func meta(file string, n *yaml.Node, kind string) (*rule.Rule, string, error) {
	r := &rule.Rule{
		ID:          scalar(n, "id"),
		Title:       scalar(n, "title"),
		Description: strings.TrimSpace(scalar(n, "description")),
		Kind:        kind,
		Tags:        stringList(n, "tags"),
		File:        file,
		Line:        n.Line,
	}
	name := scalar(n, "name")
	if r.Title == "" {
		return nil, "", yamlx.Errorf(file, n, "rule has no title")
	}
	if r.ID == "" {
		r.ID = name
	}
	if r.ID == "" {
		return nil, "", yamlx.Errorf(file, n, "rule %q has no id", r.Title)
	}
	sev, ok := severity(scalar(n, "level"))
	if !ok {
		return nil, "", yamlx.Errorf(file, mapGet(n, "level"), "unknown level %q", scalar(n, "level"))
	}
	r.Severity = sev
	return r, name, nil
}

func compileRule(file string, n *yaml.Node, opts *CompileOptions) (*compiled, error) {
	r, name, err := meta(file, n, rule.KindSigma)
	if err != nil {
		return nil, err
	}
	det := mapGet(n, "detection")
	if det == nil || det.Kind != yaml.MappingNode {
		return nil, yamlx.Errorf(file, n, "rule %s: no detection section", r.ID)
	}
	lsNode := mapGet(n, "logsource")
	if lsNode == nil {
		return nil, yamlx.Errorf(file, n, "rule %s: no logsource", r.ID)
	}
	product, category, service, err := parseLogsourceNode(file, lsNode)
	if err != nil {
		return nil, err
	}
	srcs, ok := opts.Logsources.resolve(product, category, service)
	if !ok {
		return nil, yamlx.Errorf(file, lsNode, "rule %s: no logsource mapping for product=%s category=%s service=%s (add one with a logsource mapping file)", r.ID, product, category, service)
	}
	c := &compiler{file: file, sources: srcs, opts: opts}
	// timeframe is only meaningful with the deprecated aggregations,
	// which parseCondition rejects.
	sels, err := c.selections(det, "condition", "timeframe")
	if err != nil {
		return nil, fmt.Errorf("rule %s: %w", r.ID, err)
	}
	var condNode *yaml.Node
	for i := 0; i+1 < len(det.Content); i += 2 {
		if det.Content[i].Value == "condition" {
			condNode = det.Content[i+1] // the last, as a decoder would keep
		}
	}
	if condNode == nil {
		return nil, yamlx.Errorf(file, det, "rule %s: detection has no condition", r.ID)
	}
	var conds []string
	switch condNode.Kind {
	case yaml.ScalarNode:
		conds = []string{condNode.Value}
	case yaml.SequenceNode:
		for _, it := range condNode.Content {
			conds = append(conds, it.Value)
		}
	}
	var ors []sel
	for _, cs := range conds {
		p, _, err := parseCondition(cs, sels)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.ID, yamlx.Errorf(file, condNode, "%v", err))
		}
		ors = append(ors, p)
	}
	if len(ors) == 0 {
		return nil, yamlx.Errorf(file, condNode, "rule %s: empty condition", r.ID)
	}
	top := anySel(ors)
	filterTime := false
	var applied []string
	for _, f := range opts.Filters {
		if !f.appliesTo(r.ID, name, product, category, service) {
			continue
		}
		// Compiled with the rule's renames, but a compiler of its own:
		// the filter's fields are not the rule's to summarize.
		fc := &compiler{file: f.File, sources: srcs, opts: opts}
		fs, err := f.compile(fc)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.ID, err)
		}
		top = allSel([]sel{top, fs})
		applied = append(applied, fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Title))
		filterTime = filterTime || fc.seen["TimeCreated"]
	}
	root := top.p

	srcOf := sourceIndex(srcs)
	match := func(ev *event.Event) bool {
		src := srcOf(ev)
		if src == -2 {
			return false
		}
		return root(ev, src)
	}
	r.Match = match
	r.Filter = filterOf(srcs)
	if len(srcs) == 0 && strings.EqualFold(product, "windows") {
		// Not narrowed to channels, but still about Windows event logs.
		r.Filter.Sources = []string{event.SourceEVTX}
	}
	r.Columns = append([]string(nil), baseColumns...)
	if c.seen["TimeCreated"] || filterTime {
		r.Columns = append(r.Columns, "time")
	}
	r.FieldDict = true
	r.Summary = summarizer(r.Title, c)
	r.Detection = &detection{root: top.n, sources: srcs, srcOf: srcOf, title: r.Title, sumKeys: summaryKeys(c), filters: applied}
	return &compiled{r: r, name: name, match: match, comp: c, srcOf: func(ev *event.Event) int { return srcOf(ev) }}, nil
}

// baseColumns are the store columns a Sigma matcher reads: Sigma field
// names resolve to the raw fields or to these typed columns.
var baseColumns = []string{"channel", "event_id", "fields", "host", "message", "provider", "record_id"}

// sourceIndex returns a function giving the index of the source an event
// belongs to: -1 when the rule is not narrowed, -2 when the event is not
// of the rule's logsource.
func sourceIndex(srcs []Source) func(ev *event.Event) int {
	if len(srcs) == 0 {
		return func(*event.Event) int { return -1 }
	}
	return func(ev *event.Event) int {
		for i, s := range srcs {
			if ev.Channel != s.Channel && !strings.EqualFold(ev.Channel, s.Channel) {
				continue
			}
			if len(s.EventIDs) == 0 {
				return i
			}
			for _, id := range s.EventIDs {
				if id == ev.EventID {
					return i
				}
			}
		}
		return -2
	}
}

func filterOf(srcs []Source) rule.Filter {
	if len(srcs) == 0 {
		return rule.Filter{}
	}
	f := rule.Filter{Sources: []string{event.SourceEVTX}}
	seenC := map[string]bool{}
	seenID := map[int32]bool{}
	allIDs := true
	for _, s := range srcs {
		if !seenC[strings.ToLower(s.Channel)] {
			seenC[strings.ToLower(s.Channel)] = true
			f.Channels = append(f.Channels, s.Channel)
		}
		if len(s.EventIDs) == 0 {
			allIDs = false
		}
		for _, id := range s.EventIDs {
			if !seenID[id] {
				seenID[id] = true
				f.EventIDs = append(f.EventIDs, id)
			}
		}
	}
	if !allIDs {
		f.EventIDs = nil
	}
	return f
}

// summaryKeys are the fields summaries show, each with its raw name per
// source (the compiled set renders summaries from them as summarizer
// does).
func summaryKeys(c *compiler) []sumKey {
	var keys []sumKey
	for _, name := range c.fields {
		if name == "EventID" || name == "Channel" || name == "Provider_Name" {
			continue
		}
		k := sumKey{name: name, def: readerOf(name)}
		for _, raw := range c.rawNames(name) {
			k.readers = append(k.readers, readerOf(raw))
		}
		keys = append(keys, k)
	}
	return keys
}

// sumKey is a field a summary shows.
type sumKey struct {
	name string
	// readers read the field's raw name per source (def, name itself,
	// for events of no source), made once: a summary is rendered for
	// each of a hunt's findings.
	readers []reader
	def     reader
}

// reader is the reader of the raw field for source src.
func (k sumKey) reader(src int) reader {
	if src >= 0 && src < len(k.readers) {
		return k.readers[src]
	}
	return k.def
}

// summarizer renders "title: Field=value, …" with the first fields the
// detection looks at that the event has.
func summarizer(title string, c *compiler) func(ev *event.Event) string {
	type kf struct {
		name string
		get  func(ev *event.Event, src int) (string, bool)
	}
	var keys []kf
	for _, name := range append([]string(nil), c.fields...) {
		if name == "EventID" || name == "Channel" || name == "Provider_Name" {
			continue
		}
		keys = append(keys, kf{name, c.field(name)})
	}
	srcOf := sourceIndex(c.sources)
	return func(ev *event.Event) string {
		var b strings.Builder
		b.WriteString(title)
		src := srcOf(ev)
		n := 0
		for _, k := range keys {
			v, ok := k.get(ev, src)
			if !ok || v == "" {
				continue
			}
			if len(v) > 200 {
				v = v[:200] + "…"
			}
			if n == 0 {
				b.WriteString(": ")
			} else {
				b.WriteString(", ")
			}
			b.WriteString(k.name)
			b.WriteByte('=')
			b.WriteString(v)
			n++
			if n == 4 {
				break
			}
		}
		return b.String()
	}
}
