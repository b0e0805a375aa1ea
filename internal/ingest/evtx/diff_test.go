package evtx

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/goevtx"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/simulate"
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
		t.Run(name, func(t *testing.T) { diffFile(t, fn) })
	}
}

// TestDifferentialScenario runs both differential checks on a scenario
// generated here with internal/simulate (a different seed and attack
// variant than the committed comtech case), so the cross-check does not
// depend on which evidence happens to be committed.
func TestDifferentialScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a scenario")
	}
	// The attack scenario, and the bulk life spoor simulate --size writes
	// for the throughput benchmark (what the 1 GiB numbers are made of).
	for _, o := range []simulate.Options{
		{Scenario: "comtech-exfil", Seed: 77, Hosts: 6, Days: 7},
		{Scenario: "comtech", Seed: 78, Days: 7, Size: 3 << 20},
	} {
		for _, fn := range scenarioFiles(t, o) {
			name := fmt.Sprintf("%s-%d/%s", o.Scenario, o.Size, filepath.Base(fn))
			t.Run(name, func(t *testing.T) {
				diffFile(t, fn)
				diffRows(t, fn)
			})
		}
	}
}

// TestDifferentialRows parses every corpus file through the whole EVTX
// parser twice, once with the fast decoder and once with golang-evtx as
// the only decoder, and compares the emitted rows field by field.
func TestDifferentialRows(t *testing.T) {
	for _, fn := range corpusFiles(t) {
		name := filepath.Base(filepath.Dir(fn)) + "/" + filepath.Base(fn)
		t.Run(name, func(t *testing.T) { diffRows(t, fn) })
	}
}

// scenarioFiles generates a scenario in a temporary folder and lists its
// EVTX files, sorted.
func scenarioFiles(t *testing.T, o simulate.Options) []string {
	t.Helper()
	dir := t.TempDir()
	o.Out = dir
	if _, err := simulate.Run(o); err != nil {
		t.Fatal(err)
	}
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".evtx" {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("simulate wrote no EVTX files")
	}
	return files
}

// diffFile decodes every chunk of fn with the fast decoder and golang-evtx
// and requires equal records (compareRecords).
func diffFile(t *testing.T, fn string) {
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
}

