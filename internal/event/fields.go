package event

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"
)

// String renders a raw field value as text: strings as they are, numbers
// in their shortest form, nested objects as their JSON (keys in order),
// anything else as fmt prints it. The one "any → string" of the event
// model; ingesters and rules read raw values through it.
func String(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case *ordereddict.Dict:
		b, _ := MarshalFields(x)
		return string(b)
	default:
		return fmt.Sprint(v)
	}
}

// MarshalFields writes an ordered dict as a JSON object with keys in their
// original order. A nil dict is "{}". The store keeps fields in this form,
// so DuckDB and friends can read them with their JSON functions. Strings
// (nearly all raw fields) take a fast path without reflection: this runs
// once per stored event.
func MarshalFields(d *ordereddict.Dict) ([]byte, error) {
	return AppendFields(nil, d)
}

// AppendFields is MarshalFields appending to buf.
func AppendFields(buf []byte, d *ordereddict.Dict) ([]byte, error) {
	buf = append(buf, '{')
	if d != nil {
		for i, it := range d.Items() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, it.Key)
			buf = append(buf, ':')
			var err error
			if buf, err = appendValue(buf, it.Value); err != nil {
				return nil, err
			}
		}
	}
	return append(buf, '}'), nil
}

func appendValue(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendJSONString(buf, x), nil
	case *ordereddict.Dict:
		return AppendFields(buf, x)
	case nil:
		return append(buf, "null"...), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendValue(buf, e); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return append(buf, b...), nil
	}
}

const hexDigits = "0123456789abcdef"

// keySketch is one bit of 64 for a key, from its length and ends.
func keySketch(k string) uint64 {
	if k == "" {
		return 1
	}
	return 1 << ((uint(len(k)) ^ uint(k[0]) ^ uint(k[len(k)-1])<<2) & 63)
}

// AppendJSONString appends s as a JSON string escaped exactly as
// MarshalFields escapes it, for parsers that write their fields in the
// store's form themselves (Event.RawFields).
func AppendJSONString(buf []byte, s string) []byte { return appendJSONString(buf, s) }

// jsonPlain marks the ASCII bytes a JSON string holds as they are: one
// table load per byte instead of six comparisons (this runs over every
// raw field of every event an ingest stores).
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// plainRun is the index of the first byte at or after i that a JSON
// string does not hold as it is (see jsonPlain; any byte >= 0x80 counts,
// for its rune to be checked), len(s) if there is none: eight bytes at
// a time, as special does, over the long plain runs of command lines
// and paths.
func plainRun(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		x := word(s, i)
		// A byte is flagged where it is one of " \ < > &, below 0x20 or
		// above 0x7f; borrows may flag bytes after a true one, never
		// before, so the lowest flag is exact.
		q, b, l, g, a := x^(ones*'"'), x^(ones*'\\'), x^(ones*'<'), x^(ones*'>'), x^(ones*'&')
		m := x | (x-ones*0x20)&^x | (q-ones)&^q | (b-ones)&^b | (l-ones)&^l | (g-ones)&^g | (a-ones)&^a
		if m &= highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !jsonPlain[c] {
			return i
		}
	}
	return i
}

// appendJSONString escapes s as encoding/json does (including <, >, & and
// invalid UTF-8 replaced by U+FFFD), without reflection.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = plainRun(s, i); i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// UnmarshalFields parses a JSON object into an ordered dict, keeping key
// order. Flat objects of strings and arrays of strings (what the store
// holds for nearly every event) take a fast path; anything else goes through ordereddict's own
// decoder.
//
// The fast path copies b into one string and hands out substrings of it
// for keys and unescaped values: a hunt decodes this for every stored
// event, and one allocation per event instead of two per field is most of
// its cost.
func UnmarshalFields(b []byte) (*ordereddict.Dict, error) {
	if len(b) == 0 {
		return ordereddict.NewDict(), nil
	}
	return UnmarshalFieldsString(string(b))
}

// UnmarshalFieldsString is UnmarshalFields for JSON already held in a
// string (a Parquet column value): keys and values share its memory, and
// no copy is made.
func UnmarshalFieldsString(s string) (*ordereddict.Dict, error) {
	d := ordereddict.NewDict()
	if len(s) == 0 {
		return d, nil
	}
	if utf8.ValidString(s) && parseFlat(s, d) {
		return d, nil
	}
	d = ordereddict.NewDict()
	if err := d.UnmarshalJSON([]byte(s)); err != nil {
		return nil, err
	}
	return d, nil
}

// KV is one raw field of a flat fields object.
type KV struct{ Key, Value string }

