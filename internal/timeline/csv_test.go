package timeline

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

// splitUnquoted splits a CSV line the way a spreadsheet with list
// separator sep does: quoted cells are kept whole.
func splitUnquoted(line string, sep byte) []string {
	var cells []string
	var cur strings.Builder
	inQ := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"':
			inQ = !inQ
		case c == sep && !inQ:
			cells = append(cells, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(cells, cur.String())
}

// TestCSVSeparatorLocales: a value carrying a formula after a ';', tab or
// '|' must not become a formula cell in a spreadsheet that splits on that
// separator (Excel with a German or French list separator), and values
// whose formula characters are not at a cell start are written unchanged.
func TestCSVSeparatorLocales(t *testing.T) {
	hostile := []string{
		"x;=cmd|' /C calc'!A0",
		"x\t=1+1",
		"a|@SUM(1)",
		"net user a b /add; -enc AAA",
	}
	for _, v := range hostile {
		var buf bytes.Buffer
		s := NewCSV(&buf, time.UTC)
		ev := &event.Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Source: "evtx", CommandLine: v, Host: "h"}
		if err := s.Write(&Entry{Event: ev}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%q: %d lines", v, len(lines))
		}
		for _, sep := range []byte{',', ';', '\t', '|'} {
			for _, cell := range splitUnquoted(lines[1], sep) {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("%q: separator %q gives formula cell %q", v, sep, cell)
				}
			}
		}
		// The value itself round-trips unchanged through a CSV reader.
		rows, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range rows[1] {
			found = found || c == v
		}
		if !found {
			t.Errorf("%q not written unchanged: %q", v, rows[1])
		}
	}
}
