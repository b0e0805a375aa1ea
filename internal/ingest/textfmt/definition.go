// Package textfmt turns declarative format definitions (YAML) into
// parsers, so an investigator can read Kaseya, Datto, NinjaOne, Atera, a
// firewall the project has no Go parser for, or an MSP's own export
// without writing Go.
//
// A definition says how to recognise the format from the first lines,
// how to cut a line into fields (a regular expression with named groups,
// optionally followed by key=value splitting; CSV/TSV columns; or JSON
// lines), where the timestamp is and in which zone, and which fields fill
// which typed event columns. Definitions shipped with spoor are embedded
// (Builtin); more are loaded from a directory (LoadDir).
package textfmt

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/yamlx"
)

// Definition is the YAML form of a format. See formats/*.yaml for
// examples and README.md next to them for a guide.
type Definition struct {
	// Name is the format name (Event.Format, manifest); lower-case,
	// letters, digits, '-' and '_'.
	Name string `yaml:"name"`
	// Source is the event source: firewall, rmm, or any other word.
	Source      string `yaml:"source"`
	Description string `yaml:"description"`
	// Detect says how to recognise the format from the head of a file.
	Detect DetectSpec `yaml:"detect"`
	// Kind is regex, csv or jsonl.
	Kind string `yaml:"kind"`
	// Patterns (kind regex) are tried in order; the first that matches a
	// line makes it a record, its named groups the fields.
	Patterns []string `yaml:"patterns"`
	// Context (kind regex) are patterns for lines that are not records
	// but set fields for the records after them (a date line above
	// time-less message lines, as TightVNC writes).
	Context []string `yaml:"context"`
	// Ignore are patterns for lines that carry nothing (banners,
	// comments); they are counted as skipped with reason "ignored line".
	Ignore []string `yaml:"ignore"`
	// Multiline (kind regex): a line no pattern matches continues the
	// record before it (JSON context blocks, stack traces).
	Multiline bool `yaml:"multiline"`
	// KV splits one field into key/value pairs added as fields.
	KV *KVSpec `yaml:"kv"`
	// Derive runs regexes over fields (after kv); their named groups are
	// added as fields, to pull a protocol out of "tcp/443" or a peer
	// address out of a free-text message.
	Derive []DeriveSpec `yaml:"derive"`
	// CSV describes delimited text (kind csv).
	CSV CSVSpec `yaml:"csv"`
	// Time lists where the timestamp may be; the first candidate whose
	// fields are present and parse wins.
	Time []TimeSpec `yaml:"time"`
	// Map maps event columns to field names; "a|b" takes the first
	// non-empty of a and b.
	Map map[string]string `yaml:"map"`
	// Values rewrites a column's values (case-insensitive); "*" is the
	// value for anything not listed.
	Values map[string]map[string]string `yaml:"values"`
	// Const sets columns that the mapping left empty.
	Const map[string]string `yaml:"const"`
}

// DetectSpec recognises a format from the first lines of a file.
type DetectSpec struct {
	// Lines is how many non-empty head lines are looked at (default 20).
	Lines int `yaml:"lines"`
	// Regex must match at least Min (default 1) of those lines.
	Regex string `yaml:"regex"`
	Min   int    `yaml:"min"`
	// Keys must all be present: the JSON keys of the first record (jsonl)
	// or the header columns (csv).
	Keys []string `yaml:"keys"`
	// Score is the confidence reported when the head matches (1–99,
	// default 70); built-in Go parsers use 80–100 for what they know.
	Score int `yaml:"score"`
}

// KVSpec splits a field holding "key=value key2="quoted value"" pairs.
type KVSpec struct {
	Field string `yaml:"field"`
	// Separator between key and value (default "=").
	Separator string `yaml:"separator"`
	// Delimiter between pairs (default: whitespace).
	Delimiter string `yaml:"delimiter"`
	// Prefix is put before every key (to keep them apart from groups).
	Prefix string `yaml:"prefix"`
}

// DeriveSpec is one regex over one field.
type DeriveSpec struct {
	Field string `yaml:"field"`
	Regex string `yaml:"regex"`
}

// CSVSpec describes delimited lines.
type CSVSpec struct {
	// Delimiter is one character; "\t" or "tab" for TSV (default ",").
	Delimiter string `yaml:"delimiter"`
	// Header: the first non-comment line names the columns.
	Header bool `yaml:"header"`
	// HeaderPrefix: a line starting with it names the columns from then
	// on (W3C "#Fields: "); it may come more than once.
	HeaderPrefix string `yaml:"header_prefix"`
	// Columns names the columns when the file has no header.
	Columns []string `yaml:"columns"`
	// Comment: lines starting with it are skipped ("#").
	Comment string `yaml:"comment"`
	// Quotes: fields may be quoted ("…", with "" for a quote); off for
	// TSV-like formats where a quote is an ordinary character.
	Quotes bool `yaml:"quotes"`
}