// ParseFlatFields appends to dst the fields of s, a JSON object, when
// UnmarshalFieldsString would take its fast path (valid UTF-8, string
// values only) and no key repeats: then the pairs, in order, are exactly
// the dict's items, without building it. ok is false otherwise.
func ParseFlatFields(s string, dst []KV) ([]KV, bool) {
	if len(s) == 0 || !utf8.ValidString(s) {
		return dst, len(s) == 0
	}
	n := len(dst)
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return dst, false
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return dst, skipWS(s, i+1) == len(s)
	}
	var seen uint64 // keys seen so far, by a 6-bit sketch of each
	for {
		k, j, ok := parseString(s, i)
		if !ok {
			return dst, false
		}
		i = skipWS(s, j)
		if i >= len(s) || s[i] != ':' {
			return dst, false
		}
		i = skipWS(s, i+1)
		v, j, ok := parseString(s, i)
		if !ok {
			return dst, false
		}
		// A repeated key (the dict keeps one) is looked for only when a
		// key of the same length and ends came before: comparing each
		// key with all before it was a tenth of a hunt's field reading.
		if h := keySketch(k); seen&h == 0 {
			seen |= h
		} else {
			for _, kv := range dst[n:] {
				if kv.Key == k {
					return dst, false
				}
			}
		}
		dst = append(dst, KV{k, v})
		i = skipWS(s, j)
		if i >= len(s) {
			return dst, false
		}
		if s[i] == '}' {
			return dst, skipWS(s, i+1) == len(s)
		}
		if s[i] != ',' {
			return dst, false
		}
		i = skipWS(s, i+1)
	}
}

// parseFlat parses {"k":"v",...} with string values or arrays of
// strings only (EVTX's repeated Data); it returns
// false (leaving d in any state) for anything else. s must be valid UTF-8.
func parseFlat(s string, d *ordereddict.Dict) bool {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return skipWS(s, i+1) == len(s)
	}
	for {
		k, j, ok := parseString(s, i)
		if !ok {
			return false
		}
		i = skipWS(s, j)
		if i >= len(s) || s[i] != ':' {
			return false
		}
		i = skipWS(s, i+1)
		var v any
		if i < len(s) && s[i] == '[' {
			v, j, ok = parseStrings(s, i)
		} else {
			v, j, ok = parseString(s, i)
		}
		if !ok {
			return false
		}
		d.Set(k, v)
		i = skipWS(s, j)
		if i >= len(s) {
			return false
		}
		if s[i] == '}' {
			return skipWS(s, i+1) == len(s)
		}
		if s[i] != ',' {
			return false
		}
		i = skipWS(s, i+1)
	}
}

// parseStrings reads a JSON array of strings at s[i] (EVTX's repeated
// Data values) as the dict's decoder would give it, []any of strings,
// and the index after it; ok is false for anything else in it.
func parseStrings(s string, i int) (_ []any, _ int, ok bool) {
	vs := []any{}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == ']' {
		return vs, i + 1, true
	}
	for {
		v, j, ok := parseString(s, i)
		if !ok {
			return nil, 0, false
		}
		vs = append(vs, v)
		i = skipWS(s, j)
		if i >= len(s) {
			return nil, 0, false
		}
		if s[i] == ']' {
			return vs, i + 1, true
		}
		if s[i] != ',' {
			return nil, 0, false
		}
		i = skipWS(s, i+1)
	}
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// parseString reads a JSON string at s[i]; without escapes it is a
// substring of s, with escapes they are decoded as encoding/json does.
// One pass, eight bytes at a time, finds the first quote, backslash or
// control byte (three passes — the quote, a backslash, control bytes —
// cost more on the short values most fields hold).
func parseString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", i, false
	}
	j := special(s, i+1)
	if j >= len(s) || s[j] < 0x20 {
		return "", i, false
	}
	if s[j] == '"' {
		return s[i+1 : j], j + 1, true
	}
	// A backslash: the string ends at the first quote after an even run
	// of backslashes (command lines quote their paths), and its span is
	// the room to make.
	end := skipString(s, i)
	if end < 0 {
		return "", i, false
	}
	return parseEscaped(s, i, end-1)
}

