package sigma

import (
	"testing"

	"github.com/Velocidex/ordereddict"
)

// TestValueStringSpellings pins how raw values of each type read to the
// rules: where Sigma's spelling differs from event.String (floats, lists,
// nil) and where it is event.String's.
func TestValueStringSpellings(t *testing.T) {
	d := ordereddict.NewDict()
	d.Set("b", "x")
	d.Set("a", int64(2))
	for _, c := range []struct {
		v    any
		want string
	}{
		{"text", "text"},
		{nil, ""},
		{int(-7), "-7"},
		{int32(-8), "-8"},
		{uint32(4294967295), "4294967295"},
		{int64(1) << 40, "1099511627776"},
		{uint64(18446744073709551615), "18446744073709551615"},
		{1e21, "1000000000000000000000"},
		{0.5, "0.5"},
		{true, "true"},
		{[]string{"a", "b"}, "a b"},
		{[]any{"a", 2.0, nil}, "a 2 "},
		{d, `{"b":"x","a":2}`},
		{struct{ X int }{3}, "{3}"},
	} {
		if got := valueString(c.v); got != c.want {
			t.Errorf("valueString(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}