// diffRows parses fn with the parser twice (fast decoder, golang-evtx
// decoder; no fallback either way) and compares the rows both emit for
// the same record id: every typed column and every raw field value, with
// the value normalisations of compareRecords (norm). A file whose
// golang-evtx reading loses records is compared on the records it has.
func diffRows(t *testing.T, fn string) {
	data, err := os.ReadFile(fn)
	if err != nil {
		t.Fatal(err)
	}
	fastEvs, _ := parseAll(t, &Parser{NoFallback: true}, fn, data, 2)
	var refEvs []event.Event
	st := &input.Stats{}
	ref := &Parser{NoFallback: true, NewDecoder: func() binxml.Decoder { return goevtx.Decoder{} }}
	if err := ref.Parse(context.Background(), memInput(fn, data, 2), func(ev *event.Event) error {
		refEvs = append(refEvs, *ev)
		return nil
	}, st); err != nil {
		t.Fatalf("golang-evtx: %v", err)
	}
	damaged := damagedRecords(data)
	want := map[[2]int64]*event.Event{}
	for i := range refEvs {
		want[[2]int64{refEvs[i].RecordID, refEvs[i].Offset}] = &refEvs[i]
	}
	compared, diffs := 0, 0
	for i := range fastEvs {
		g := &fastEvs[i]
		w, ok := want[[2]int64{g.RecordID, g.Offset}]
		if !ok || damaged[g.RecordID] {
			continue // see diffFile on damaged records
		}
		compared++
		if d := compareRows(w, g); d != "" {
			diffs++
			if diffs <= 5 {
				t.Errorf("record %d (event %d): %s", g.RecordID, g.EventID, d)
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d rows differ", diffs, compared)
	}
	if compared == 0 && len(refEvs) > 0 {
		t.Errorf("no row in common (golang-evtx %d rows, fast %d)", len(refEvs), len(fastEvs))
	}
	t.Logf("%d rows compared (fast %d, golang-evtx %d)", compared, len(fastEvs), len(refEvs))
}

// damagedRecords lists the record ids the fast decoder marks damaged.
func damagedRecords(data []byte) map[int64]bool {
	out := map[int64]bool{}
	fast := binxml.NewFast()
	for off := binxml.FileHeaderSize; off+binxml.ChunkHeaderSize <= len(data); off += binxml.ChunkSize {
		_ = fast.DecodeChunk(data[off:min(off+binxml.ChunkSize, len(data))], int64(off), func(r *binxml.Record) {
			if r.Damaged {
				out[int64(r.RecordID)] = true
			}
		}, func(binxml.Bad) {})
	}
	return out
}

// compareRows compares two emitted events column by column; string
// columns and field values go through norm (hex, GUID, bool spelling).
// The one column compared only one way is message: golang-evtx (and
// evtxexport) drop RenderingInfo from records that are not forwarded
// events, while the fast decoder keeps it (Shell-Core 23956 carries one),
// so a message is only required to match when golang-evtx has one.
func compareRows(w, g *event.Event) string {
	var d []string
	if w.Message == "" {
		w2 := *w
		w2.Message = g.Message
		w = &w2
	}
	cols := func(e *event.Event) []any {
		return []any{e.Time.UnixNano(), e.Source, e.Format, e.Host, e.Channel, e.Provider, e.EventID, e.RecordID,
			norm(e.User), norm(e.UserDomain), norm(e.UserSID), norm(e.SubjectUser), e.LogonType.V, norm(e.LogonID),
			norm(e.SrcIP), e.SrcPort.V, norm(e.DstIP), e.DstPort.V, e.Protocol, e.Action, e.BytesOut.V, e.BytesIn.V,
			norm(e.Process), norm(e.ParentProcess), norm(e.CommandLine), norm(e.ScriptText), norm(e.SessionID),
			e.Operator, e.Message, e.Evidence, e.Offset}
	}
	names := []string{"time", "source", "format", "host", "channel", "provider", "event_id", "record_id",
		"user", "user_domain", "user_sid", "subject_user", "logon_type", "logon_id",
		"src_ip", "src_port", "dst_ip", "dst_port", "protocol", "action", "bytes_out", "bytes_in",
		"process", "parent_process", "command_line", "script_text", "session_id",
		"operator", "message", "evidence", "offset"}
	wc, gc := cols(w), cols(g)
	for i := range wc {
		if wc[i] != gc[i] {
			d = append(d, fmt.Sprintf("%s: golang-evtx %v, fast %v", names[i], wc[i], gc[i]))
		}
	}
	if m := diffLeaves(dictLeaves(w.FieldDict(), nil), dictLeaves(g.FieldDict(), nil)); m != "" {
		d = append(d, m)
	}
	return strings.Join(d, "; ")
}

// diffLeaves compares the sets of field values golang-evtx (wl) and the
// fast decoder (gl) found; "" when they agree.
func diffLeaves(wl, gl []string) string {
	slices.Sort(wl)
	slices.Sort(gl)
	wl, gl = slices.Compact(wl), slices.Compact(gl)
	// golang-evtx cannot render size_t values ("Unknown value: …"); we
	// render them as Windows does (0x…). Compare without both.
	wl = slices.DeleteFunc(wl, func(s string) bool { return strings.HasPrefix(s, "Unknown value:") })
	if len(wl) < len(gl) {
		gl = slices.DeleteFunc(gl, func(s string) bool { return strings.HasPrefix(s, "0x") && !slices.Contains(wl, s) })
	}
	if slices.Equal(wl, gl) {
		return ""
	}
	return fmt.Sprintf("field values differ:\n  golang-evtx %.600q\n  fast        %.600q", wl, gl)
}

// dictLeaves lists every leaf value of an event's fields, normalised.
func dictLeaves(dict *ordereddict.Dict, out []string) []string {
	if dict == nil {
		return out
	}
	for _, it := range dict.Items() {
		if v, ok := it.Value.(*ordereddict.Dict); ok {
			out = dictLeaves(v, out)
		} else {
			out = appendLeaf(out, it.Value)
		}
	}
	return out
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
	if m := diffLeaves(leaves(w.Fields, nil), leaves(g.Fields, nil)); m != "" {
		d = append(d, m)
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

// appendLeaf adds one scalar or list value, normalised; empty strings
// are not values (both decoders may or may not emit them).
func appendLeaf(out []string, v any) []string {
	switch v := v.(type) {
	case []string:
		for _, s := range v {
			if s != "" {
				out = append(out, norm(s))
			}
		}
	case []any: // a list read back from the store's JSON text
		for _, e := range v {
			out = appendLeaf(out, e)
		}
	case nil: // a nil list, stored as null
	case string:
		if v != "" {
			out = append(out, norm(v))
		}
	default:
		out = append(out, norm(fmt.Sprint(v)))
	}
	return out
}

// leaves lists every leaf value, normalised, of nested fields.
func leaves(fs []binxml.Field, out []string) []string {
	for _, f := range fs {
		if v, ok := f.Value.([]binxml.Field); ok {
			out = leaves(v, out)
		} else {
			out = appendLeaf(out, f.Value)
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
