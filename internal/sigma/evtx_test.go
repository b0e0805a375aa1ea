package sigma

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// readEVTX reads an EVTX file with spoor's own EVTX parser, so the rules
// see events exactly as the hunt does.
func readEVTX(t testing.TB, path string) []*event.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, input.HeadSize)
	n, _ := io.ReadFull(f, head)
	f.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	in := &input.Input{
		Path:    path,
		Size:    fi.Size(),
		Raw:     head[:n],
		Open:    func() (io.ReadCloser, error) { return os.Open(path) },
		Config:  caseconf.Default(),
		Workers: 1,
	}
	var out []*event.Event
	var st input.Stats
	err = evtx.New().Parse(context.Background(), in, func(ev *event.Event) error {
		c := *ev // the parser may reuse ev
		// The parser gives the fields as the store's JSON text; Sigma
		// rules walk them as a dict, which the hunt decodes for them.
		c.Fields = c.FieldDict()
		out = append(out, &c)
		return nil
	}, &st)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}
