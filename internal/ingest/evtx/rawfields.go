package evtx

import (
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
)

// setFields gives ev its raw fields. Events leave the parser with their
// fields already in the store's form (Event.RawFields, the JSON object
// event.MarshalFields would write), built straight from the decoded
// fields: an ordered dict per event, and its marshalling afterwards,
// used to cost more than decoding the record. Fields with a repeated name
// (which the dict collapses, the last one moving to the end) go the dict
// way, so the text is the same either way. buf is scratch space, returned
// for reuse.
func setFields(ev *event.Event, fs []binxml.Field, buf []byte) []byte {
	buf, ok := appendFields(buf[:0], fs)
	if ok {
		ev.RawFields = string(buf)
	} else {
		ev.Fields = toDict(fs)
	}
	return buf
}

// appendFields appends fs as a JSON object; false when it cannot (a
// repeated name, a value of another type than the decoders give).
func appendFields(buf []byte, fs []binxml.Field) ([]byte, bool) {
	if repeated(fs) {
		return buf, false
	}
	buf = append(buf, '{')
	for i := range fs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = event.AppendJSONString(buf, fs[i].Name)
		buf = append(buf, ':')
		switch v := fs[i].Value.(type) {
		case string:
			buf = event.AppendJSONString(buf, v)
		case []string:
			if v == nil {
				buf = append(buf, "null"...)
				break
			}
			buf = append(buf, '[')
			for k, s := range v {
				if k > 0 {
					buf = append(buf, ',')
				}
				buf = event.AppendJSONString(buf, s)
			}
			buf = append(buf, ']')
		case []binxml.Field:
			var ok bool
			if buf, ok = appendFields(buf, v); !ok {
				return buf, false
			}
		default:
			return buf, false
		}
	}
	return append(buf, '}'), true
}

// repeated reports whether two fields share a name. Records have a few
// dozen fields at most, where comparing pairs beats hashing.
func repeated(fs []binxml.Field) bool {
	if len(fs) > 64 {
		seen := make(map[string]struct{}, len(fs))
		for i := range fs {
			if _, ok := seen[fs[i].Name]; ok {
				return true
			}
			seen[fs[i].Name] = struct{}{}
		}
		return false
	}
	for i := 1; i < len(fs); i++ {
		for j := range i {
			if fs[i].Name == fs[j].Name {
				return true
			}
		}
	}
	return false
}
