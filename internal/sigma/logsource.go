package sigma

import (
	_ "embed"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/spoor-dfir/spoor/internal/yamlx"
	"go.yaml.in/yaml/v3"
)

//go:embed logsources.yaml
var builtinLogsources []byte

// Logsources maps Sigma logsources to event log records. The zero value
// maps nothing; DefaultLogsources holds the built-in table.
type Logsources struct {
	Entries []LogsourceEntry `yaml:"logsources"`
}

// LogsourceEntry is one product/category/service combination and the
// record kinds it stands for. Empty keys match any rule value.
type LogsourceEntry struct {
	Product  string   `yaml:"product"`
	Category string   `yaml:"category"`
	Service  string   `yaml:"service"`
	Sources  []Source `yaml:"sources"`
}

// Source is one kind of record: a channel, optionally narrowed to event
// ids, with the renames from Sigma field names to its raw field names
// and, per Sigma field, the values the record writes differently
// (Sigma value → the record's value, compared case-insensitively).
type Source struct {
	Channel  string                       `yaml:"channel"`
	EventIDs []int32                      `yaml:"event_ids"`
	Fields   map[string]string            `yaml:"fields"`
	Values   map[string]map[string]string `yaml:"values"`
}

var (
	defaultOnce sync.Once
	defaultLS   *Logsources
	defaultErr  error
)

// DefaultLogsources returns the built-in mapping (logsources.yaml). It is
// shared: callers must not modify it; use Merge to build a new one.
func DefaultLogsources() *Logsources {
	defaultOnce.Do(func() {
		defaultLS, defaultErr = ParseLogsources("logsources.yaml", builtinLogsources)
	})
	if defaultErr != nil {
		// The embedded file is tested; failing here is a build defect.
		panic(defaultErr)
	}
	return defaultLS
}

// ParseLogsources reads a mapping file of the same shape as the built-in
// logsources.yaml. Every problem carries file:line:col: syntax errors,
// unknown keys, wrong types and incomplete entries.
func ParseLogsources(file string, data []byte) (*Logsources, error) {
	node, err := yamlx.Parse(file, data)
	if err != nil {
		return nil, err
	}
	var ls Logsources
	if err := yamlx.Decode(file, node, &ls); err != nil {
		return nil, err
	}
	var root *yaml.Node
	if len(node.Content) > 0 {
		root = node.Content[0]
	}
	entries := mapGet(root, "logsources")
	if entries == nil || entries.Kind != yaml.SequenceNode || len(entries.Content) != len(ls.Entries) {
		return nil, yamlx.Errorf(file, root, "a logsource mapping is a list of entries under logsources:")
	}
	var errs []error
	for i, e := range ls.Entries {
		en := entries.Content[i]
		if e.Product == "" && e.Category == "" && e.Service == "" {
			errs = append(errs, yamlx.Errorf(file, en, "logsource entry %d: needs product, category or service", i+1))
		}
		sn := mapGet(en, "sources")
		if len(e.Sources) == 0 {
			errs = append(errs, yamlx.Errorf(file, en, "logsource entry %d (%s): no sources", i+1, e.key()))
			continue
		}
		for j, s := range e.Sources {
			at := en
			if sn != nil && j < len(sn.Content) {
				at = sn.Content[j]
			}
			if s.Channel == "" {
				errs = append(errs, yamlx.Errorf(file, at, "logsource entry %d (%s) source %d: no channel", i+1, e.key(), j+1))
			}
			for _, name := range slices.Sorted(maps.Keys(s.Fields)) {
				if raw := s.Fields[name]; name == "" || raw == "" {
					errs = append(errs, yamlx.Errorf(file, orNode(mapGet(at, "fields"), at), "logsource entry %d (%s) source %d: field rename %q: %q needs both names", i+1, e.key(), j+1, name, raw))
				}
			}
			for _, name := range slices.Sorted(maps.Keys(s.Values)) {
				if name == "" || len(s.Values[name]) == 0 {
					errs = append(errs, yamlx.Errorf(file, orNode(mapGet(at, "values"), at), "logsource entry %d (%s) source %d: values of %q: needs a field name and at least one value", i+1, e.key(), j+1, name))
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &ls, nil
}

func orNode(n, def *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return def
}

// LoadLogsources returns the built-in mapping extended by a user's file:
// entries with the same product/category/service replace built-in ones,
// others are added.
func LoadLogsources(file string, data []byte) (*Logsources, error) {
	extra, err := ParseLogsources(file, data)
	if err != nil {
		return nil, err
	}
	return DefaultLogsources().Merge(extra), nil
}

// Merge returns a new mapping: ls with the entries of other replacing
// same-keyed ones and appended otherwise.
func (ls *Logsources) Merge(other *Logsources) *Logsources {
	out := &Logsources{Entries: append([]LogsourceEntry(nil), ls.Entries...)}
	for _, e := range other.Entries {
		replaced := false
		for i := range out.Entries {
			if out.Entries[i].key() == e.key() {
				out.Entries[i] = e
				replaced = true
				break
			}
		}
		if !replaced {
			out.Entries = append(out.Entries, e)
		}
	}
	return out
}

func (e LogsourceEntry) key() string {
	return strings.ToLower(e.Product + "/" + e.Category + "/" + e.Service)
}

// resolve finds the sources for a rule's logsource. A rule with only a
// product (e.g. product: windows) gets no sources: it may apply to any
// record, so it is not narrowed. ok is false when the rule names a
// category or service that the mapping does not know.
func (ls *Logsources) resolve(product, category, service string) (srcs []Source, ok bool) {
	if category == "" && service == "" {
		return nil, true
	}
	eq := func(want, have string) bool { return want == "" || strings.EqualFold(want, have) }
	for _, e := range ls.Entries {
		// An entry must say something about category or service to
		// narrow; product-only entries never match here.
		if e.Category == "" && e.Service == "" {
			continue
		}
		if e.Category != "" && category == "" || e.Service != "" && service == "" {
			continue
		}
		if eq(e.Product, product) && eq(e.Category, category) && eq(e.Service, service) {
			srcs = append(srcs, e.Sources...)
			ok = true
		}
	}
	return srcs, ok
}

// parseLogsourceNode reads a rule's logsource mapping.
func parseLogsourceNode(file string, n *yaml.Node) (product, category, service string, err error) {
	if n == nil {
		return "", "", "", nil
	}
	if n.Kind != yaml.MappingNode {
		return "", "", "", yamlx.Errorf(file, n, "logsource must be a mapping")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "product":
			product = v.Value
		case "category":
			category = v.Value
		case "service":
			service = v.Value
		}
	}
	return product, category, service, nil
}
