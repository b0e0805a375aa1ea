package ingest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/store"
)

// lineParser is a test parser: files whose text starts with "LINES\n"
// give one event per following line; a line "PANIC" panics; "BAD" is
// counted as skipped.
type lineParser struct{}

func (lineParser) Name() string { return "lines" }
func (lineParser) Detect(in *input.Input) int {
	if bytes.HasPrefix(in.Text, []byte("LINES\n")) {
		return 100
	}
	return 0
}
func (lineParser) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	rc, err := in.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	n := int64(0)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case n == 1:
			continue
		case line == "PANIC":
			panic("boom")
		case line == "BAD":
			st.Skip("bad line", "line 2: bad")
			continue
		case line == "ERR":
			return errors.New("line 3: cannot go on")
		}
		ev := &event.Event{Source: event.SourceFirewall, Format: "lines", Message: line, Evidence: in.Path, Offset: n,
			Time: time.Date(2026, 1, 1, 0, 0, int(n), 0, time.UTC)}
		st.Saw(ev.Time)
		if err := emit(ev); err != nil {
			return err
		}
		st.Records++
	}
	return sc.Err()
}

func write(t *testing.T, path, content string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func makeZip(t *testing.T, entries map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(entries))
	for k := range entries {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(entries[n])
	}
	zw.Close()
	return buf.Bytes()
}

func TestRunWalksZipsGzipAndDedupes(t *testing.T) {
	ev := filepath.Join(t.TempDir(), "triage")
	write(t, filepath.Join(ev, "HOST1", "a.log"), "LINES\none\ntwo\n")
	write(t, filepath.Join(ev, "HOST1", "notes.txt"), "just notes\n")
	write(t, filepath.Join(ev, "HOST2", "copy.log"), "LINES\none\ntwo\n") // same content as a.log
	write(t, filepath.Join(ev, "HOST2", "panic.log"), "LINES\nok\nPANIC\n")
	write(t, filepath.Join(ev, "HOST2", "err.log"), "LINES\nBAD\nERR\nnever\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("LINES\ngz1\ngz2\ngz3\n"))
	zw.Close()
	write(t, filepath.Join(ev, "HOST3", "rotated.1"), gz.String())
	inner := makeZip(t, map[string][]byte{"deep.log": []byte("LINES\nd\n")})
	outer := makeZip(t, map[string][]byte{
		"uploads/auto/C%3A/x.log": []byte("LINES\nz1\n"),
		"../../evil.log":          []byte("LINES\nevil\n"),
		"nested.bin":              inner,
	})
	write(t, filepath.Join(ev, "collection.zip"), string(outer))

	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Store: st, Paths: []string{ev}, Parsers: []input.Parser{lineParser{}}, Workers: 2}
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	m := st.Manifest()
	byPath := map[string]store.FileEntry{}
	for _, f := range m.Files {
		byPath[f.Path] = f
	}
	check := func(path, status string, records int64) store.FileEntry {
		t.Helper()
		f, ok := byPath[path]
		if !ok {
			t.Fatalf("no manifest entry %s; have %v", path, keys(byPath))
		}
		if f.Status != status || f.Records != records {
			t.Fatalf("%s: status %s records %d, want %s %d (%+v)", path, f.Status, f.Records, status, records, f)
		}
		return f
	}
	a := check("triage/HOST1/a.log", store.StatusIngested, 2)
	if len(a.SHA256) != 64 || a.First == nil || a.Format != "lines" {
		t.Fatalf("entry incomplete: %+v", a)
	}
	check("triage/HOST1/notes.txt", store.StatusSkipped, 0)
	d := check("triage/HOST2/copy.log", store.StatusDuplicate, 0)
	if d.DuplicateOf != "triage/HOST1/a.log" {
		t.Fatalf("duplicate of %q", d.DuplicateOf)
	}
	p := check("triage/HOST2/panic.log", store.StatusIngested, 1)
	if len(p.Errors) == 0 || !strings.Contains(p.Errors[0], "panicked") {
		t.Fatalf("panic not reported: %+v", p)
	}
	e := check("triage/HOST2/err.log", store.StatusIngested, 0)
	if e.Skipped != 1 || e.SkipReasons["bad line"] != 1 || len(e.Errors) < 2 {
		t.Fatalf("skips/errors not recorded: %+v", e)
	}
	check("triage/HOST3/rotated.1", store.StatusIngested, 3)
	check("triage/collection.zip/uploads/auto/C%3A/x.log", store.StatusIngested, 1)
	check("triage/collection.zip/../../evil.log", store.StatusIngested, 1)
	check("triage/collection.zip/nested.bin/deep.log", store.StatusIngested, 1)
	if sum.Files != 9 || sum.Duplicates != 1 || sum.Skipped != 1 {
		t.Fatalf("summary %+v", sum)
	}
	n, _ := st.CountEvents()
	if n != m.TotalRecords() || n != 2+1+3+1+1+1 {
		t.Fatalf("store has %d events, manifest %d", n, m.TotalRecords())
	}

	// Again: nothing new, nothing duplicated.
	sum2, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	n2, _ := st.CountEvents()
	if n2 != n || sum2.Ingested != 0 || sum2.Unchanged != 7 {
		t.Fatalf("second run: %d events (was %d), %+v", n2, n, sum2)
	}
}

