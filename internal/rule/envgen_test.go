package rule

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
)

var updateGen = flag.Bool("update", false, "rewrite env_columns.go and README.md's variable table from event.Columns")

// goType is the rule variable's Go type for a column kind: conditions see
// plain typed values (0 or "" for NULL), as before the store had NULLs.
func goType(k event.Kind) string {
	switch k {
	case event.KindString:
		return "string"
	case event.KindInt32:
		return "int32"
	case event.KindInt64:
		return "int64"
	}
	return "time.Time"
}

// genEnvColumns renders env_columns.go from the column table.
func genEnvColumns(cols []event.Column) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated from event.Columns by TestEnvColumnsGenerated (go test ./internal/rule -run Generated -update); DO NOT EDIT.\n\n")
	b.WriteString("package rule\n\nimport (\n\t\"time\"\n\n\t\"github.com/spoor-dfir/spoor/internal/event\"\n)\n\n")
	b.WriteString("// columnsEnv holds the typed event columns as condition variables.\ntype columnsEnv struct {\n")
	for _, c := range cols {
		fmt.Fprintf(&b, "\t%s %s `expr:%q`\n", c.Field, goType(c.Kind), c.Var)
	}
	b.WriteString("}\n\n// setColumns copies the event's columns (an absent number is 0,\n// addresses in canonical form).\nfunc (e *columnsEnv) setColumns(ev *event.Event) {\n")
	for _, c := range cols {
		v := "ev." + c.Field
		switch {
		case c.Opt:
			v += ".V"
		case c.IP:
			v = "event.NormIP(" + v + ")" // as the store and the goldens hold it
		}
		fmt.Fprintf(&b, "\te.%s = %s\n", c.Field, v)
	}
	b.WriteString("}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		panic(err)
	}
	return out
}

const (
	tableBegin = "<!-- variables: generated from event.Columns (go test ./internal/rule -run Generated -update) -->\n"
	tableEnd   = "<!-- end variables -->\n"
)

// genVariableTable renders the README's variable table.
func genVariableTable(cols []event.Column) string {
	var b strings.Builder
	b.WriteString("| variable | type | NULL reads as | what |\n| --- | --- | --- | --- |\n")
	b.WriteString("| `source` | string | never | evtx, firewall or rmm (the store's partition) |\n")
	for _, c := range cols {
		typ := goType(c.Kind)
		if c.Kind == event.KindTime {
			typ = "time (UTC)"
		}
		null := "never"
		if c.Nullable {
			switch c.Kind {
			case event.KindString:
				null = "`\"\"`"
			case event.KindTime:
				null = "zero time"
			default:
				null = "0"
			}
		}
		name := "`" + c.Var + "`"
		doc := c.Doc
		if c.Var != c.Name {
			doc += fmt.Sprintf(" (the column `%s`)", c.Name)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, typ, null, strings.ReplaceAll(doc, "|", `\|`))
	}
	return b.String()
}

// TestEnvColumnsGenerated fails when env_columns.go or the README's
// variable table no longer match event.Columns; -update rewrites them.
func TestEnvColumnsGenerated(t *testing.T) {
	want := genEnvColumns(event.Columns)
	got, _ := os.ReadFile("env_columns.go")
	if *updateGen {
		if err := os.WriteFile("env_columns.go", want, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if !bytes.Equal(got, want) {
		t.Errorf("env_columns.go is stale: go test ./internal/rule -run Generated -update")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q … %q", tableBegin, tableEnd)
	}
	fresh := s[:i+len(tableBegin)] + genVariableTable(event.Columns) + s[j:]
	if *updateGen {
		if err := os.WriteFile("README.md", []byte(fresh), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if fresh != s {
		t.Errorf("README.md's variable table is stale: go test ./internal/rule -run Generated -update")
	}
}

// TestEnvColumnsFollowTheTable: a column added to the table is a
// condition variable, set from the event, and a README row (generated).
func TestEnvColumnsFollowTheTable(t *testing.T) {
	cols := append(append([]event.Column(nil), event.Columns...),
		event.Column{Name: "ticket", Var: "ticket", Field: "Ticket", Kind: event.KindString, Nullable: true, Doc: "a ticket number"})
	src := string(genEnvColumns(cols))
	for _, want := range []string{"Ticket string `expr:\"ticket\"`", "e.Ticket = ev.Ticket"} {
		if !strings.Contains(strings.Join(strings.Fields(src), " "), want) {
			t.Errorf("generated env lacks %q", want)
		}
	}
	if !strings.Contains(genVariableTable(cols), "| `ticket` | string | `\"\"` | a ticket number |") {
		t.Errorf("README table lacks the new column:\n%s", genVariableTable(cols))
	}
	if strings.Contains(string(genEnvColumns(event.Columns)), "Ticket") {
		t.Fatal("the test's column leaked into the real table")
	}
}
