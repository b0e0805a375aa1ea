package binxml

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"
)

// Substitution value types.
const (
	vtNull     = 0x00
	vtString   = 0x01
	vtAnsi     = 0x02
	vtInt8     = 0x03
	vtUint8    = 0x04
	vtInt16    = 0x05
	vtUint16   = 0x06
	vtInt32    = 0x07
	vtUint32   = 0x08
	vtInt64    = 0x09
	vtUint64   = 0x0a
	vtReal32   = 0x0b
	vtReal64   = 0x0c
	vtBool     = 0x0d
	vtBinary   = 0x0e
	vtGUID     = 0x0f
	vtSizeT    = 0x10
	vtFileTime = 0x11
	vtSysTime  = 0x12
	vtSID      = 0x13
	vtHex32    = 0x14
	vtHex64    = 0x15
	vtHandle   = 0x20
	vtBinXML   = 0x21
	vtEvtXML   = 0x23
	vtArray    = 0x80
)

// fixedSize is the element size of fixed-size types (0 = variable).
func fixedSize(t uint8) int {
	switch t {
	case vtInt8, vtUint8:
		return 1
	case vtInt16, vtUint16:
		return 2
	case vtInt32, vtUint32, vtReal32, vtBool, vtHex32:
		return 4
	case vtInt64, vtUint64, vtReal64, vtFileTime, vtHex64:
		return 8
	case vtGUID, vtSysTime:
		return 16
	}
	return 0
}

// uintOf decodes an integer-like value; ok is false for other types or
// short data.
func uintOf(v raw) (uint64, bool) {
	d := v.data
	switch v.typ {
	case vtInt8, vtUint8:
		if len(d) >= 1 {
			if v.typ == vtInt8 {
				return uint64(int64(int8(d[0]))), true
			}
			return uint64(d[0]), true
		}
	case vtInt16, vtUint16:
		if len(d) >= 2 {
			if v.typ == vtInt16 {
				return uint64(int64(int16(binary.LittleEndian.Uint16(d)))), true
			}
			return uint64(binary.LittleEndian.Uint16(d)), true
		}
	case vtInt32, vtUint32, vtHex32, vtBool:
		if len(d) >= 4 {
			if v.typ == vtInt32 {
				return uint64(int64(int32(binary.LittleEndian.Uint32(d)))), true
			}
			return uint64(binary.LittleEndian.Uint32(d)), true
		}
	case vtInt64, vtUint64, vtHex64, vtFileTime:
		if len(d) >= 8 {
			return binary.LittleEndian.Uint64(d), true
		}
	case vtSizeT:
		switch len(d) {
		case 4:
			return uint64(binary.LittleEndian.Uint32(d)), true
		case 8:
			return binary.LittleEndian.Uint64(d), true
		}
	case vtString, vtAnsi:
		s := strings.TrimSpace(renderScalar(v))
		if n, err := strconv.ParseUint(s, 0, 64); err == nil {
			return n, true
		}
		if n, err := strconv.ParseInt(s, 0, 64); err == nil {
			return uint64(n), true
		}
	}
	return 0, false
}

// timeOf decodes a FILETIME, SYSTEMTIME or text time value.
func timeOf(v raw) (time.Time, bool) {
	switch v.typ {
	case vtFileTime:
		if len(v.data) >= 8 {
			return FileTime(binary.LittleEndian.Uint64(v.data)), true
		}
	case vtSysTime:
		if t, ok := sysTime(v.data); ok {
			return t, true
		}
	case vtString, vtAnsi:
		return parseTime(renderScalar(v))
	}
	return time.Time{}, false
}

func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func sysTime(d []byte) (time.Time, bool) {
	if len(d) < 16 {
		return time.Time{}, false
	}
	u := func(i int) int { return int(binary.LittleEndian.Uint16(d[2*i:])) }
	if u(0) == 0 && u(1) == 0 {
		return time.Time{}, false
	}
	return time.Date(u(0), time.Month(u(1)), u(3), u(4), u(5), u(6), u(7)*1e6, time.UTC), true
}

// render turns a substitution value into what the XML rendering of the
// event shows: a string, or []string for arrays. Formats follow Windows'
// own rendering (hex integers as 0x…, GUIDs in braces, SIDs as S-1-…,
// binary as upper-case hex, times as ISO 8601 UTC with 7 fraction digits).
func render(v raw) any {
	if v.typ&vtArray != 0 && v.typ != vtArray|vtNull {
		return renderArray(v)
	}
	return renderScalar(v)
}