// word is s[i:i+8] as a little-endian number, for the eight-bytes-at-a-
// time scans: one bounds check, so the compiler makes it one load.
func word(s string, i int) uint64 {
	w := s[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// special is the index of the first byte at or after j that is a quote,
// a backslash or a control byte, len(s) if none is.
func special(s string, j int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(s); j += 8 {
		x := word(s, j)
		q, b := x^(ones*'"'), x^(ones*'\\')
		// A byte is flagged where it is a quote, a backslash or below
		// 0x20; borrows may flag bytes after a true one, never before,
		// so the lowest flag is exact.
		if m := ((q-ones)&^q | (b-ones)&^b | (x-ones*0x20)&^x) & highs; m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
	}
	for ; j < len(s); j++ {
		if c := s[j]; c == '"' || c == '\\' || c < 0x20 {
			return j
		}
	}
	return j
}

// parseEscaped is parseString for a string with escapes (Windows paths
// and DOMAIN\user make them common), s[i] its opening quote and s[end]
// its closing one. It decodes them as encoding/json does, lone
// surrogates becoming U+FFFD; FuzzParseFlat holds it to that. The span
// is the room made (decoding never lengthens it), and the builder hands
// its bytes over as the string: the value is allocated once, at its
// size, and the runs between escapes are copied whole.
func parseEscaped(s string, i, end int) (string, int, bool) {
	var buf strings.Builder
	buf.Grow(end - i - 1)
	j := i + 1
	for j < end {
		// The run up to the next backslash (or end: any quote before it
		// is escaped, so a backslash comes first).
		if r := min(special(s, j), end); r > j {
			buf.WriteString(s[j:r])
			j = r
			continue
		}
		if s[j] != '\\' {
			return "", i, false // a control byte
		}
		// s[j] is a backslash; the escape ends before end (the quote at
		// end follows an even run of backslashes).
		switch e := s[j+1]; e {
		case '"', '\\', '/':
			buf.WriteByte(e)
		case 'b':
			buf.WriteByte('\b')
		case 'f':
			buf.WriteByte('\f')
		case 'n':
			buf.WriteByte('\n')
		case 'r':
			buf.WriteByte('\r')
		case 't':
			buf.WriteByte('\t')
		case 'u':
			r := getu4(s, j)
			if r < 0 {
				return "", i, false
			}
			j += 6
			if utf16.IsSurrogate(r) {
				if dec := utf16.DecodeRune(r, getu4(s, j)); dec != utf8.RuneError {
					r = dec
					j += 6
				} else {
					r = utf8.RuneError
				}
			}
			buf.WriteRune(r)
			continue
		default:
			return "", i, false
		}
		j += 2
	}
	return buf.String(), end + 1, true
}

// getu4 decodes \uXXXX at s[j:], or returns -1.
func getu4(s string, j int) rune {
	if j+6 > len(s) || s[j] != '\\' || s[j+1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range []byte(s[j+2 : j+6]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// LookupField finds the top-level key name in a fields JSON object (as
// MarshalFields writes it: unique keys) and returns its value as Field
// would: strings as they are, other values through the full decoder so
// they render exactly as from a dict. ok is false when the key is absent
// or s is not an object. Nothing is allocated for unescaped string values:
// they are substrings of s.
func LookupField(s, name string) (v string, ok bool) {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return "", false
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return "", false
	}
	for i < len(s) {
		match, j, good := keyEquals(s, i, name)
		if !good {
			return "", false
		}
		i = skipWS(s, j)
		if i >= len(s) || s[i] != ':' {
			return "", false
		}
		i = skipWS(s, i+1)
		if match {
			if i < len(s) && s[i] == '"' {
				v, _, good := parseString(s, i)
				if good {
					return v, true
				}
			}
			return lookupSlow(s, name)
		}
		if i = skipValue(s, i); i < 0 {
			return "", false
		}
		i = skipWS(s, i)
		if i >= len(s) || s[i] != ',' {
			return "", false
		}
		i = skipWS(s, i+1)
	}
	return "", false
}

// lookupSlow is LookupField through the full decoder, for non-string
// values (numbers, nested structures, null).
func lookupSlow(s, name string) (string, bool) {
	d, err := UnmarshalFieldsString(s)
	if err != nil {
		return "", false
	}
	v, ok := d.Get(name)
	if !ok {
		return "", false
	}
	if v == nil {
		return "", true
	}
	return String(v), true
}

// keyEquals reads the key string at s[i] and reports whether it is name,
// without allocating unless the key has escapes.
func keyEquals(s string, i int, name string) (match bool, next int, ok bool) {
	if i >= len(s) || s[i] != '"' {
		return false, i, false
	}
	if j := special(s, i+1); j < len(s) && s[j] == '"' {
		return s[i+1:j] == name, j + 1, true
	}
	k, j, ok := parseString(s, i)
	return ok && k == name, j, ok
}

// skipValue returns the index just past the JSON value at s[i], or -1.
func skipValue(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				if i = skipString(s, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default:
		for i < len(s) && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
			i++
		}
		return i
	}
}

// skipString returns the index just past the JSON string at s[i] (which
// is '"'), or -1 if it does not end.
func skipString(s string, i int) int {
	j := i + 1
	for {
		q := strings.IndexByte(s[j:], '"')
		if q < 0 {
			return -1
		}
		k := j + q
		bs := 0
		for p := k - 1; p > i && s[p] == '\\'; p-- {
			bs++
		}
		if bs%2 == 0 {
			return k + 1
		}
		j = k + 1
	}
}
