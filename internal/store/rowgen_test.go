package store

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/spoor-dfir/spoor/internal/event"
)

var updateRow = flag.Bool("update", false, "rewrite row_gen.go from event.Columns")

// genRow renders row_gen.go: the Parquet row of event.Columns as a Go
// struct, written by parquet-go's typed (column by column) writer, which
// costs a third of writing parquet.Values row by row. Nullable columns are
// pointers into a batch arena, nil for NULL (an empty string, a plain
// number's 0, an absent Opt number): see arena.
func genRow(cols []event.Column) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated from event.Columns by TestRowGenerated (go test ./internal/store -run RowGenerated -update); DO NOT EDIT.\n\n")
	b.WriteString("package store\n\nimport \"github.com/spoor-dfir/spoor/internal/event\"\n\n")
	b.WriteString("// eventRow is the Parquet row of an event (see schemaOf for the same schema built at run time).\ntype eventRow struct {\n")
	for _, c := range cols {
		typ, tag := "", c.Name
		if c.Nullable {
			tag += ",optional"
		}
		switch c.Kind {
		case event.KindString:
			typ = "string"
		case event.KindInt32:
			typ = "int32"
		case event.KindInt64:
			typ = "int64"
		case event.KindTime:
			typ, tag = "int64", tag+",timestamp(microsecond)"
		}
		if c.Nullable {
			typ = "*" + typ
		}
		if c.Dict {
			tag += ",dict"
		}
		fmt.Fprintf(&b, "\t%s %s `parquet:%q`\n", c.Field, typ, tag)
	}
	b.WriteString("\tFields string `parquet:\"fields\"`\n}\n\n")
	b.WriteString("// fill sets r from ev; nullable values are copied into a and pointed at (nil: NULL).\nfunc (r *eventRow) fill(ev *event.Event, fields string, a *arena) {\n")
	for _, c := range cols {
		switch {
		case c.Kind == event.KindTime && c.Nullable:
			fmt.Fprintf(&b, "\tr.%s = a.n64(micros(ev.%s))\n", c.Field, c.Field)
		case c.Kind == event.KindTime:
			fmt.Fprintf(&b, "\tr.%s = micros(ev.%s)\n", c.Field, c.Field)
		case c.Opt && c.Kind == event.KindInt32:
			fmt.Fprintf(&b, "\tr.%s = a.i32(ev.%s)\n", c.Field, c.Field)
		case c.Opt:
			fmt.Fprintf(&b, "\tr.%s = a.i64(ev.%s)\n", c.Field, c.Field)
		case c.Nullable && c.IP:
			fmt.Fprintf(&b, "\tr.%s = a.s(event.NormIP(ev.%s))\n", c.Field, c.Field)
		case c.Nullable && c.Kind == event.KindString:
			fmt.Fprintf(&b, "\tr.%s = a.s(ev.%s)\n", c.Field, c.Field)
		case c.Nullable && c.Kind == event.KindInt32:
			fmt.Fprintf(&b, "\tr.%s = a.n32(ev.%s)\n", c.Field, c.Field)
		case c.Nullable && c.Kind == event.KindInt64:
			fmt.Fprintf(&b, "\tr.%s = a.n64(ev.%s)\n", c.Field, c.Field)
		case c.IP:
			fmt.Fprintf(&b, "\tr.%s = event.NormIP(ev.%s)\n", c.Field, c.Field)
		default:
			fmt.Fprintf(&b, "\tr.%s = ev.%s\n", c.Field, c.Field)
		}
	}
	b.WriteString("\tr.Fields = fields\n}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		panic(err)
	}
	return out
}

// TestRowGenerated fails when row_gen.go no longer matches event.Columns
// (-update rewrites it), and holds its schema to the one schemaOf builds
// from the table: same columns, types, optional and encodings.
func TestRowGenerated(t *testing.T) {
	want := genRow(event.Columns)
	got, _ := os.ReadFile("row_gen.go")
	if *updateRow {
		if err := os.WriteFile("row_gen.go", want, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if !bytes.Equal(got, want) {
		t.Fatal("row_gen.go is stale: go test ./internal/store -run RowGenerated -update")
	}
	gen, built := parquet.SchemaOf(eventRow{}), eventLayout.schema
	if len(gen.Columns()) != len(built.Columns()) {
		t.Fatalf("generated row has %d columns, the table %d", len(gen.Columns()), len(built.Columns()))
	}
	for _, p := range built.Columns() {
		a, ok := gen.Lookup(p...)
		b, _ := built.Lookup(p...)
		if !ok {
			t.Errorf("column %s not in the generated row", p[0])
			continue
		}
		if a.Node.Optional() != b.Node.Optional() || a.Node.Type().String() != b.Node.Type().String() ||
			fmt.Sprint(a.Node.Encoding()) != fmt.Sprint(b.Node.Encoding()) {
			t.Errorf("column %s: generated %v/%v/%v, table %v/%v/%v", p[0], a.Node.Optional(), a.Node.Type(), a.Node.Encoding(),
				b.Node.Optional(), b.Node.Type(), b.Node.Encoding())
		}
	}
}