// TimeSpec is one place a timestamp may be.
type TimeSpec struct {
	// Fields are joined with a space (["date", "time"]).
	Fields []string `yaml:"fields"`
	// Layouts are Go layouts ("2006-01-02 15:04:05"), or rfc3339, epoch,
	// epoch_ms, epoch_us, epoch_ns.
	Layouts []string `yaml:"layouts"`
	// Zone for readings without an offset: an IANA name or UTC; empty
	// means the case config's zone for this format or source.
	Zone string `yaml:"zone"`
}

// Columns are the event columns a definition may map, const or rewrite:
// those event.Columns marks Mappable, in table order.
var Columns = func() []string {
	var out []string
	for _, c := range event.Columns {
		if c.Mappable {
			out = append(out, c.Name)
		}
	}
	return out
}()

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Load parses and compiles one definition file. Errors carry
// file:line:col, all problems of the file at once.
func Load(file string, data []byte) (*Format, error) {
	doc, err := yamlx.Parse(file, data)
	if err != nil {
		return nil, err
	}
	if doc.Kind == 0 || (doc.Kind == yaml.DocumentNode && len(doc.Content) == 0) {
		return nil, &yamlx.Error{File: file, Line: 1, Column: 1, Msg: "empty format definition"}
	}
	var d Definition
	if err := yamlx.Decode(file, doc, &d); err != nil {
		return nil, err
	}
	root := doc
	if root.Kind == yaml.DocumentNode {
		root = root.Content[0]
	}
	return compile(file, root, &d)
}

// at finds the node under a path of mapping keys and sequence indices,
// for error positions; it falls back to the deepest node found.
func at(n *yaml.Node, path ...any) *yaml.Node {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return n
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					n = n.Content[i+1]
					found = true
					break
				}
			}
			if !found {
				return n
			}
		case int:
			if n.Kind != yaml.SequenceNode || k >= len(n.Content) {
				return n
			}
			n = n.Content[k]
		}
	}
	return n
}

// keyAt finds the key node of a mapping entry (for errors about a key).
func keyAt(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i]
			}
		}
	}
	return n
}

