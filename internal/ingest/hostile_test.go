package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// ingestOneFile ingests data as a file named name into a fresh store with
// the built-in parsers and returns its manifest entry.
func ingestOneFile(t *testing.T, name string, data []byte) store.FileEntry {
	t.Helper()
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev")
	write(t, filepath.Join(ev, name), string(data))
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Options{Store: st, Paths: []string{ev}, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	m := st.Manifest()
	if len(m.Files) != 1 {
		t.Fatalf("%d manifest entries, want 1", len(m.Files))
	}
	return m.Files[0]
}

// hostileText are the ways real text logs arrive that once made spoor
// drop them (issue #13, cases 2 and 3). Each mutates a real sample.
var hostileText = []struct {
	name string
	// lost is how many records the mutation may legitimately cost (a
	// line it damages), counted as skipped, never silently.
	lost   int64
	mutate func([]byte) []byte
}{
	{"nul-byte", 1, func(b []byte) []byte {
		i := nthLineStart(b, 2)
		return append(append(append([]byte(nil), b[:i]...), 0), b[i:]...)
	}},
	{"utf16le-no-bom", 0, func(b []byte) []byte {
		var out []byte
		for _, u := range utf16.Encode([]rune(string(b))) {
			out = append(out, byte(u), byte(u>>8))
		}
		return out
	}},
	{"long-first-line", 0, func(b []byte) []byte {
		return append([]byte(strings.Repeat("x", 70<<10)+"\n"), b...)
	}},
	{"cp1252-byte", 0, func(b []byte) []byte {
		out := append([]byte(nil), b...)
		start := nthLineStart(out, 3)
		for i := start; i < len(out) && out[i] != '\n'; i++ {
			if out[i] == 'e' {
				out[i] = 0xe9 // é in Windows-1252, invalid as UTF-8
				break
			}
		}
		return out
	}},
	{"cr-only", 0, func(b []byte) []byte {
		return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r"))
	}},
}

// nthLineStart is the offset where line n (0-based) starts, or 0.
func nthLineStart(b []byte, n int) int {
	off := 0
	for ; n > 0; n-- {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			return 0
		}
		off += i + 1
	}
	return off
}

func TestHostileTextKeepsEvents(t *testing.T) {
	samples := []string{
		"firewall/windows_firewall/ossec-docs_firewalls_windows_firewall.log",
		"rmm/anydesk/artemis-api_anydesk_var_log.trace",
		"rmm/teamviewer/HTB-Holmes2025-WatchmansResidue_Connections_incoming.txt",
	}
	for _, s := range samples {
		data, err := os.ReadFile(testutil.Shared(t, "samples", s))
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(s)
		orig := ingestOneFile(t, name, data)
		if orig.Status != store.StatusIngested || orig.Records == 0 {
			t.Fatalf("%s: original not ingested: %+v", s, orig)
		}
		for _, m := range hostileText {
			t.Run(name+"/"+m.name, func(t *testing.T) {
				got := ingestOneFile(t, name, m.mutate(data))
				if got.Status != store.StatusIngested || got.Format != orig.Format {
					t.Fatalf("status %q format %q, want ingested as %q (notes %q)", got.Status, got.Format, orig.Format, got.Notes)
				}
				if got.Records < orig.Records-m.lost || got.Records > orig.Records {
					t.Fatalf("%d records, the original gives %d", got.Records, orig.Records)
				}
				if lost := orig.Records - got.Records; lost > got.Skipped {
					t.Fatalf("%d records lost but only %d counted as skipped", lost, got.Skipped)
				}
			})
		}
	}
}

// TestTeamViewerExtraField: one row with a field more must not make the
// whole connections log "no known format".
func TestTeamViewerExtraField(t *testing.T) {
	data, err := os.ReadFile(testutil.Shared(t, "samples", "rmm/teamviewer/HTB-Holmes2025-WatchmansResidue_Connections_incoming.txt"))
	if err != nil {
		t.Fatal(err)
	}
	orig := ingestOneFile(t, "Connections_incoming.txt", data)
	for _, c := range []struct{ name, extra string }{
		{"trailing", "\tSomethingNew"},
		{"middle", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines := strings.SplitAfter(string(data), "\n")
			if c.extra != "" {
				lines[1] = strings.TrimRight(lines[1], "\r\n") + c.extra + "\n"
			} else {
				lines[1] = strings.Replace(lines[1], "\t", "\tinserted\t", 1)
			}
			got := ingestOneFile(t, "Connections_incoming.txt", []byte(strings.Join(lines, "")))
			if got.Format != orig.Format {
				t.Fatalf("format %q (notes %q), want %q", got.Format, got.Notes, orig.Format)
			}
			if got.Records+2*got.Skipped < orig.Records {
				t.Fatalf("%d records and %d skipped rows; the original gives %d records", got.Records, got.Skipped, orig.Records)
			}
		})
	}
}
