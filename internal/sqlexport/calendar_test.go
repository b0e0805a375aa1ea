package sqlexport

import (
	"fmt"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule/ruleset"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// TestDuckDBCalendarAndProviders puts logons at the edges the case-file
// helpers care about — either side of business hours in winter and in
// summer time, a holiday, the night the clocks go back, the end of the day
// (exclusive) — by provider accounts (DOMAIN\name, name@domain, bare),
// provider networks and others, and requires the exported built-in rules
// to match on DuckDB exactly where the hunt does. The scenarios all fall
// in one season; this covers DST.
func TestDuckDBCalendarAndProviders(t *testing.T) {
	testutil.DuckDB(t, "SELECT 1")
	cfg, err := caseconf.Parse("case.yaml", []byte(`timezone: Europe/Berlin
business_hours: {days: [mon, tue, wed, thu, fri], start: "08:00", end: "18:00"}
holidays: ["2024-10-03"]
providers:
  - name: MSP
    accounts: ['MSP\*', "msp-*", "*@msp.example"]
    networks: [10.99.0.0/24, 198.51.100.7/32]
    operators: ["tech-?"]
privileged_groups: [Administrators]
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := st.NewEventWriter("part-calendar")
	times := []string{
		"2024-01-09T06:59:00Z", "2024-01-09T07:00:00Z", "2024-01-09T16:59:00Z", "2024-01-09T17:00:00Z", // Tue, CET
		"2024-07-02T05:30:00Z", "2024-07-02T06:30:00Z", "2024-07-02T15:59:00Z", "2024-07-02T16:00:00Z", // Tue, CEST
		"2024-10-03T10:00:00Z",                         // holiday
		"2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z", // Sunday, the clocks go back
		"2024-10-28T06:59:00Z", "2024-10-28T07:00:00Z", // Monday after
		"2024-03-29T23:30:00Z", "2024-04-01T06:30:00Z", // Sat 00:30 CET, Mon 08:30 CEST
	}
	users := []struct{ user, subject, ip string }{
		{`MSP\alice`, "", "192.0.2.1"}, {"msp-bob", "", ""}, {"carol@msp.example", "", ""}, {"dave", "", "10.99.0.42"},
		{"erin", "", "198.51.100.7"}, {"frank", "", "198.51.100.8"}, {"grace", `MSP\x`, ""}, {`CORP\msp-hank`, "", "10.99.1.1"},
	}
	off := int64(0)
	for _, ts := range times {
		tm, _ := time.Parse(time.RFC3339, ts)
		for _, u := range users {
			for _, id := range []int32{4624, 4648, 4724} {
				off++
				ev := &event.Event{Time: tm, Source: event.SourceEVTX, Format: "evtx", Host: "WS1", Channel: "Security", EventID: id,
					RecordID: off, User: u.user, SubjectUser: u.subject, LogonType: event.Some[int32](10), SrcIP: u.ip, Evidence: "calendar.evtx", Offset: off}
				ev.Fields = mustFields(t, fmt.Sprintf(`{"SubjectUserName":%q,"TargetUserName":"Administrator"}`, u.subject))
				if err := w.Write(ev); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	rules, errs := ruleset.LoadWith(cfg, ruleset.Options{Builtin: true})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ex := Compile(DuckDB, cfg, rules, nil)
	exported := map[string]bool{}
	for _, r := range ex.Rules {
		exported[r.ID] = true
	}
	for _, id := range []string{"provider-logon-off-hours", "account-enabled-or-reset-by-provider-or-off-hours"} {
		if !exported[id] {
			t.Fatalf("%s not exported", id)
		}
	}
	hunted := huntMatches(t, st, cfg, rules, exported)
	got := sqlMatches(t, ex, dir)
	differ(t, "calendar", hunted, got)
	n := 0
	for m := range hunted {
		if m.rule == "provider-logon-off-hours" {
			n++
		}
	}
	if n == 0 || n == len(times)*len(users)*2 {
		t.Fatalf("provider-logon-off-hours matched %d of %d logons: the edges do not separate anything", n, len(times)*len(users)*2)
	}
}

func mustFields(t *testing.T, js string) *ordereddict.Dict {
	t.Helper()
	d, err := event.UnmarshalFields([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
