package sigma

import (
	_ "embed"
	"fmt"
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
// ids, with the renames from Sigma field names to its raw field names.
type Source struct {
	Channel  string            `yaml:"channel"`
	EventIDs []int32           `yaml:"event_ids"`
	Fields   map[string]string `yaml:"fields"`
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
// logsources.yaml. Syntax errors and unknown keys carry file:line:col;
// incomplete entries are named by their number.
func ParseLogsources(file string, data []byte) (*Logsources, error) {
	node, err := yamlx.Parse(file, data)
	if err != nil {
		return nil, err
	}
	var ls Logsources
	if err := yamlx.Decode(file, node, &ls); err != nil {
		return nil, err
	}
	for i, e := range ls.Entries {
		if e.Product == "" && e.Category == "" && e.Service == "" {
			return nil, fmt.Errorf("%s: logsource entry %d: needs product, category or service", file, i+1)
		}
		if len(e.Sources) == 0 {
			return nil, fmt.Errorf("%s: logsource entry %d (%s): no sources", file, i+1, e.key())
		}
		for j, s := range e.Sources {
			if s.Channel == "" {
				return nil, fmt.Errorf("%s: logsource entry %d (%s) source %d: no channel", file, i+1, e.key(), j+1)
			}
		}
	}
	return &ls, nil
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
