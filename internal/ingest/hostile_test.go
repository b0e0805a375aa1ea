package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf16"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
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

// blockingParser takes files starting with "BLOCK\n" and emits one event
// per line, waiting on release before the first one.
type blockingParser struct {
	started chan struct{}
	release chan struct{}
}

func (blockingParser) Name() string { return "block" }
func (blockingParser) Detect(in *input.Input) int {
	if bytes.HasPrefix(in.Text, []byte("BLOCK\n")) {
		return 100
	}
	return 0
}
func (p blockingParser) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	select {
	case p.started <- struct{}{}:
	default:
	}
	<-p.release
	return lineParser{}.Parse(ctx, in, emit, st)
}

// checkManifestAgrees: every part on disk is listed by an ingested entry
// and the other way round, and the records the manifest counts are the
// rows the parts hold.
func checkManifestAgrees(t *testing.T, dir string) {
	t.Helper()
	st, err := store.OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := st.Manifest()
	listed := map[string]bool{}
	for _, f := range m.Files {
		for _, p := range f.Parts {
			listed[p] = true
		}
	}
	onDisk, _ := filepath.Glob(filepath.Join(dir, "events", "*", "*.parquet"))
	for _, p := range onDisk {
		rel, _ := filepath.Rel(dir, p)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("part %s on disk is not in the manifest", rel)
		}
		delete(listed, filepath.ToSlash(rel))
	}
	for p := range listed {
		t.Errorf("manifest lists %s, which is not on disk", p)
	}
	n, err := st.CountEvents()
	if err != nil {
		t.Fatal(err)
	}
	if n != m.TotalRecords() {
		t.Errorf("manifest counts %d records, the parts hold %d", m.TotalRecords(), n)
	}
}

// TestConcurrentIngestsRefuse: a second ingest into a store being written
// refuses at once with a message naming the holder; the first lands
// completely, and a later run adds its files; the manifest always agrees
// with the parts (issue #13, case 5).
func TestConcurrentIngestsRefuse(t *testing.T) {
	dir := t.TempDir()
	evA, evB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for i := 0; i < 5; i++ {
		write(t, filepath.Join(evA, fmt.Sprintf("a%d.log", i)), fmt.Sprintf("BLOCK\nx%d\ny\n", i))
		write(t, filepath.Join(evB, fmt.Sprintf("b%d.log", i)), fmt.Sprintf("LINES\nb%d\nc\nd\n", i))
	}
	sdir := filepath.Join(dir, "store")
	bp := blockingParser{started: make(chan struct{}, 1), release: make(chan struct{})}
	stA, err := store.Open(sdir)
	if err != nil {
		t.Fatal(err)
	}
	errA := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), Options{Store: stA, Paths: []string{evA}, Workers: 2, Parsers: []input.Parser{bp, lineParser{}}})
		errA <- err
	}()
	<-bp.started
	stB, err := store.Open(sdir)
	if err != nil {
		t.Fatal(err)
	}
	optsB := Options{Store: stB, Paths: []string{evB}, Workers: 2, Parsers: []input.Parser{lineParser{}}}
	_, err = Run(context.Background(), optsB)
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second ingest: %v, want ErrLocked naming this process", err)
	}
	close(bp.release)
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	checkManifestAgrees(t, sdir)
	// Now the second one runs, and starts from the first one's manifest.
	sum, err := Run(context.Background(), optsB)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ingested != 5 {
		t.Fatalf("second run: %s", sum)
	}
	checkManifestAgrees(t, sdir)
	st, _ := store.OpenExisting(sdir)
	if m := st.Manifest(); len(m.Files) != 10 || m.TotalRecords() != 5*2+5*3 {
		t.Fatalf("manifest has %d files, %d records; want 10 and 25", len(m.Files), m.TotalRecords())
	}
}

// cancelAfter parses like lineParser and cancels the run after n files.
type cancelAfter struct {
	n      *atomic.Int64
	cancel context.CancelFunc
}

func (cancelAfter) Name() string               { return "lines" }
func (cancelAfter) Detect(in *input.Input) int { return lineParser{}.Detect(in) }
func (c cancelAfter) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	if c.n.Add(-1) == 0 {
		c.cancel()
	}
	return lineParser{}.Parse(ctx, in, emit, st)
}

// TestInterruptedIngestManifest: an ingest cancelled midway writes the
// manifest of the files it completed (it is no longer rewritten after
// every file, so this happens on the way out), and the manifest agrees
// with the parts.
func TestInterruptedIngestManifest(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev")
	for i := 0; i < 40; i++ {
		write(t, filepath.Join(ev, fmt.Sprintf("f%02d.log", i)), fmt.Sprintf("LINES\nx%d\n", i))
	}
	sdir := filepath.Join(dir, "store")
	st, err := store.Open(sdir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	n.Store(10)
	_, err = Run(ctx, Options{Store: st, Paths: []string{ev}, Workers: 1, Parsers: []input.Parser{cancelAfter{n: &n, cancel: cancel}}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want cancelled", err)
	}
	checkManifestAgrees(t, sdir)
	m := st.Manifest()
	if len(m.Files) < 9 || len(m.Files) >= 40 {
		t.Fatalf("%d files in the manifest after cancelling at the 10th of 40", len(m.Files))
	}
	// Running again completes the store.
	st2, _ := store.Open(sdir)
	if _, err := Run(context.Background(), Options{Store: st2, Paths: []string{ev}, Workers: 2, Parsers: []input.Parser{lineParser{}}}); err != nil {
		t.Fatal(err)
	}
	checkManifestAgrees(t, sdir)
	if m := st2.Manifest(); len(m.Files) != 40 || m.TotalRecords() != 40 {
		t.Fatalf("after the second run: %d files, %d records", len(m.Files), m.TotalRecords())
	}
}
