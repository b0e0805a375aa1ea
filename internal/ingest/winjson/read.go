package winjson

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/Velocidex/ordereddict"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/jsonobj"
	"github.com/spoor-dfir/spoor/internal/ingest/textio"
)

// Bounds on hostile input: a line, an object spread over lines (nesting
// is bounded by jsonobj).
const (
	maxLine   = 64 << 20
	maxObject = 64 << 20
)

// readObjects calls fn for every JSON object of the input, with its
// position. Three layouts are read:
//   - one object per line (JSONL; the first line holds a whole object):
//     pos is the line; a line that does not parse is skipped with its
//     number, unless it is an object a collector split over lines, which
//     is joined again (up to maxJoin lines, without the line breaks, so
//     a split inside a string is undone too);
//   - pretty-printed objects one after another, and
//   - a top-level array of objects: both streamed, pos is the object's
//     byte offset; a syntax error ends the file with its offset, since
//     nothing after it can be trusted to start an object.
func readObjects(ctx context.Context, in *input.Input, st *input.Stats, fn func(o *ordereddict.Dict, pos int64) error) error {
	rc, err := in.Open()
	if err != nil {
		return &input.ParseError{File: in.Path, Err: err}
	}
	defer rc.Close()
	switch layout(in.Text) {
	case '[':
		return readStream(ctx, in, rc, st, fn, true)
	case 'p':
		return readStream(ctx, in, rc, st, fn, false)
	}
	return readLines(ctx, in, rc, st, fn)
}

// maxJoin bounds how many lines a split object may span.
const maxJoin = 16

// layout tells from the head: '[' an array, 'p' pretty-printed objects,
// 'l' one object per line.
func layout(text []byte) byte {
	t := bytes.TrimLeft(text, " \t\r\n")
	if len(t) == 0 {
		return 'l'
	}
	if t[0] == '[' {
		return '['
	}
	i := bytes.IndexByte(t, '\n')
	if t[0] != '{' || i < 0 {
		return 'l' // a first line longer than the head: JSONL
	}
	// A pretty-printer ends its first line with the brace it opens; a
	// JSONL line split by a collector ends anywhere else.
	first := bytes.TrimSpace(t[:i])
	if first[len(first)-1] == '{' || first[len(first)-1] == '[' {
		return 'p'
	}
	return 'l'
}

func readLines(ctx context.Context, in *input.Input, rc io.Reader, st *input.Stats, fn func(*ordereddict.Dict, int64) error) error {
	r := textio.NewReaderSize(rc, maxLine)
	var pending []byte // an object begun on an earlier line
	var start int64
	joins := 0
	broken := func() {
		st.Skip("bad JSON", fmt.Sprintf("%s:%d: JSON object cut short (not completed by the next %d lines)", in.Path, start, joins))
		pending, joins = pending[:0], 0
	}
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, err := r.Next()
		if errors.Is(err, textio.ErrLineTooLong) {
			st.Skip("line too long", fmt.Sprintf("%s:%d: line over %d bytes", in.Path, r.Line(), maxLine))
			continue
		}
		if err != nil {
			if len(pending) > 0 {
				broken()
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return &input.ParseError{File: in.Path, Line: r.Line(), Err: err}
		}
		t := bytes.TrimSpace(line)
		if len(pending) > 0 {
			if len(t) > 0 && t[0] == '{' {
				if o, err := jsonobj.Decode(t); err == nil {
					// A whole object: what was pending was cut short.
					broken()
					start = r.Line()
					if err := fn(o, start); err != nil {
						return err
					}
					continue
				}
			}
			pending = append(pending, t...)
			joins++
			o, err := jsonobj.Decode(pending)
			switch {
			case err == nil:
				pending, joins = pending[:0], 0
				if err := fn(o, start); err != nil {
					return err
				}
			case !incomplete(err) || joins >= maxJoin || len(pending) > maxObject:
				broken()
			}
			continue
		}
		if len(t) == 0 {
			continue
		}
		start = r.Line()
		if t[0] != '{' {
			st.Skip("not a JSON object", fmt.Sprintf("%s:%d: line does not start with '{'", in.Path, start))
			continue
		}
		o, err := jsonobj.Decode(t)
		switch {
		case err == nil:
			if err := fn(o, start); err != nil {
				return err
			}
		case incomplete(err):
			pending = append(pending[:0], t...)
		default:
			st.Skip("bad JSON", fmt.Sprintf("%s:%d: %v", in.Path, start, err))
		}
	}
}

func incomplete(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// readStream streams pretty-printed objects, or the objects of a
// top-level array.
func readStream(ctx context.Context, in *input.Input, rc io.Reader, st *input.Stats, fn func(*ordereddict.Dict, int64) error, array bool) error {
	br := bufio.NewReaderSize(transform.NewReader(rc, unicode.BOMOverride(unicode.UTF8.NewDecoder())), 64<<10)
	dec := json.NewDecoder(br)
	dec.UseNumber()
	if array {
		if _, err := dec.Token(); err != nil { // '['
			return &input.ParseError{File: in.Path, Err: err}
		}
	}
	for n := 0; dec.More(); n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		off := dec.InputOffset()
		v, err := jsonobj.ReadValue(dec, 1)
		if err != nil {
			if incomplete(err) {
				err = errors.New("file ends inside a JSON object")
			}
			return &input.ParseError{File: in.Path, Offset: off, Err: err}
		}
		o, ok := v.(*ordereddict.Dict)
		if !ok {
			st.Skip("not a JSON object", fmt.Sprintf("%s@%d: value is not an object", in.Path, off))
			continue
		}
		if err := fn(o, off); err != nil {
			return err
		}
	}
	return nil
}

// str renders a scalar JSON value as text ("" for null, objects, arrays).
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// get returns o[k] as text.
func get(o *ordereddict.Dict, k string) string {
	if o == nil {
		return ""
	}
	v, _ := o.Get(k)
	return str(v)
}

// sub returns o[k] when it is an object.
func sub(o *ordereddict.Dict, k string) *ordereddict.Dict {
	if o == nil {
		return nil
	}
	v, _ := o.Get(k)
	d, _ := v.(*ordereddict.Dict)
	return d
}

// path follows nested objects: path(o, "winlog", "event_data").
func path(o *ordereddict.Dict, keys ...string) *ordereddict.Dict {
	for _, k := range keys {
		o = sub(o, k)
	}
	return o
}

// fieldValue turns a JSON value into a binxml field value, the shapes the
// EVTX decoder gives: text, a list of texts, or nested fields.
func fieldValue(v any) any {
	switch x := v.(type) {
	case *ordereddict.Dict:
		return dictFields(x, nil)
	case []any:
		if len(x) == 0 {
			return []string(nil)
		}
		out := make([]string, 0, len(x))
		for _, e := range x {
			if d, ok := e.(*ordereddict.Dict); ok {
				b, _ := json.Marshal(d)
				out = append(out, string(b))
				continue
			}
			out = append(out, str(e))
		}
		return out
	}
	return str(v)
}

// dictFields converts an object's members to fields, leaving out the keys
// skip says are not event data.
func dictFields(o *ordereddict.Dict, skip func(k string) bool) []binxml.Field {
	var fs []binxml.Field
	for _, it := range o.Items() {
		if skip != nil && skip(it.Key) {
			continue
		}
		fs = append(fs, binxml.Field{Name: it.Key, Value: fieldValue(it.Value)})
	}
	return fs
}

func atoi(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int64(f)) {
			return 0, false
		}
		return int64(f), true
	}
	return n, true
}

// value returns o[k], nil-safe.
func value(o *ordereddict.Dict, k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	return o.Get(k)
}
