package evtx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/goevtx"
)

// TestDifferentialGolangEvtx decodes every sample chunk with the fast
// decoder and with golang-evtx and requires, for every record golang-evtx
// decodes, the same System values and the same field values.
//
// Intentional normalisations (norm below), all about how a value is
// written, not what it is: hex integers compared by value (golang-evtx pads
// 0x%08x, Windows and we write 0x3e7); GUIDs without braces and case;
// floats by value; booleans (golang-evtx says false for any value but 1, we
// say true for any non-zero value: the irregular-bool sample). Field order
// is not compared (golang-evtx returns maps, which also fold repeated names
// such as the two LogonGuid of 4648: values are compared as sets); size_t
// values, which golang-evtx cannot render, are left out.
func TestDifferentialGolangEvtx(t *testing.T) {
	for _, fn := range corpusFiles(t) {
		name := filepath.Base(filepath.Dir(fn)) + "/" + filepath.Base(fn)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(fn)
			if err != nil {
				t.Fatal(err)
			}
			fast := binxml.NewFast()
			var ref goevtx.Decoder
			compared, diffs := 0, 0
			for off := binxml.FileHeaderSize; off+binxml.ChunkHeaderSize <= len(data); off += binxml.ChunkSize {
				chunk := data[off:min(off+binxml.ChunkSize, len(data))]
				if !binxml.HasChunkMagic(chunk) {
					continue
				}
				want := map[int64]binxml.Record{}
				_ = ref.DecodeChunk(chunk, int64(off), func(r *binxml.Record) {
					c := *r
					c.Fields = slices.Clone(r.Fields)
					want[r.Offset] = c
				}, func(binxml.Bad) {})
				_ = fast.DecodeChunk(chunk, int64(off), func(r *binxml.Record) {
					w, ok := want[r.Offset]
					if !ok || r.Damaged {
						// Damaged records (zeroed tail) decode to garbage
						// differently in each decoder; not comparable.
						return
					}
					compared++
					if d := compareRecords(&w, r); d != "" {
						diffs++
						if diffs <= 5 {
							t.Errorf("record %d at offset %d (event %d): %s", r.RecordID, r.Offset, r.EventID, d)
						}
					}
				}, func(binxml.Bad) {})
			}
			if diffs > 0 {
				t.Errorf("%d of %d records differ", diffs, compared)
			}
			t.Logf("%d records compared", compared)
		})
	}
}

func compareRecords(w, g *binxml.Record) string {
	var d []string
	check := func(what string, a, b any) {
		if a != b {
			d = append(d, fmt.Sprintf("%s: golang-evtx %v, fast %v", what, a, b))
		}
	}
	check("record id", w.RecordID, g.RecordID)
	check("event id", w.EventID, g.EventID)
	check("time", w.Time.UnixNano(), g.Time.UnixNano())
	check("computer", w.Computer, g.Computer)
	check("channel", w.Channel, g.Channel)
	check("provider", w.Provider, g.Provider)
	check("provider guid", norm(w.ProviderGUID), norm(g.ProviderGUID))
	check("level", w.Level, g.Level)
	check("task", w.Task, g.Task)
	check("keywords", norm(w.Keywords), norm(g.Keywords))
	check("user id", w.UserID, g.UserID)
	check("process id", w.ProcessID, g.ProcessID)
	wl, gl := leaves(w.Fields, nil), leaves(g.Fields, nil)
	slices.Sort(wl)
	slices.Sort(gl)
	wl, gl = slices.Compact(wl), slices.Compact(gl)
	// golang-evtx cannot render size_t values ("Unknown value: …"); we
	// render them as Windows does (0x…). Compare without both.
	wl = slices.DeleteFunc(wl, func(s string) bool { return strings.HasPrefix(s, "Unknown value:") })
	if len(wl) < len(gl) {
		gl = slices.DeleteFunc(gl, func(s string) bool { return strings.HasPrefix(s, "0x") && !slices.Contains(wl, s) })
	}
	if !slices.Equal(wl, gl) {
		d = append(d, fmt.Sprintf("field values differ:\n  golang-evtx %.600q\n  fast        %.600q", wl, gl))
	}
	for _, f := range g.Fields {
		if unnamed.MatchString(f.Name) || dedup.MatchString(f.Name) {
			continue // Data, Data_2…; repeated names renamed name_2
		}
		if !slices.ContainsFunc(w.Fields, func(x binxml.Field) bool { return x.Name == f.Name }) && len(w.Fields) > 0 {
			if _, nested := f.Value.([]binxml.Field); !nested {
				d = append(d, fmt.Sprintf("field %q not in golang-evtx's reading", f.Name))
			}
		}
	}
	return strings.Join(d, "; ")
}

var (
	unnamed = regexp.MustCompile(`^Data(_?\d+)?$`)
	dedup   = regexp.MustCompile(`_\d+$`)
)

// leaves lists every leaf value, normalised, of nested fields.
func leaves(fs []binxml.Field, out []string) []string {
	for _, f := range fs {
		switch v := f.Value.(type) {
		case []binxml.Field:
			out = leaves(v, out)
		case []string:
			for _, s := range v {
				if s != "" {
					out = append(out, norm(s))
				}
			}
		case string:
			if v != "" {
				out = append(out, norm(v))
			}
		default:
			out = append(out, norm(fmt.Sprint(v)))
		}
	}
	return out
}

var guidRe = regexp.MustCompile(`^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$`)

var byteList = regexp.MustCompile(`^\[(\d+ )*\d+\]$`)

func norm(s string) string {
	if byteList.MatchString(s) {
		// golang-evtx prints ANSI strings as a list of byte values.
		var b []byte
		for _, f := range strings.Fields(strings.Trim(s, "[]")) {
			n, err := strconv.Atoi(f)
			if err != nil || n > 255 {
				b = nil
				break
			}
			b = append(b, byte(n))
		}
		if b != nil {
			s = strings.TrimRight(string(b), "\x00")
		}
	}
	switch {
	case strings.HasPrefix(s, "0x") && len(s) > 2:
		if n, err := strconv.ParseUint(s[2:], 16, 64); err == nil {
			return "0x" + strconv.FormatUint(n, 16)
		}
	case guidRe.MatchString(s):
		return strings.ToUpper(strings.Trim(s, "{}"))
	case s == "true" || s == "false":
		return "bool"
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && strings.ContainsAny(s, ".") && !math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', 6, 64)
	}
	return s
}
