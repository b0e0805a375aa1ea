package jsonobj

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestDecode: key order and raw values kept (a date-like string stays a
// string, a number a json.Number), nesting bounded, anything but one
// object refused.
func TestDecode(t *testing.T) {
	d, err := Decode([]byte(`{"z":"2024-03-09T02:14:00Z","a":1.50,"m":{"y":[true,null]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if keys := d.Keys(); !reflect.DeepEqual(keys, []string{"z", "a", "m"}) {
		t.Fatalf("keys %v", keys)
	}
	if v, _ := d.Get("z"); v != "2024-03-09T02:14:00Z" {
		t.Errorf("date-like string read as %#v", v)
	}
	if v, _ := d.Get("a"); v != json.Number("1.50") {
		t.Errorf("number read as %#v", v)
	}
	deep := strings.Repeat(`{"a":`, maxJSONDepth) + "1" + strings.Repeat("}", maxJSONDepth)
	if _, err := Decode([]byte(deep)); err != nil {
		t.Errorf("%d levels refused: %v", maxJSONDepth, err)
	}
	deeper := strings.Repeat(`{"a":`, maxJSONDepth+1) + "1" + strings.Repeat("}", maxJSONDepth+1)
	if _, err := Decode([]byte(deeper)); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("%d levels: %v", maxJSONDepth+1, err)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{"a":1}{}`, `{"a":1`, `{1:2}`, ``} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzDecode: Decode never panics, and what it accepts is one valid JSON
// object with as many distinct keys as encoding/json finds.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":"b","c":[1,{"d":null}]}`, `{}`, `{"a":1}{"b":2}`, `{"a":"\ud800"}`, `[{}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("Decode accepted %q, encoding/json: %v", b, err)
		}
		if d.Len() != len(m) {
			t.Fatalf("%q: %d keys, encoding/json %d", b, d.Len(), len(m))
		}
	})
}
