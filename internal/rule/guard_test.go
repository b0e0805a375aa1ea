package rule

import (
	"fmt"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
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
		{`(command_line != "" || script_text != "") && icontains(command_line, "x")`, `[{[] [[command_line]]} {[] [[script_text]]}]`},
		// Anything else says nothing: no guards.
		{`event_id != 4624`, `[]`},
		{`event_id == 4624 || icontains(command_line, "x")`, `[]`},
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

func setColumn(ev *event.Event, name, v string) error {
	for i := range event.Columns {
		if event.Columns[i].Name == name {
			return event.Columns[i].SetString(ev, v)
		}
	}
	return fmt.Errorf("no column %s", name)
}
