// Package yamlx decodes YAML strictly and says where things are wrong:
// every error carries file:line:col, unknown keys are errors, and all
// errors of a document are returned at once (as Prometheus' rulefmt does).
package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem at one place in a YAML file.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Errorf builds an Error at a node's position.
func Errorf(file string, n *yaml.Node, format string, args ...any) *Error {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	return &Error{File: file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// Parse parses data into a document node, turning yaml.v3's syntax errors
// ("yaml: line 3: …") into an Error with the file name.
func Parse(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(file, err)
	}
	return &doc, nil
}

func syntaxError(file string, err error) error {
	msg := err.Error()
	line := 0
	// yaml.v3 reports "yaml: line N: msg" (no column for syntax errors).
	if _, e := fmt.Sscanf(msg, "yaml: line %d:", &line); e == nil {
		rest := msg[strings.Index(msg[len("yaml: line "):], ":")+len("yaml: line ")+1:]
		return &Error{File: file, Line: line, Column: 1, Msg: strings.TrimSpace(rest)}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return &Error{File: file, Line: 1, Column: 1, Msg: strings.Join(te.Errors, "; ")}
	}
	return &Error{File: file, Line: 1, Column: 1, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// Decode decodes node into v (a pointer to a struct), checking every
// mapping key against v's yaml tags first. It returns all problems found,
// joined with errors.Join; each is an *Error.
func Decode(file string, node *yaml.Node, v any) error {
	if node.Kind == yaml.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}
	var errs []error
	check(file, node, reflect.TypeOf(v), &errs)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := node.Decode(v); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, m := range te.Errors {
				line := 0
				fmt.Sscanf(m, "line %d:", &line)
				if i := strings.Index(m, ": "); i >= 0 && line > 0 {
					m = m[i+2:]
				}
				errs = append(errs, &Error{File: file, Line: line, Column: 1, Msg: m})
			}
			return errors.Join(errs...)
		}
		return Errorf(file, node, "%v", err)
	}
	return nil
}

// Unmarshal is Parse followed by Decode.
func Unmarshal(file string, data []byte, v any) error {
	doc, err := Parse(file, data)
	if err != nil {
		return err
	}
	if doc.Kind == 0 {
		return nil // empty document: keep defaults
	}
	return Decode(file, doc, v)
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// check walks node alongside type t and reports keys t does not have.
func check(file string, n *yaml.Node, t reflect.Type, errs *[]error) {
	if n == nil || t == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return // the type checks itself
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // type errors are left to the decoder
		}
		fields := structFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, Errorf(file, k, "unknown key %q (known: %s)", k.Value, known(fields)))
				continue
			}
			check(file, val, ft, errs)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				check(file, c, t.Elem(), errs)
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 1; i < len(n.Content); i += 2 {
				check(file, n.Content[i], t.Elem(), errs)
			}
		}
	}
}

func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range structFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func known(fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names) // stable messages
	return strings.Join(names, ", ")
}

// TopValue finds the first line of data that starts with key and a colon
// (a top-level key of a block mapping, spaces allowed before the colon)
// and returns the rest of that line, blanks trimmed. It reads the text,
// not the YAML: loaders use it to look at thousands of rule files (their
// status, author) before deciding which to parse, where a multi-line
// regular expression per file cost more than the rest of the look.
func TopValue(data []byte, key string) (string, bool) {
	k := []byte(key)
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if !bytes.HasPrefix(line, k) {
			continue
		}
		rest := bytes.TrimLeft(line[len(k):], " \t")
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		return string(bytes.Trim(rest[1:], " \t\r")), true
	}
	return "", false
}