func compile(file string, root *yaml.Node, d *Definition) (*Format, error) {
	var errs []error
	bad := func(n *yaml.Node, format string, args ...any) {
		errs = append(errs, yamlx.Errorf(file, n, format, args...))
	}
	f := &Format{def: *d, file: file}
	if !nameRE.MatchString(d.Name) {
		bad(at(root, "name"), "name %q: want lower-case letters, digits, '-' or '_'", d.Name)
	}
	if d.Source == "" || !nameRE.MatchString(d.Source) {
		bad(at(root, "source"), "source %q: want a word such as firewall or rmm", d.Source)
	}
	re := func(path []any, s string) *regexp.Regexp {
		r, err := regexp.Compile(s)
		if err != nil {
			bad(at(root, path...), "invalid regex: %v", err)
			return nil
		}
		return r
	}
	// Detection.
	f.lines = d.Detect.Lines
	if f.lines <= 0 {
		f.lines = 20
	}
	f.min = d.Detect.Min
	if f.min <= 0 {
		f.min = 1
	}
	f.score = d.Detect.Score
	if f.score == 0 {
		f.score = 70
	}
	if f.score < 1 || f.score > 99 {
		bad(at(root, "detect", "score"), "score %d: want 1–99", f.score)
	}
	if d.Detect.Regex != "" {
		f.detect = re([]any{"detect", "regex"}, d.Detect.Regex)
	}
	f.keys = d.Detect.Keys
	if d.Detect.Regex == "" && len(d.Detect.Keys) == 0 {
		bad(at(root, "detect"), "detect needs a regex or keys, or the format could claim any file")
	}
	// Kind.
	switch d.Kind {
	case "regex":
		if len(d.Patterns) == 0 {
			bad(at(root, "kind"), "kind regex needs patterns")
		}
		for i, p := range d.Patterns {
			if r := re([]any{"patterns", i}, p); r != nil {
				f.patterns = append(f.patterns, r)
			}
		}
		for i, p := range d.Context {
			if r := re([]any{"context", i}, p); r != nil {
				f.context = append(f.context, r)
			}
		}
	case "csv":
		delim := d.CSV.Delimiter
		switch delim {
		case "":
			delim = ","
		case "tab", `\t`:
			delim = "\t"
		}
		if len([]rune(delim)) != 1 {
			bad(at(root, "csv", "delimiter"), "delimiter %q: want one character", d.CSV.Delimiter)
		} else {
			f.delim = []rune(delim)[0]
		}
		if !d.CSV.Header && d.CSV.HeaderPrefix == "" && len(d.CSV.Columns) == 0 {
			bad(at(root, "csv"), "csv needs header: true, header_prefix or columns")
		}
	case "jsonl":
	default:
		bad(at(root, "kind"), "kind %q: want regex, csv or jsonl", d.Kind)
	}
	if d.Kind != "regex" && (len(d.Patterns) > 0 || len(d.Context) > 0 || d.Multiline) {
		bad(at(root, "patterns"), "patterns, context and multiline are for kind regex")
	}
	for i, p := range d.Ignore {
		if r := re([]any{"ignore", i}, p); r != nil {
			f.ignore = append(f.ignore, r)
		}
	}
	if d.KV != nil {
		if d.KV.Field == "" {
			bad(at(root, "kv"), "kv needs field")
		}
		f.kvSep = d.KV.Separator
		if f.kvSep == "" {
			f.kvSep = "="
		}
		f.kvDelim = d.KV.Delimiter
	}
	for i, dv := range d.Derive {
		if dv.Field == "" {
			bad(at(root, "derive", i), "derive needs field")
		}
		if r := re([]any{"derive", i, "regex"}, dv.Regex); r != nil {
			f.derive = append(f.derive, derive{field: dv.Field, re: r})
		}
	}
	// Time.
	if len(d.Time) == 0 {
		bad(keyAt(root, "name"), "time: at least one timestamp candidate is needed")
	}
	for i, ts := range d.Time {
		c := timeCand{fields: ts.Fields}
		if len(ts.Fields) == 0 {
			bad(at(root, "time", i), "time needs fields")
		}
		if len(ts.Layouts) == 0 {
			bad(at(root, "time", i), "time needs layouts")
		}
		for j, l := range ts.Layouts {
			lay, err := compileLayout(l)
			if err != nil {
				bad(at(root, "time", i, "layouts", j), "%v", err)
			}
			c.layouts = append(c.layouts, lay)
		}
		if ts.Zone != "" {
			loc, err := time.LoadLocation(ts.Zone)
			if err != nil {
				bad(at(root, "time", i, "zone"), "zone %q: %v", ts.Zone, err)
			}
			c.loc = loc
		}
		f.times = append(f.times, c)
	}
	// Columns.
	known := map[string]bool{}
	for _, c := range Columns {
		known[c] = true
	}
	mapNode := at(root, "map")
	for _, col := range sortedKeys(d.Map) {
		if !known[col] {
			bad(keyAt(mapNode, col), "map: unknown column %q (known: %s)", col, strings.Join(Columns, ", "))
			continue
		}
		alts := strings.Split(d.Map[col], "|")
		for i := range alts {
			alts[i] = strings.TrimSpace(alts[i])
		}
		f.mapping = append(f.mapping, colMap{c: column(col), from: alts})
	}
	valNode := at(root, "values")
	f.values = map[string]map[string]string{}
	for _, col := range sortedKeys(d.Values) {
		if !known[col] {
			bad(keyAt(valNode, col), "values: unknown column %q", col)
			continue
		}
		m := map[string]string{}
		for k, v := range d.Values[col] {
			m[strings.ToLower(k)] = v
		}
		f.values[col] = m
	}
	constNode := at(root, "const")
	for _, col := range sortedKeys(d.Const) {
		if !known[col] {
			bad(keyAt(constNode, col), "const: unknown column %q", col)
			continue
		}
		if err := checkColumn(col, d.Const[col]); err != nil {
			bad(at(constNode, col), "const %s: %v", col, err)
			continue
		}
		f.consts = append(f.consts, colConst{c: column(col), v: d.Const[col]})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkColumn validates a constant for a typed column, by the table's
// parser.
func checkColumn(col, v string) error {
	i, ok := event.ColumnIndex(col)
	if !ok {
		return fmt.Errorf("unknown column %q", col)
	}
	var scratch event.Event
	if err := event.Columns[i].SetString(&scratch, v); err != nil {
		return fmt.Errorf("%q is not a number", v)
	}
	return nil
}