func TestRunRecoversRemovedPart(t *testing.T) {
	ev := filepath.Join(t.TempDir(), "e")
	write(t, filepath.Join(ev, "a.log"), "LINES\none\n")
	st, _ := store.Open(t.TempDir())
	opts := Options{Store: st, Paths: []string{ev}, Parsers: []input.Parser{lineParser{}}}
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	f := st.Manifest().Files[0]
	// Simulate a store that lost its part file (e.g. a killed copy).
	os.Remove(filepath.Join(st.Dir, f.Parts[0]))
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ingested != 1 {
		t.Fatalf("missing part not re-ingested: %+v", sum)
	}
}

func keys(m map[string]store.FileEntry) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestEmptyLogsAreNotDuplicates: header-only logs of several hosts have the
// same content, but each is its host's empty log (listed under its own
// path, counted once in the summary), not a duplicate of another host's;
// repeated non-empty content stays a duplicate; an unknown format is
// warned about.
func TestEmptyLogsAreNotDuplicates(t *testing.T) {
	ev := filepath.Join(t.TempDir(), "evidence")
	for _, h := range []string{"PC-1", "PC-2", "PC-3"} {
		write(t, filepath.Join(ev, h, "empty.log"), "LINES\n")
	}
	write(t, filepath.Join(ev, "PC-1", "a.log"), "LINES\none\n")
	write(t, filepath.Join(ev, "PC-2", "a.log"), "LINES\none\n")
	write(t, filepath.Join(ev, "PC-3", "notes.txt"), "no format\n")
	st, _ := store.Open(t.TempDir())
	var logs []string
	opts := Options{Store: st, Paths: []string{ev}, Parsers: []input.Parser{lineParser{}}, Log: func(m string) { logs = append(logs, m) }}
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Empty != 3 || sum.Duplicates != 1 || sum.Ingested != 4 || sum.Skipped != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if s := sum.String(); !strings.Contains(s, "3 empty logs") {
		t.Errorf("summary line %q", s)
	}
	joined := strings.Join(logs, "\n")
	if strings.Contains(joined, "empty.log") || !strings.Contains(joined, "evidence/PC-2/a.log: same content as evidence/PC-1/a.log") ||
		!strings.Contains(joined, "warning: evidence/PC-3/notes.txt: unknown format") {
		t.Errorf("log lines:\n%s", joined)
	}
	for _, f := range st.Manifest().Files {
		if strings.HasSuffix(f.Path, "empty.log") && (f.Status != store.StatusIngested || f.Records != 0 || f.Format != "lines") {
			t.Errorf("%s: %+v", f.Path, f)
		}
	}
	// Again: all unchanged, none re-recorded.
	sum2, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Unchanged != 4 || sum2.Ingested != 0 || sum2.Empty != 0 {
		t.Fatalf("second run %+v", sum2)
	}
}

func TestNoInputIsAnError(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	_, err := Run(context.Background(), Options{Store: st, Paths: []string{t.TempDir()}, Parsers: []input.Parser{lineParser{}}})
	if err == nil || !strings.Contains(err.Error(), "no evidence files") {
		t.Fatalf("want an error for an empty evidence folder, got %v", err)
	}
}

func TestSourceTimezonesKeysValidated(t *testing.T) {
	cfg, err := caseconf.Parse("case.yaml", []byte("timezone: UTC\nsource_timezones:\n  lines: Europe/Berlin\n  rmm: UTC\n  pfsense: Europe/Berlin\n"))
	if err != nil {
		t.Fatal(err)
	}
	ev := filepath.Join(t.TempDir(), "e")
	write(t, filepath.Join(ev, "a.log"), "LINES\none\n")
	st, _ := store.Open(t.TempDir())
	_, err = Run(context.Background(), Options{Store: st, Paths: []string{ev}, Config: cfg, Parsers: []input.Parser{lineParser{}}})
	if err == nil || !strings.Contains(err.Error(), `case.yaml:5:3: source_timezones: unknown format or source "pfsense"`) {
		t.Fatalf("want a positioned error for the unknown key, got %v", err)
	}
}
