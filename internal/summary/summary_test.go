package summary

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

func writeStore(t *testing.T, evs []event.Event) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := st.NewEventWriter("part-1")
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return st
}

func caseWithProvider(t *testing.T) *caseconf.Config {
	t.Helper()
	cfg, err := caseconf.Parse("case.yaml", []byte(`
name: test
timezone: Europe/Berlin
providers:
  - name: MSP
    accounts: ["msp-*"]
    networks: ["10.250.0.0/24"]
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestLogonsGroupsAndMarksProviders(t *testing.T) {
	t0 := time.Date(2026, 11, 14, 22, 0, 0, 0, time.UTC)
	logon := func(id int32, user, dom, sid, host string, lt int32, src string, dt time.Duration) event.Event {
		return event.Event{Time: t0.Add(dt), Source: "evtx", Format: "evtx", Channel: "Security", EventID: id, User: user, UserDomain: dom,
			UserSID: sid, Host: host, LogonType: event.Some[int32](lt), SrcIP: src, Evidence: "e/Security.evtx", Offset: int64(dt)}
	}
	st := writeStore(t, []event.Event{
		logon(4624, "msp-admin", "CORP", "S-1-5-21-1-1001", "DC01", 10, "10.250.0.12", 0),
		logon(4624, "MSP-ADMIN", "corp", "S-1-5-21-1-1001", "dc01", 10, "10.250.0.12", time.Hour),
		logon(4625, "msp-admin", "CORP", "S-1-5-21-1-1001", "DC01", 10, "10.250.0.12", -time.Hour),
		logon(4624, "alice", "CORP", "S-1-5-21-1-1002", "PC-1", 3, "10.250.0.7", 0), // a provider by its address
		logon(4624, "bob", "CORP", "S-1-5-21-1-1003", "PC-1", 3, "-", 0),
		logon(4624, "SYSTEM", "NT AUTHORITY", "S-1-5-18", "PC-1", 5, "-", 0),
		logon(4624, "DWM-1", "Window Manager", "S-1-5-90-0-1", "PC-1", 2, "-", 0),
		logon(4634, "bob", "CORP", "S-1-5-21-1-1003", "PC-1", 3, "", 0), // a logoff: not a logon
		{Time: t0, Source: "evtx", Format: "evtx", Channel: "System", EventID: 4624, User: "x", Evidence: "e/System.evtx"},
	})
	cfg := caseWithProvider(t)
	rows, err := Logons(context.Background(), st, cfg, LogonOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join([]string{r.Account, r.Host, LogonTypeName(r.LogonType), r.Source, itoa(r.Success), itoa(r.Failure), r.Provider}, "|"))
	}
	want := []string{
		`CORP\alice|PC-1|network|10.250.0.7|1|0|MSP`,
		`CORP\bob|PC-1|network||1|0|`,
		`CORP\msp-admin|DC01|remote-interactive|10.250.0.12|2|1|MSP`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rows[2].First != t0.Add(-time.Hour) || rows[2].Last != t0.Add(time.Hour) {
		t.Errorf("first/last %v %v", rows[2].First, rows[2].Last)
	}
	rows, _ = Logons(context.Background(), st, cfg, LogonOptions{System: true, Failures: false}, nil)
	if len(rows) != 5 {
		t.Errorf("with --system: %d rows, want 5", len(rows))
	}
	rows, _ = Logons(context.Background(), st, cfg, LogonOptions{Failures: true}, nil)
	if len(rows) != 1 || rows[0].Failure != 1 {
		t.Errorf("--failures: %+v", rows)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestLogonsOnRealSamples: over the shared real EVTX samples the summary
// accounts for every Security 4624 and 4625 exactly once.
func TestLogonsOnRealSamples(t *testing.T) {
	dir := testutil.Shared(t, "samples/evtx")
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), ingest.Options{Store: st, Paths: []string{dir}}); err != nil {
		t.Fatal(err)
	}
	var ok, bad int64
	err = st.Scan(context.Background(), store.ScanOptions{Columns: []string{"channel"}}, func(ev *event.Event) error {
		if ev.Source == "evtx" && strings.EqualFold(ev.Channel, "Security") {
			switch ev.EventID {
			case 4624:
				ok++
			case 4625:
				bad++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok == 0 || bad == 0 {
		t.Fatalf("samples hold %d logons and %d failures; the test needs both", ok, bad)
	}
	rows, err := Logons(context.Background(), st, caseconf.Default(), LogonOptions{System: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var gotOK, gotBad int64
	for _, r := range rows {
		gotOK += r.Success
		gotBad += r.Failure
		if r.First.After(r.Last) {
			t.Errorf("%+v: first after last", r)
		}
	}
	if gotOK != ok || gotBad != bad {
		t.Fatalf("summary counts %d/%d, store holds %d/%d", gotOK, gotBad, ok, bad)
	}
	m, err := CollectMetrics(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Total != st.Manifest().TotalRecords() {
		t.Fatalf("metrics total %d, manifest %d", m.Total, st.Manifest().TotalRecords())
	}
}

func TestMetricsTables(t *testing.T) {
	t0 := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
	st := writeStore(t, []event.Event{
		{Time: t0, Source: "evtx", Format: "evtx", Host: "DC01", Channel: "Security", Provider: "Microsoft-Windows-Security-Auditing", EventID: 4624, Evidence: "a/Security.evtx"},
		{Time: t0.Add(time.Hour), Source: "evtx", Format: "evtx", Host: "DC01", Channel: "Security", Provider: "Microsoft-Windows-Security-Auditing", EventID: 4624, Evidence: "a/Security.evtx"},
		{Time: t0.Add(2 * time.Hour), Source: "evtx", Format: "evtx", Host: "DC01", Channel: "Security", Provider: "Microsoft-Windows-Security-Auditing", EventID: 4688, Evidence: "a/Security.evtx"},
		{Time: t0.Add(-time.Hour), Source: "firewall", Format: "fortigate", Evidence: "fw/fortigate.log"},
	})
	m, err := CollectMetrics(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Total != 4 || !m.First.Equal(t0.Add(-time.Hour)) || !m.Last.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("total %d %v %v", m.Total, m.First, m.Last)
	}
	top := m.ByEventID[0]
	if strings.Join(top.Key, "|") != "evtx|Security|Microsoft-Windows-Security-Auditing|4624" || top.Events != 2 || !top.Last.Equal(t0.Add(time.Hour)) {
		t.Fatalf("top event id %+v", top)
	}
	if len(m.ByChannel) != 2 || strings.Join(m.ByChannel[1].Key, "|") != "firewall|fortigate" {
		t.Fatalf("channels %+v", m.ByChannel)
	}
	if len(m.ByHost) != 2 || m.ByHost[0].Key[0] != "DC01" || m.ByHost[1].Key[0] != "" {
		t.Fatalf("hosts %+v", m.ByHost)
	}
	if len(m.ByEvidence) != 2 || m.ByEvidence[0].Events != 3 {
		t.Fatalf("evidence %+v", m.ByEvidence)
	}
}
