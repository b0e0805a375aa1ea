package sigma

import (
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
)

const baseLogonRules = `title: Failed logon
id: 00000000-0000-0000-0000-00000000f001
name: failed_login
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: Successful logon
id: 00000000-0000-0000-0000-00000000f002
name: successful_login
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4624
  condition: sel
`

var t0 = time.Date(2026, 3, 29, 0, 58, 0, 0, time.UTC) // across the CET→CEST switch: times are UTC anyway

// logon builds a Security logon event at t0+offset.
func logon(id int32, offset time.Duration, user, ip string) *event.Event {
	e := ev("TargetUserName", user, "IpAddress", ip)
	e.Channel, e.EventID, e.Time, e.Host, e.User = "Security", id, t0.Add(offset), "dc01", user
	e.Evidence, e.Offset = "Security.evtx", int64(offset/time.Second)
	return e
}

// corrRule compiles the base rules plus one correlation and returns it.
func corrRule(t *testing.T, corr string) *rule.Rule {
	t.Helper()
	rules, errs := Compile([]Doc{{File: "base.yml", Data: []byte(baseLogonRules)}, {File: "corr.yml", Data: []byte(corr)}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, r := range rules {
		if r.File == "corr.yml" && r.Kind == rule.KindCorrelation {
			return r
		}
	}
	t.Fatal("no correlation rule")
	return nil
}

// run feeds events in order to a fresh state and returns the findings.
func run(r *rule.Rule, evs ...*event.Event) []event.Finding {
	var out []event.Finding
	emit := func(f event.Finding) { out = append(out, f) }
	st := r.State()
	for _, e := range evs {
		if r.Filter.Pass(e) {
			st.Observe(e, emit)
		}
	}
	st.Flush(emit)
	return out
}

const eventCount = `title: Brute force
id: c0000000-0000-0000-0000-000000000001
level: high
tags: [attack.t1110]
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [TargetUserName]
  timespan: 5m
  condition:
    gte: 3
`

func TestEventCountSliding(t *testing.T) {
	r := corrRule(t, eventCount)
	if r.Severity != "high" || r.Match != nil || r.Stateful == nil || r.NewState == nil {
		t.Fatalf("rule shape: %+v", r)
	}
	if len(r.Filter.Channels) != 1 || r.Filter.Channels[0] != "Security" {
		t.Errorf("filter %+v", r.Filter)
	}
	m := time.Minute
	cases := []struct {
		name string
		evs  []*event.Event
		want int
	}{
		{"three within span", []*event.Event{logon(4625, 0, "bob", ""), logon(4625, 2*m, "bob", ""), logon(4625, 4*m, "bob", "")}, 1},
		{"spread too far", []*event.Event{logon(4625, 0, "bob", ""), logon(4625, 3*m, "bob", ""), logon(4625, 6*m, "bob", ""), logon(4625, 9*m, "bob", "")}, 0},
		// 4m, 6m, 8m straddle the 5m boundary of a fixed window; the
		// sliding window still sees them together.
		{"across window boundary", []*event.Event{logon(4625, 4*m, "bob", ""), logon(4625, 6*m, "bob", ""), logon(4625, 8*m, "bob", "")}, 1},
		{"span is inclusive", []*event.Event{logon(4625, 0, "bob", ""), logon(4625, m, "bob", ""), logon(4625, 5*m, "bob", "")}, 1},
		{"just outside", []*event.Event{logon(4625, 0, "bob", ""), logon(4625, m, "bob", ""), logon(4625, 5*m+time.Second, "bob", "")}, 0},
		{"groups separate", []*event.Event{logon(4625, 0, "bob", ""), logon(4625, m, "alice", ""), logon(4625, 2*m, "bob", "")}, 0},
		{"other rule not counted", []*event.Event{logon(4625, 0, "bob", ""), logon(4624, m, "bob", ""), logon(4625, 2*m, "bob", "")}, 0},
		{"resets after firing", []*event.Event{logon(4625, 0, "bob", ""), logon(4625, 10, "bob", ""), logon(4625, 20, "bob", ""), logon(4625, 30, "bob", ""), logon(4625, 40, "bob", ""), logon(4625, 50, "bob", "")}, 2},
	}
	for _, c := range cases {
		if got := run(r, c.evs...); len(got) != c.want {
			t.Errorf("%s: %d findings, want %d", c.name, len(got), c.want)
		}
	}
	fs := run(r, logon(4625, 0, "bob", ""), logon(4625, 2*m, "bob", ""), logon(4625, 4*m, "bob", ""))
	f := fs[0]
	if f.RuleID != "c0000000-0000-0000-0000-000000000001" || f.Severity != "high" || f.User != "bob" || f.Host != "dc01" ||
		!f.Time.Equal(t0) || !f.End.Equal(t0.Add(4*m)) || len(f.Refs) != 3 || f.Tags[0] != "attack.t1110" {
		t.Errorf("finding %+v", f)
	}
	if !strings.Contains(f.Summary, "3 events within 5m0s (TargetUserName=bob)") {
		t.Errorf("summary %q", f.Summary)
	}
	again := run(r, logon(4625, 0, "bob", ""), logon(4625, 2*m, "bob", ""), logon(4625, 4*m, "bob", ""))
	if again[0].ID != f.ID || f.ID == "" {
		t.Errorf("finding id not stable: %q vs %q", f.ID, again[0].ID)
	}
}

func TestEventCountUpperBound(t *testing.T) {
	// "Exactly 1 or 2 failed logons in 10 minutes": only decidable when
	// the window closes (a later event or the end of the events).
	r := corrRule(t, `title: Few
id: few
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [TargetUserName]
  timespan: 10m
  condition: {gte: 1, lte: 2}
`)
	m := time.Minute
	got := run(r, logon(4625, 0, "bob", ""), logon(4625, m, "bob", ""), logon(4625, 2*m, "bob", ""), // 3: no
		logon(4625, 20*m, "bob", ""), // new window, 1: yes at flush
		logon(4625, 0, "eve", ""))
	if len(got) != 2 {
		t.Fatalf("%d findings, want 2: %+v", len(got), got)
	}
	if got[0].User != "bob" || !got[0].Time.Equal(t0.Add(20*m)) {
		t.Errorf("first finding %+v", got[0])
	}
}

func TestValueCount(t *testing.T) {
	r := corrRule(t, `title: Password spray
id: spray
correlation:
  type: value_count
  rules: [failed_login]
  group-by: [IpAddress]
  timespan: 10m
  condition:
    field: TargetUserName
    gte: 3
`)
	m := time.Minute
	if got := run(r, logon(4625, 0, "a", "10.0.0.9"), logon(4625, m, "a", "10.0.0.9"), logon(4625, 2*m, "b", "10.0.0.9"), logon(4625, 3*m, "b", "10.0.0.9")); len(got) != 0 {
		t.Errorf("repeated values counted: %d findings", len(got))
	}
	got := run(r, logon(4625, 0, "a", "10.0.0.9"), logon(4625, m, "b", "10.0.0.7"), logon(4625, 2*m, "b", "10.0.0.9"), logon(4625, 9*m, "c", "10.0.0.9"))
	if len(got) != 1 || !strings.Contains(got[0].Summary, "3 distinct TargetUserName values") || !strings.Contains(got[0].Summary, "IpAddress=10.0.0.9") {
		t.Fatalf("got %+v", got)
	}
	if got := run(r, logon(4625, 0, "a", "10.0.0.9"), logon(4625, 2*m, "b", "10.0.0.9"), logon(4625, 11*m, "c", "10.0.0.9")); len(got) != 0 {
		t.Errorf("value outside the window counted")
	}
}

func TestTemporal(t *testing.T) {
	r := corrRule(t, `title: Both
id: both
correlation:
  type: temporal
  rules: [failed_login, successful_login]
  group-by: [TargetUserName]
  timespan: 5m
`)
	m := time.Minute
	if got := run(r, logon(4624, 0, "bob", ""), logon(4625, 4*m, "bob", "")); len(got) != 1 {
		t.Errorf("any order: %d findings", len(got))
	}
	if got := run(r, logon(4625, 0, "bob", ""), logon(4625, 4*m, "bob", "")); len(got) != 0 {
		t.Errorf("one rule twice counted as both")
	}
	if got := run(r, logon(4625, 0, "bob", ""), logon(4624, 6*m, "bob", "")); len(got) != 0 {
		t.Errorf("outside span fired")
	}
	if got := run(r, logon(4625, 0, "bob", ""), logon(4624, m, "alice", "")); len(got) != 0 {
		t.Errorf("different groups fired")
	}
}

func TestTemporalOrdered(t *testing.T) {
	r := corrRule(t, `title: Fail then success
id: ordered
correlation:
  type: temporal_ordered
  rules: [failed_login, successful_login]
  group-by: [TargetUserName]
  timespan: 5m
`)
	m := time.Minute
	if got := run(r, logon(4625, 0, "bob", ""), logon(4624, 4*m, "bob", "")); len(got) != 1 {
		t.Errorf("in order: %d findings", len(got))
	}
	if got := run(r, logon(4624, 0, "bob", ""), logon(4625, 4*m, "bob", "")); len(got) != 0 {
		t.Errorf("reverse order fired")
	}
	if got := run(r, logon(4624, 0, "bob", ""), logon(4625, m, "bob", ""), logon(4624, 2*m, "bob", "")); len(got) != 1 {
		t.Errorf("success, fail, success: %d findings", len(got))
	}
	if got := run(r, logon(4625, 0, "bob", ""), logon(4624, 5*m+time.Second, "bob", "")); len(got) != 0 {
		t.Errorf("outside span fired")
	}
}

// TestChainedCorrelation is the specification's example: many failed
// logons (an event_count correlation) followed by a successful one.
func TestChainedCorrelation(t *testing.T) {
	r := corrRule(t, `title: Brute force then success
id: chain
level: critical
correlation:
  type: temporal_ordered
  rules: [multiple_failed_login, successful_login]
  group-by: [TargetUserName]
  timespan: 10m
---
title: Multiple failed logons
id: multi
name: multiple_failed_login
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [TargetUserName]
  timespan: 10m
  condition: {gte: 3}
`)
	m := time.Minute
	if r.ID != "chain" {
		// corrRule returns the first correlation of corr.yml.
		t.Fatalf("got %s", r.ID)
	}
	ok := run(r, logon(4625, 0, "bob", ""), logon(4625, m, "bob", ""), logon(4625, 2*m, "bob", ""), logon(4624, 3*m, "bob", ""))
	if len(ok) != 1 || ok[0].Severity != "critical" {
		t.Fatalf("chain: %+v", ok)
	}
	if got := run(r, logon(4625, 0, "bob", ""), logon(4625, m, "bob", ""), logon(4624, 3*m, "bob", "")); len(got) != 0 {
		t.Errorf("two failures were enough: %d", len(got))
	}
}

func TestAliases(t *testing.T) {
	// Failed logon for TargetUserName X, then a success where the same
	// name is in a different field.
	r := corrRule(t, `title: Aliased
id: aliased
correlation:
  type: temporal
  rules: [failed_login, successful_login]
  group-by: [who]
  timespan: 5m
  aliases:
    who:
      failed_login: TargetUserName
      successful_login: IpAddress
`)
	if got := run(r, logon(4625, 0, "bob", ""), logon(4624, time.Minute, "x", "bob")); len(got) != 1 {
		t.Errorf("aliases: %d findings", len(got))
	}
}

func TestCorrelationStateIsFresh(t *testing.T) {
	r := corrRule(t, eventCount)
	m := time.Minute
	run(r, logon(4625, 0, "bob", ""), logon(4625, m, "bob", ""))
	if got := run(r, logon(4625, 2*m, "bob", "")); len(got) != 0 {
		t.Error("state leaked between runs")
	}
}

func TestCorrelationErrors(t *testing.T) {
	for name, c := range map[string]struct{ src, want string }{
		"unknown rule": {"title: x\nid: x\ncorrelation:\n  type: event_count\n  rules: [nope]\n  timespan: 5m\n  condition: {gte: 2}\n", `unknown rule "nope"`},
		"bad timespan": {"title: x\nid: x\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  timespan: 5 minutes\n  condition: {gte: 2}\n", "timespan"},
		"no condition": {"title: x\nid: x\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  timespan: 5m\n", "needs a condition"},
		"bad type":     {"title: x\nid: x\ncorrelation:\n  type: sequence\n  rules: [failed_login]\n  timespan: 5m\n", `unsupported correlation type "sequence"`},
		"no field":     {"title: x\nid: x\ncorrelation:\n  type: value_count\n  rules: [failed_login]\n  timespan: 5m\n  condition: {gte: 2}\n", "condition.field"},
	} {
		_, errs := Compile([]Doc{{File: "base.yml", Data: []byte(baseLogonRules)}, {File: "c.yml", Data: []byte(c.src)}})
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want) || !strings.Contains(errs[0].Error(), "c.yml:") {
			t.Errorf("%s: got %v, want %q", name, errs, c.want)
		}
	}
}

// TestGenerate: rules a correlation refers to report on their own only
// with generate: true (Sigma v2's default is false).
func TestGenerate(t *testing.T) {
	base := `title: Failed logon
id: 11111111-0000-0000-0000-000000000001
name: failed
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4625}, condition: selection}
---
title: Many failed logons
id: 11111111-0000-0000-0000-000000000002
correlation:
  type: event_count
  rules: [failed]
  group-by: [TargetUserName]
  timespan: 10m
  condition: {gte: 3}
`
	for _, tc := range []struct {
		extra  string
		silent bool
	}{{"", true}, {"  generate: false\n", true}, {"  generate: true\n", false}} {
		rules, errs := Compile([]Doc{{File: "g.yml", Data: []byte(base + tc.extra)}})
		if len(errs) > 0 || len(rules) != 2 {
			t.Fatalf("%q: %d rules, %v", tc.extra, len(rules), errs)
		}
		for _, r := range rules {
			want := tc.silent && r.Kind == "sigma"
			if r.NoFindings != want {
				t.Errorf("%q: rule %s (%s) NoFindings=%v, want %v", tc.extra, r.ID, r.Kind, r.NoFindings, want)
			}
		}
	}
}
