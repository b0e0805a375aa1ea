package rule

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/testutil"
	"github.com/spoor-dfir/spoor/internal/testutil/teststore"
)

func TestGuardsOf(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want string // fmt of the guards
	}{
		{`event_id == 4624`, `[{[4624] []}]`},
		{`4624 == event_id && user != ""`, `[{[4624] [[user]]}]`},
		{`event_id in [1, 2] || command_line != ""`, `[{[1 2] []} {[] [[command_line]]}]`},
		{`(event_id == 1 || event_id == 2) && (event_id == 2 || event_id == 3)`, `[{[2] []}]`},
		{`event_id == 1 && event_id == 2`, `[]`},
		{`let x = lower(command_line); event_id == 7 && x contains "a"`, `[{[7] []}]`},
		{`(command_line != "" || script_text != "") && icontains(command_line, "x")`, `[{[] [[command_line script_text] [command_line~"x"]]}]`},
		{`contains_any(command_line, ["a", "b"]) || script_text contains "c" || icontains(channel, "d")`, `[{[] [[command_line~"a" command_line~"b" script_text~"c" channel~"d"]]}]`},
		{`event_id == 13 && icontains(channel, "sysmon") || event_id == 4657`, `[{[13] [[channel~"sysmon"]]} {[4657] []}]`},
		// Not tests on a column's text: an empty needle, a field, a
		// non-ASCII case-sensitive needle, a list that is not constant.
		{`icontains(command_line, "")`, `[]`},
		{`icontains(field("CommandLine"), "x")`, `[]`},
		{`command_line contains "ü"`, `[]`},
		{`let w = ["a"]; contains_any(command_line, w)`, `[]`},
		// Anything else says nothing: no guards.
		{`event_id != 4624`, `[]`},
		{`event_id == 4624 || icontains(command_line, "x")`, `[{[4624] []} {[] [[command_line~"x"]]}]`},
		{`event_id == 4624 || re(command_line, "x")`, `[]`},
		{`!(event_id == 4624)`, `[]`},
		{`event_id > 4000`, `[]`},
	} {
		p, err := CompileExpr(nil, tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		got := fmt.Sprint(p.Guards())
		if got != tc.want {
			t.Errorf("%s: guards %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestGuardsNeverHideAMatch runs every built-in rule's condition on
// every event of every rule's tests (matching or not, other rules'
// events included), and on those events with columns emptied: wherever
// the condition holds, the rule's guard must let the event through.
func TestGuardsNeverHideAMatch(t *testing.T) {
	rs, errs := Builtin(nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var evs []*event.Event
	for _, r := range rs {
		for _, tc := range r.Tests {
			for _, ev := range tc.Events {
				evs = append(evs, ev)
				for _, col := range []string{"command_line", "script_text", "channel"} {
					c := *ev
					if err := setColumn(&c, col, ""); err != nil {
						t.Fatal(err)
					}
					evs = append(evs, &c)
				}
			}
		}
	}
	guarded, held := 0, 0
	for _, r := range rs {
		if r.prog == nil || r.guard == nil {
			continue
		}
		guarded++
		for _, ev := range evs {
			ok, err := r.prog.Eval(ev)
			if err != nil || !ok || !r.Filter.Pass(ev) {
				continue
			}
			held++
			if !r.guard(ev) {
				t.Errorf("rule %s holds on event %d/%s (command line %q) but its guards %v turn it away", r.ID, ev.EventID, ev.Channel, ev.CommandLine, r.Guards)
			}
		}
	}
	if guarded < 10 || held < 20 {
		t.Fatalf("only %d guarded rules held %d times: the test checks too little", guarded, held)
	}
}

// TestGuardsOnRealEvents: on every event of the demo case and of the
// shared real EVTX samples (when present), every built-in rule whose
// condition holds is let through by its guards.
func TestGuardsOnRealEvents(t *testing.T) {
	rs, errs := Builtin(nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	paths := []string{demoEvidence(t)}
	if dir, ok := testutil.SharedPath(t, "samples", "evtx"); ok {
		paths = append(paths, dir)
	}
	evs := teststore.Events(t, teststore.Ingest(t, nil, paths...))
	events, held := len(evs), map[string]int{}
	for _, ev := range evs {
		for _, r := range rs {
			if r.prog == nil || r.guard == nil || !r.Filter.Pass(ev) {
				continue
			}
			if ok, err := r.prog.Eval(ev); err != nil || !ok {
				continue
			}
			held[r.ID]++
			if !r.guard(ev) {
				t.Errorf("rule %s holds on %s@%d (event %d) but its guards %v turn it away", r.ID, ev.Evidence, ev.Offset, ev.EventID, r.Guards)
			}
		}
	}
	if events < 5000 || len(held) < 8 {
		t.Fatalf("%d events, guarded rules that held: %v: the test checks too little", events, held)
	}
}

func setColumn(ev *event.Event, name, v string) error {
	i, ok := event.ColumnIndex(name)
	if !ok {
		return fmt.Errorf("no column %s", name)
	}
	return event.Columns[i].SetString(ev, v)
}

// TestFastValuesAgree: the direct readers of column values give what the
// VM gives, on the demo case's events.
func TestFastValuesAgree(t *testing.T) {
	var progs []*Program
	for _, src := range []string{"host", "lower(user)", " lower( src_ip ) ", "event_provider", "source", "command_line"} {
		p, err := CompileValue(nil, src)
		if err != nil {
			t.Fatal(err)
		}
		if p.fastCol == nil {
			t.Fatalf("%q: no fast path", src)
		}
		progs = append(progs, p)
	}
	for _, src := range []string{"upper(user)", "lower(user) + host", "event_id", "lower(field(\"User\"))"} {
		if p, err := CompileValue(nil, src); err != nil || p.fastCol != nil {
			t.Fatalf("%q: fast path or error %v", src, err)
		}
	}
	evs := demoEvents(t)
	for _, ev := range evs {
		for _, p := range progs {
			want, err := p.run(ev, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := p.Value(ev); got != want {
				t.Fatalf("%q on %s@%d: %q, the VM says %q", p.src, ev.Evidence, ev.Offset, got, want)
			}
			if got := string(p.appendFast([]byte("x"), ev)); got != "x"+want.(string) {
				t.Fatalf("%q on %s@%d: appends %q, the VM says %q", p.src, ev.Evidence, ev.Offset, got, want)
			}
		}
	}
	// Non-ASCII lower-cases as strings.ToLower does.
	for _, s := range []string{"ÄDMIN", "Kelvin \u212a", "İstanbul", "MiXeD", ""} {
		if got := string(appendLower([]byte("x"), s)); got != "x"+strings.ToLower(s) {
			t.Errorf("appendLower(%q) = %q", s, got)
		}
	}
}

// demoEvidence is the shipped demo case's evidence folder.
func demoEvidence(t *testing.T) string {
	return filepath.Join(testutil.RepoRoot(t), "testdata", "cases", "comtech", "evidence")
}

// demoEvents are the events of the shipped demo case.
func demoEvents(t *testing.T) []*event.Event {
	t.Helper()
	evs := teststore.Events(t, teststore.Ingest(t, nil, demoEvidence(t)))
	if len(evs) < 1000 {
		t.Fatalf("%d demo events", len(evs))
	}
	return evs
}
