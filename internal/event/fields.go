package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/Velocidex/ordereddict"
)

func toString(v any) string {
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
// so DuckDB and friends can read them with their JSON functions.
func MarshalFields(d *ordereddict.Dict) ([]byte, error) {
	var buf bytes.Buffer
	if err := appendFields(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func appendFields(buf *bytes.Buffer, d *ordereddict.Dict) error {
	buf.WriteByte('{')
	if d != nil {
		for i, it := range d.Items() {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, _ := json.Marshal(it.Key)
			buf.Write(k)
			buf.WriteByte(':')
			if sub, ok := it.Value.(*ordereddict.Dict); ok {
				if err := appendFields(buf, sub); err != nil {
					return err
				}
				continue
			}
			v, err := json.Marshal(it.Value)
			if err != nil {
				return err
			}
			buf.Write(v)
		}
	}
	buf.WriteByte('}')
	return nil
}

// UnmarshalFields parses a JSON object into an ordered dict, keeping key
// order. Numbers stay json.Number-free: they come back as float64 or int64
// via ordereddict's own decoder.
func UnmarshalFields(b []byte) (*ordereddict.Dict, error) {
	d := ordereddict.NewDict()
	if len(b) == 0 {
		return d, nil
	}
	if err := d.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return d, nil
}
