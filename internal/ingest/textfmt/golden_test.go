package textfmt

import (
	"flag"
	"testing"

	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

var update = flag.Bool("update", false, "rewrite golden expected.jsonl files")

func builtinParsers(t testing.TB) []input.Parser {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestGolden(t *testing.T) {
	ingesttest.RunCases(t, builtinParsers(t), "textfmt", *update)
}
