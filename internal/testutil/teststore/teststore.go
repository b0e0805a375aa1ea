// Package teststore gives tests a store holding evidence and the events
// read back from it. It stands apart from testutil because it imports
// the ingesters, whose own tests import testutil.
package teststore

import (
	"context"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest"
	"github.com/spoor-dfir/spoor/internal/store"
)

// Ingest opens a store in a temporary folder and ingests paths into it
// under cfg (nil: the defaults).
func Ingest(t testing.TB, cfg *caseconf.Config, paths ...string) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), ingest.Options{Store: st, Paths: paths, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	return st
}

// Events reads every event of st back, each a copy of its own, in store
// order.
func Events(t testing.TB, st *store.Store) []*event.Event {
	t.Helper()
	var evs []*event.Event
	err := st.Scan(context.Background(), store.ScanOptions{}, func(ev *event.Event) error {
		c := *ev
		evs = append(evs, &c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
