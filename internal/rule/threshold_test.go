package rule

import (
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

func thresholdRule(t *testing.T, spec string) *Rule {
	t.Helper()
	src := "id: th\ntitle: T\nseverity: medium\ncondition: event_id == 4625\noutput: \"{{hits}} on {{host}}: {{distinct_values}} until {{last_time}}\"\nthreshold:\n" + spec
	rs, errs := ParseFile(nil, "th.yml", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return rs[0]
}

func runThreshold(r *Rule, evs []*event.Event) []event.Finding {
	var out []event.Finding
	st := r.State()
	emit := func(f event.Finding) { out = append(out, f) }
	for _, ev := range evs {
		if Evaluate(r, ev) {
			st.Observe(ev, emit)
		}
	}
	st.Flush(emit)
	return out
}

func failures(start time.Time, every time.Duration, n int, user, host string) []*event.Event {
	var out []*event.Event
	for i := 0; i < n; i++ {
		out = append(out, &event.Event{Time: start.Add(time.Duration(i) * every), EventID: 4625, User: user, Host: host, Evidence: "s.evtx", Offset: int64(i + 1)})
	}
	return out
}

func TestThresholdWindowIsInclusive(t *testing.T) {
	r := thresholdRule(t, "  count: 3\n  window: 2m\n  group_by: [host]\n")
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// Three events exactly 1 minute apart: the first and last are 2m apart.
	if got := runThreshold(r, failures(t0, time.Minute, 3, "a", "H")); len(got) != 1 {
		t.Fatalf("3 events within an inclusive 2m window: %d findings, want 1", len(got))
	}
	// One nanosecond more and no window holds three.
	if got := runThreshold(r, failures(t0, time.Minute+time.Nanosecond, 3, "a", "H")); len(got) != 0 {
		t.Fatalf("3 events over 2m+2ns: %d findings, want 0", len(got))
	}
}

func TestThresholdBurstExtendsAndCapsRefs(t *testing.T) {
	r := thresholdRule(t, "  count: 5\n  window: 1m\n")
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := failures(t0, 10*time.Second, 500, "a", "H") // one long attack
	got := runThreshold(r, evs)
	if len(got) != 1 {
		t.Fatalf("one continuous attack gave %d findings, want 1", len(got))
	}
	f := got[0]
	if !f.Time.Equal(t0) || !f.End.Equal(evs[499].Time) {
		t.Errorf("finding spans %v..%v, want %v..%v", f.Time, f.End, t0, evs[499].Time)
	}
	if len(f.Refs) != maxRefs || f.Refs[0].Offset != 1 {
		t.Errorf("refs: %d, first offset %d", len(f.Refs), f.Refs[0].Offset)
	}
	if h, _ := f.Details.Get("hits"); h != 500 {
		t.Errorf("hits = %v, want 500", h)
	}
	if f.Summary != "500 on H: - until "+evs[499].Time.Format(time.RFC3339) {
		t.Errorf("summary %q", f.Summary)
	}
}

func TestThresholdGroupsAndDistinct(t *testing.T) {
	r := thresholdRule(t, "  count: 3\n  window: 10m\n  distinct: user\n  group_by: [host]\n")
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []*event.Event
	// Host A: 3 distinct users; host B: one user 10 times.
	for i, u := range []string{"x", "y", "x", "z"} {
		evs = append(evs, &event.Event{Time: t0.Add(time.Duration(i) * time.Second), EventID: 4625, User: u, Host: "A"})
	}
	evs = append(evs, failures(t0, time.Second, 10, "same", "B")...)
	got := runThreshold(r, evs)
	if len(got) != 1 || got[0].Host != "A" {
		t.Fatalf("findings %+v, want one on host A", got)
	}
	if got[0].Summary != "4 on A: x, y, z until 2024-01-01T00:00:03Z" {
		t.Errorf("summary %q", got[0].Summary)
	}
}

func TestThresholdStateIsFreshPerRun(t *testing.T) {
	r := thresholdRule(t, "  count: 2\n  window: 1m\n")
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	one := failures(t0, time.Second, 1, "a", "H")
	runThreshold(r, one)
	if got := runThreshold(r, one); len(got) != 0 {
		t.Errorf("state leaked between runs: %d findings", len(got))
	}
}
