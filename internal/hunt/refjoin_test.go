package hunt

import (
	"context"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

// TestRefsJoinToExactlyTheirRows hunts the demo case and joins every
// finding reference to the stored events by its key (source, evidence,
// offset, seq): each must name exactly one row. By evidence and offset
// alone the same references name more rows: a ScreenConnect record is
// stored both as an EVTX and as an RMM event, and a TeamViewer connection
// row is a session start and a session end.
func TestRefsJoinToExactlyTheirRows(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests the demo case")
	}
	st, cfg := comtechStore(t)
	res, err := Run(context.Background(), st, cfg, builtin(t, cfg), Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	type loose struct {
		evidence string
		offset   int64
	}
	rows := map[event.Key]int{}
	looseRows := map[loose]int{}
	err = st.Scan(context.Background(), store.ScanOptions{Columns: []string{"evidence", "offset"}}, func(ev *event.Event) error {
		rows[event.KeyOf(ev)]++
		looseRows[loose{ev.Evidence, ev.Offset}]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	refs, joined, looseJoined := 0, 0, 0
	for _, f := range res.Findings {
		for _, r := range f.Refs {
			refs++
			if n := rows[r.Key()]; n != 1 {
				t.Errorf("finding %s (%s): ref %+v joins %d rows", f.ID, f.RuleID, r, n)
			}
			joined += rows[r.Key()]
			looseJoined += looseRows[loose{r.Evidence, r.Offset}]
		}
	}
	if refs == 0 {
		t.Fatal("no finding references: nothing was joined")
	}
	if joined != refs {
		t.Errorf("%d references join %d rows", refs, joined)
	}
	if looseJoined <= refs {
		t.Errorf("by evidence and offset alone %d references join %d rows: the case no longer shows why the source is in the key", refs, looseJoined)
	}
	t.Logf("%d references join %d rows by (source, evidence, offset, seq); %d by (evidence, offset) alone", refs, joined, looseJoined)
}
