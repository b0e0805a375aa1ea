package analyzers_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/analyzers"
	"github.com/spoor-dfir/spoor/analyzers/offhours"
	"github.com/spoor-dfir/spoor/analyzers/persistence"
	"github.com/spoor-dfir/spoor/analyzers/psrecon"
	"github.com/spoor-dfir/spoor/analyzers/rmmsessions"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/simulate"
	"github.com/spoor-dfir/spoor/internal/store"
)

// scenarioEvents simulates a case, ingests it and returns every stored
// event (whole) with the case.
func scenarioEvents(t *testing.T, o simulate.Options) ([]event.Event, *caseconf.Config) {
	t.Helper()
	cfg, st, _ := ingested(t, o)
	var evs []event.Event
	if err := st.Scan(context.Background(), store.ScanOptions{}, func(ev *event.Event) error {
		e := *ev
		e.Fields = clone(ev.Fields)
		evs = append(evs, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return evs, cfg
}

func clone(d *ordereddict.Dict) *ordereddict.Dict {
	if d == nil {
		return nil
	}
	c := ordereddict.NewDict()
	for _, it := range d.Items() {
		c.Set(it.Key, it.Value)
	}
	return c
}

// tempting returns evs and, for each, copies that look like it but come
// from another source, another channel or with another event id (all
// taken from evs): events an analyzer would act on if its Observe tested
// less than its Wants says, or something else.
func tempting(evs []event.Event) []event.Event {
	var sources, channels []string
	var ids []int32
	seenS, seenC, seenI := map[string]bool{}, map[string]bool{}, map[int32]bool{}
	for _, e := range evs {
		if !seenS[e.Source] {
			seenS[e.Source] = true
			sources = append(sources, e.Source)
		}
		if !seenC[e.Channel] {
			seenC[e.Channel] = true
			channels = append(channels, e.Channel)
		}
		if !seenI[e.EventID] {
			seenI[e.EventID] = true
			ids = append(ids, e.EventID)
		}
	}
	out := make([]event.Event, 0, 4*len(evs))
	for i, e := range evs {
		out = append(out, e)
		mut := func(n int, f func(*event.Event)) {
			c := e
			c.Fields = clone(e.Fields)
			c.Evidence = e.Evidence + "#copy"
			c.Offset = e.Offset + int64(n)*1_000_000_000
			f(&c)
			out = append(out, c)
		}
		mut(1, func(c *event.Event) { c.Source = sources[(i+1)%len(sources)] })
		mut(2, func(c *event.Event) { c.Channel = channels[(i*7+1)%len(channels)] })
		mut(3, func(c *event.Event) { c.EventID = ids[(i*13+1)%len(ids)] })
	}
	return out
}

// TestObserveKeepsToItsWants holds every analyzer's Observe to the data
// its Wants declares: fed only the events its Wants selects, or every
// event (and look-alikes from other sources, channels and event ids), it
// reports the same findings. So the declared filter, which the hunt uses
// to decide what to decode, cannot drift from the code.
func TestObserveKeepsToItsWants(t *testing.T) {
	if testing.Short() {
		t.Skip("simulate → ingest: not in -short")
	}
	evs, cfg := scenarioEvents(t, simulate.Options{Scenario: "comtech-lateral", Seed: 7})
	all := tempting(evs)
	type maker func() []analyzers.Analyzer
	// The shared list (analyzers.All, the set first) and the analyzers
	// that build their own sessions.
	makers := map[string]maker{
		"all": func() []analyzers.Analyzer { return analyzers.All(cfg) },
		"standalone": func() []analyzers.Analyzer {
			return []analyzers.Analyzer{offhours.New(cfg), rmmsessions.New(cfg), psrecon.New(cfg), persistence.New(cfg)}
		},
	}
	for name, mk := range makers {
		filtered, full := mk(), mk()
		for i := range filtered {
			sel, ok := filtered[i].(analyzers.Selective)
			if !ok {
				t.Errorf("%s: %s declares no Wants", name, filtered[i].Name())
				continue
			}
			ws := sel.Wants()
			in := 0
			for j := range all {
				e := all[j]
				if ws.Find(e.Source, e.EventID, strings.ToLower(e.Channel)) != nil {
					in++
					c := e
					filtered[i].Observe(&c)
				}
				c := e
				full[i].Observe(&c)
			}
			if in == 0 {
				t.Errorf("%s: %s wants none of %d events", name, filtered[i].Name(), len(all))
			}
		}
		for i := range filtered {
			a, _ := json.Marshal(filtered[i].Finish())
			b, _ := json.Marshal(full[i].Finish())
			if string(a) != string(b) {
				t.Errorf("%s: %s reads events outside its Wants: %d bytes of findings from what it wants, %d from everything", name, filtered[i].Name(), len(a), len(b))
			}
		}
	}
}
