// Package jsonobj reads JSON objects as the evidence wrote them: key order
// kept, strings left strings, numbers as json.Number, nesting bounded. The
// JSON ingesters (declarative formats, collector exports) share it.
package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/Velocidex/ordereddict"
)

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const maxJSONDepth = 64

// Decode reads one JSON object keeping key order and every value
// as written: strings stay strings (ordereddict's own decoder turns
// date-like strings into time.Time, which would lose the raw text),
// numbers stay json.Number.
func Decode(b []byte) (*ordereddict.Dict, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	obj, err := ReadObject(dec, 1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON object")
	}
	return obj, nil
}

// ReadObject reads the members of an object whose '{' dec has just
// returned, up to and including its '}'; depth is its nesting level.
func ReadObject(dec *json.Decoder, depth int) (*ordereddict.Dict, error) {
	d := ordereddict.NewDict()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key %v is not a string", tok)
		}
		v, err := ReadValue(dec, depth)
		if err != nil {
			return nil, err
		}
		d.Set(key, v)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, err
	}
	return d, nil
}

// ReadValue reads the next value of dec at nesting level depth.
func ReadValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return ReadObject(dec, depth+1)
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := ReadValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}
