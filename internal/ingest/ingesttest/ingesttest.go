// Package ingesttest is the shared harness of the ingester tests: it
// builds inputs the way the ingest driver does, runs parsers over golden
// case folders and compares their output with expected.jsonl. It is a
// normal package so that several parser packages can share it, but only
// tests import it.
package ingesttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/textio"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// Input builds an Input over data as the driver does for a plain file:
// the sniffed head, its decoded text and a re-openable reader. rel is the
// evidence path events carry; a nil cfg is the default case.
func Input(data []byte, rel string, cfg *caseconf.Config) *input.Input {
	raw := data
	if len(raw) > input.HeadSize {
		raw = raw[:input.HeadSize]
	}
	if cfg == nil {
		cfg = caseconf.Default()
	}
	return &input.Input{
		Path: rel, Size: int64(len(data)), Raw: raw, Text: textio.Decode(raw),
		Open:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		Config: cfg, Workers: 1,
	}
}

// FileInput reads path and builds its Input with evidence path rel.
func FileInput(t testing.TB, path, rel string, cfg *caseconf.Config) *input.Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Input(data, rel, cfg)
}

// ParseAll runs p over in and returns copies of the emitted events, so
// that a parser reusing its Event between calls cannot alter them.
func ParseAll(t testing.TB, p input.Parser, in *input.Input) ([]*event.Event, *input.Stats) {
	t.Helper()
	var evs []*event.Event
	st := &input.Stats{}
	err := p.Parse(context.Background(), in, func(ev *event.Event) error {
		c := *ev
		evs = append(evs, &c)
		return nil
	}, st)
	if err != nil {
		t.Fatalf("%s: %v", in.Path, err)
	}
	return evs, st
}

// Detect picks the parser of ps with the highest score for in, failing
// the test when two parsers share that score: content detection must be
// unambiguous. It returns nil when no parser claims the input.
func Detect(t testing.TB, ps []input.Parser, in *input.Input) input.Parser {
	t.Helper()
	best, score, tie := input.Parser(nil), 0, ""
	for _, p := range ps {
		s := p.Detect(in)
		if s > score {
			best, score, tie = p, s, ""
		} else if s == score && s > 0 {
			tie = p.Name()
		}
	}
	if tie != "" {
		t.Fatalf("%s: ambiguous detection: %s and %s both score %d", in.Path, best.Name(), tie, score)
	}
	return best
}

// CaseDirs lists the golden case directories testdata/<sub>/<format>/<case>
// under the repository root, sorted, failing when there are none.
func CaseDirs(t testing.TB, sub string) []string {
	t.Helper()
	base := filepath.Join(testutil.RepoRoot(t), "testdata", sub)
	dirs, err := filepath.Glob(filepath.Join(base, "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatalf("no golden cases under %s", base)
	}
	return out
}

// CaseName is a case directory's subtest name: "<format>/<case>".
func CaseName(dir string) string {
	return filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)
}

// CaseFormat is the format a case must be detected as: the name of the
// directory above it.
func CaseFormat(dir string) string {
	return filepath.Base(filepath.Dir(dir))
}

// CaseConfig reads the optional case.yaml of a case directory; without
// one the case is the default configuration.
func CaseConfig(t testing.TB, dir string) *caseconf.Config {
	t.Helper()
	p := filepath.Join(dir, "case.yaml")
	if _, err := os.Stat(p); err != nil {
		return caseconf.Default()
	}
	c, err := caseconf.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Golden compares got with the golden file, or rewrites the file when
// update is set (the -update flag of the calling test package). A
// mismatch is reported line by line so that a one-field change reads at
// a glance.
func Golden(t testing.TB, file string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if d := Diff(got, want); d != "" {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", file, d)
	}
}

// maxDiffLines bounds how many differing lines Diff shows: the first few
// explain a change, hundreds drown it.
const maxDiffLines = 10

// Diff describes how got differs from want, line by line, or returns ""
// when they are byte-identical.
func Diff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g == w {
			continue
		}
		if shown == maxDiffLines {
			b.WriteString("...\n")
			break
		}
		shown++
		fmt.Fprintf(&b, "line %d:\n got: %s\nwant: %s\n", i+1, g, w)
	}
	if len(gl) != len(wl) {
		fmt.Fprintf(&b, "got %d lines, want %d\n", len(gl), len(wl))
	}
	if shown == 0 && len(gl) == len(wl) {
		// Same lines but different bytes cannot happen with a "\n"
		// split; kept so that a mismatch is never reported empty.
		fmt.Fprintf(&b, "got %q\nwant %q\n", got, want)
	}
	return b.String()
}

// SampleBytes reads ../shared/samples/<rel>, or skips when it is absent.
func SampleBytes(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(testutil.Shared(t, "samples", rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Repeat concatenates data, each copy ending in a newline, until it is at
// least size bytes, and returns it with its line count: benchmark input
// large enough to measure throughput from a small real sample.
func Repeat(data []byte, size int) ([]byte, int) {
	if len(data) == 0 {
		return nil, 0
	}
	var buf bytes.Buffer
	for buf.Len() < size {
		buf.Write(data)
		if !bytes.HasSuffix(data, []byte("\n")) {
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes(), bytes.Count(buf.Bytes(), []byte("\n"))
}

// Bench measures p parsing in, reporting bytes/s, allocations and lines/s
// (lines is how many lines in holds). A parse that yields no record fails
// the benchmark: it would time the rejection path, not the parser.
func Bench(b *testing.B, p input.Parser, in *input.Input, lines int) {
	b.Helper()
	b.SetBytes(in.Size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st := &input.Stats{}
		if err := p.Parse(context.Background(), in, func(*event.Event) error { return nil }, st); err != nil {
			b.Fatal(err)
		}
		if st.Records == 0 {
			b.Fatalf("%s: no records from %s", p.Name(), in.Path)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
