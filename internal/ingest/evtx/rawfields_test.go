package evtx

import (
	"os"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/goevtx"
)

// TestRawFieldsAsDict requires the fields' JSON text the parser writes to
// be byte for byte what the store wrote from the ordered dict before, for
// every record of every corpus file, from both decoders.
func TestRawFieldsAsDict(t *testing.T) {
	decoders := []struct {
		name string
		d    binxml.Decoder
	}{{"fast", binxml.NewFast()}, {"golang-evtx", goevtx.Decoder{}}}
	n := 0
	for _, fn := range corpusFiles(t) {
		data, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		for _, dec := range decoders {
			for off := binxml.FileHeaderSize; off+binxml.ChunkSize <= len(data); off += binxml.ChunkSize {
				_ = dec.d.DecodeChunk(data[off:off+binxml.ChunkSize], int64(off), func(r *binxml.Record) {
					n++
					checkRawFields(t, fn, dec.name, r)
				}, func(binxml.Bad) {})
			}
		}
	}
	t.Logf("%d records", n)
}

func checkRawFields(t *testing.T, fn, dec string, r *binxml.Record) {
	t.Helper()
	want, err := event.MarshalFields(toDict(r.Fields))
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	setFields(&ev, r.Fields, nil)
	got, err := event.MarshalFields(ev.Fields)
	if ev.Fields == nil {
		got = []byte(ev.RawFields)
	}
	if err != nil || string(got) != string(want) {
		t.Errorf("%s (%s) record %d:\n got %s\nwant %s", fn, dec, r.RecordID, got, want)
	}
}

// TestRawFieldsRepeatedNames covers what the samples may not hold: a
// repeated name (the dict keeps the last, at the end), nested fields, an
// array, characters JSON escapes, and a nil array.
func TestRawFieldsRepeatedNames(t *testing.T) {
	cases := [][]binxml.Field{
		{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}, {Name: "a", Value: "3"}},
		{{Name: "x", Value: []binxml.Field{{Name: "y", Value: "<&>\"\\\n\u2028\xff"}, {Name: "y", Value: "z"}}}},
		{{Name: "arr", Value: []string{"a", "<b>"}}, {Name: "nil", Value: []string(nil)}, {Name: "empty", Value: []binxml.Field{}}},
		{{Name: "n", Value: []binxml.Field(nil)}},
	}
	for _, fs := range cases {
		checkRawFields(t, "case", "made", &binxml.Record{Fields: fs})
	}
	var ev event.Event
	setFields(&ev, cases[0], nil)
	if ev.Fields == nil || ev.RawFields != "" {
		t.Errorf("repeated name: want the dict, got %q", ev.RawFields)
	}
}
