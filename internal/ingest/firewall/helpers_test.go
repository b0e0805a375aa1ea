package firewall

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

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
	return ingesttest.Input(data, path, cfg)
}

func inputFromFile(t testing.TB, file, evPath string, cfg *caseconf.Config) *input.Input {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return inputFromBytes(t, evPath, data, cfg)
}

// parseString parses text with the named parser and the default config
// (or cfg).
func parseString(t testing.TB, p input.Parser, text string, cfg *caseconf.Config) ([]*event.Event, *input.Stats) {
	t.Helper()
	if cfg == nil {
		cfg = caseconf.Default()
	}
	return ingesttest.ParseAll(t, p, inputFromBytes(t, "test.log", []byte(text), cfg))
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