func renderArray(v raw) any {
	et := v.typ &^ vtArray
	d := v.data
	var out []string
	switch et {
	case vtString:
		for len(d) >= 2 {
			i := 0
			for i+1 < len(d) && !(d[i] == 0 && d[i+1] == 0) {
				i += 2
			}
			out = append(out, utf16String(d[:i]))
			if i+2 > len(d) {
				break
			}
			d = d[i+2:]
		}
	case vtAnsi:
		for _, s := range strings.Split(strings.TrimRight(string(d), "\x00"), "\x00") {
			out = append(out, latin1(s))
		}
	default:
		sz := fixedSize(et)
		if sz == 0 {
			if et == vtSID {
				for len(d) >= 8 {
					n := 8 + 4*int(d[1])
					if n > len(d) {
						break
					}
					out = append(out, sidString(d[:n]))
					d = d[n:]
				}
				return out
			}
			return strings.ToUpper(hex.EncodeToString(d))
		}
		for len(d) >= sz {
			out = append(out, renderScalar(raw{typ: et, data: d[:sz]}))
			d = d[sz:]
		}
	}
	return out
}

func latin1(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			r := make([]rune, len(s))
			for j := 0; j < len(s); j++ {
				r[j] = rune(s[j])
			}
			return string(r)
		}
	}
	return s
}

func renderScalar(v raw) string {
	d := v.data
	switch v.typ {
	case vtNull:
		return ""
	case vtString:
		return utf16String(d)
	case vtAnsi:
		return latin1(strings.TrimRight(string(d), "\x00"))
	case vtInt8, vtInt16, vtInt32, vtInt64:
		if n, ok := uintOf(v); ok {
			return strconv.FormatInt(int64(n), 10)
		}
	case vtUint8, vtUint16, vtUint32, vtUint64:
		if n, ok := uintOf(v); ok {
			return strconv.FormatUint(n, 10)
		}
	case vtHex32, vtHex64, vtSizeT:
		if n, ok := uintOf(v); ok {
			return "0x" + strconv.FormatUint(n, 16)
		}
	case vtReal32:
		if len(d) >= 4 {
			return strconv.FormatFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(d))), 'g', -1, 32)
		}
	case vtReal64:
		if len(d) >= 8 {
			return strconv.FormatFloat(math.Float64frombits(binary.LittleEndian.Uint64(d)), 'g', -1, 64)
		}
	case vtBool:
		if n, ok := boolOf(d); ok {
			if n {
				return "true"
			}
			return "false"
		}
	case vtBinary:
		return strings.ToUpper(hex.EncodeToString(d))
	case vtGUID:
		if len(d) >= 16 {
			return guidString(d)
		}
	case vtFileTime, vtSysTime:
		if v.typ == vtFileTime && len(d) >= 8 && binary.LittleEndian.Uint64(d) == 0 {
			return "1601-01-01T00:00:00.0000000Z" // as Windows renders a zero FILETIME
		}
		if t, ok := timeOf(v); ok {
			return FormatTime(t)
		}
		return ""
	case vtSID:
		if len(d) >= 8 {
			return sidString(d)
		}
	case vtEvtXML:
		return utf16String(d)
	}
	// Unknown type or short data: keep the bytes visible.
	return strings.ToUpper(hex.EncodeToString(d))
}

// boolOf reads a BOOL of any stored width; any non-zero value is true
// (Windows writes 1, but irregular values occur in real files).
func boolOf(d []byte) (bool, bool) {
	if len(d) == 0 {
		return false, false
	}
	for _, b := range d {
		if b != 0 {
			return true, true
		}
	}
	return false, true
}

// FormatTime renders a time as the XML rendering does: UTC, 7 fraction digits.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

const hexUpper = "0123456789ABCDEF"

func guidString(d []byte) string {
	var b [38]byte
	b[0] = '{'
	p := 1
	put := func(x byte) {
		b[p] = hexUpper[x>>4]
		b[p+1] = hexUpper[x&15]
		p += 2
	}
	for _, i := range [...]int{3, 2, 1, 0} {
		put(d[i])
	}
	b[p] = '-'
	p++
	put(d[5])
	put(d[4])
	b[p] = '-'
	p++
	put(d[7])
	put(d[6])
	b[p] = '-'
	p++
	put(d[8])
	put(d[9])
	b[p] = '-'
	p++
	for i := 10; i < 16; i++ {
		put(d[i])
	}
	b[37] = '}'
	return string(b[:])
}

func sidString(d []byte) string {
	n := int(d[1])
	var auth uint64
	for _, x := range d[2:8] {
		auth = auth<<8 | uint64(x)
	}
	b := make([]byte, 0, 16+11*n)
	b = append(b, "S-"...)
	b = strconv.AppendUint(b, uint64(d[0]), 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, auth, 10)
	for i := 0; i < n && 8+4*i+4 <= len(d); i++ {
		b = append(b, '-')
		b = strconv.AppendUint(b, uint64(binary.LittleEndian.Uint32(d[8+4*i:])), 10)
	}
	return string(b)
}
