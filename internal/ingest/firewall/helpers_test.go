package firewall

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/textio"
)

// repoRoot walks up from the package directory to go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// samplesDir is ../shared/samples/firewall beside the repository; tests
// that need it skip when it is absent (a fresh clone).
func samplesDir(t testing.TB) string {
	t.Helper()
	d := filepath.Join(repoRoot(t), "..", "shared", "samples", "firewall")
	if _, err := os.Stat(d); err != nil {
		t.Skip("shared samples not present:", d)
	}
	return d
}

// testConfig is the case used by golden tests: UTC, and a window so that
// syslog years are reproducible for files without any dated line.
func testConfig(t testing.TB, yaml string) *caseconf.Config {
	t.Helper()
	if yaml == "" {
		yaml = "window:\n  from: 2024-01-01\n  to: 2025-01-01\n"
	}
	c, err := caseconf.Parse("test-case.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// inputFromBytes builds an Input as the ingest driver would: gzip
// decompressed, head sniffed and decoded.
func inputFromBytes(t testing.TB, path string, data []byte, cfg *caseconf.Config) *input.Input {
	t.Helper()
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		// Corrupt gzip (fuzz input) is handed on raw: the parser must
		// cope with any bytes anyway.
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			if plain, err := io.ReadAll(io.LimitReader(zr, 64<<20)); err == nil {
				data = plain
			}
		}
	}
	head := data
	if len(head) > input.HeadSize {
		head = head[:input.HeadSize]
	}
	return &input.Input{
		Path:    path,
		Size:    int64(len(data)),
		Raw:     head,
		Text:    textio.Decode(head),
		Open:    func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		Config:  cfg,
		Workers: 1,
	}
}

func inputFromFile(t testing.TB, file, evPath string, cfg *caseconf.Config) *input.Input {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return inputFromBytes(t, evPath, data, cfg)
}

// parseAll runs p over in and returns copies of the events.
func parseAll(t testing.TB, p input.Parser, in *input.Input) ([]*event.Event, *input.Stats) {
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

// parseString parses text with the named parser and the default config
// (or cfg).
func parseString(t testing.TB, p input.Parser, text string, cfg *caseconf.Config) ([]*event.Event, *input.Stats) {
	t.Helper()
	if cfg == nil {
		cfg = caseconf.Default()
	}
	return parseAll(t, p, inputFromBytes(t, "test.log", []byte(text), cfg))
}

// best returns the parser with the highest Detect score and whether
// another parser tied with it.
func best(in *input.Input) (input.Parser, int, bool) {
	var b input.Parser
	bs, tie := 0, false
	for _, p := range Parsers() {
		s := p.Detect(in)
		switch {
		case s > bs:
			b, bs, tie = p, s, false
		case s == bs && s > 0:
			tie = true
		}
	}
	return b, bs, tie
}
