package rmm

import (
	"flag"
	"testing"

	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
)

var update = flag.Bool("update", false, "rewrite golden expected.jsonl files")

func TestGolden(t *testing.T) {
	ingesttest.RunCases(t, Parsers(), "rmm", *update)
}
