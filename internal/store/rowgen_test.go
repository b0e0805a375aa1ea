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
// costs a third of writing parquet.Values row by row. Nullable strings and
// plain numbers are optional fields whose zero value is NULL; Opt numbers
// are pointers into a batch arena (nil is NULL).
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
		if c.Opt {
			typ = "*" + typ
		}
		if c.Dict {
			tag += ",dict"
		}
		fmt.Fprintf(&b, "\t%s %s `parquet:%q`\n", c.Field, typ, tag)
	}
	b.WriteString("\tFields string `parquet:\"fields\"`\n}\n\n")
	b.WriteString("// fill sets r from ev; Opt values are copied into a (never reallocated) and pointed at.\nfunc (r *eventRow) fill(ev *event.Event, fields string, a *arena) {\n")
	for _, c := range cols {
		switch {
		case c.Kind == event.KindTime:
			fmt.Fprintf(&b, "\tr.%s = micros(ev.%s)\n", c.Field, c.Field)
		case c.Opt && c.Kind == event.KindInt32:
			fmt.Fprintf(&b, "\tr.%s = a.i32(ev.%s)\n", c.Field, c.Field)
		case c.Opt:
			fmt.Fprintf(&b, "\tr.%s = a.i64(ev.%s)\n", c.Field, c.Field)
		case c.IP:
			fmt.Fprintf(&b, "\tr.%s = event.NormIP(ev.%s)\n", c.Field, c.Field)
		default:
			fmt.Fprintf(&b, "\tr.%s = ev.%s\n", c.Field, c.Field)
		}
	}
	b.WriteString("\tr.Fields = fields\n}\n\n")
	// present: which optional value fields hold a value (see
	// writeAvoidingNullBug), bit k for the k-th of them.
	b.WriteString("// present has bit k set when the k-th optional value field of r (its zero value is NULL) holds a value.\nfunc (r *eventRow) present() uint64 {\n\tvar m uint64\n")
	k := 0
	for _, c := range cols {
		if !c.Nullable || c.Opt {
			continue // required, or a pointer (written one by one)
		}
		fmt.Fprintf(&b, "\tm |= held(r.%s) << %d\n", c.Field, k)
		k++
	}
	if k > 64 {
		panic("more than 64 optional value fields: present needs another word")
	}
	b.WriteString("\treturn m\n}\n\n")
	fmt.Fprintf(&b, "// optionalValueFields is how many bits present can set.\nconst optionalValueFields = %d\n", k)
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
