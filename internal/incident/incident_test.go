package incident

import (
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

func cfg(t *testing.T) *caseconf.Config {
	t.Helper()
	c, err := caseconf.Parse("case.yaml", []byte("timezone: Europe/Berlin\nproviders:\n  - name: ComTech\n    accounts: [\"ct-*\"]\n    operators: [\"ct-*\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var t0 = time.Date(2026, 11, 14, 22, 5, 0, 0, time.UTC)

func f(id, analyzer, sev, host, user, session string, at, dur time.Duration) event.Finding {
	return event.Finding{ID: id, Analyzer: analyzer, Severity: sev, Host: host, User: user, SessionID: session, Time: t0.Add(at), End: t0.Add(at + dur),
		Title: analyzer + " " + id, Summary: "summary of " + id, RuleID: analyzer + ".x"}
}

func TestCorrelate(t *testing.T) {
	fs := []event.Finding{
		f("F1", "rmmsessions", event.SevHigh, "DC01", "ct-weber", "S1", 0, 15*time.Minute),
		f("F2", "psrecon", event.SevHigh, "dc01.corp.example", `NT AUTHORITY\SYSTEM`, "S1", 2*time.Minute, 5*time.Minute),
		f("F3", "newadmin", event.SevCritical, "DC01", "svc-sqlmon", "", 20*time.Minute, time.Second),
		f("F4", "offhours", event.SevHigh, "DC01", "ct-admin-weber", "", 19*time.Minute, time.Minute),
		// Same host, a day later: another story.
		f("F5", "psrecon", event.SevMedium, "DC01", "itadmin", "", 24*time.Hour, time.Minute),
		// Another host, same time, no shared session: separate.
		f("F6", "outbound", event.SevLow, "FS01", "", "", time.Minute, time.Minute),
		// Info alone never makes an incident.
		f("F7", "coverage", event.SevInfo, "FS01", "", "", 0, 48*time.Hour),
	}
	incs := Correlate(cfg(t), fs)
	if len(incs) != 2 {
		for _, in := range incs {
			t.Logf("%+v", in)
		}
		t.Fatalf("want 2 incidents, got %d", len(incs))
	}
	a := incs[0]
	if strings.Join(a.Findings, ",") != "F1,F2,F4,F3" || a.Severity != event.SevCritical || a.SessionID != "S1" {
		t.Errorf("first incident: %+v", a)
	}
	if strings.Join(a.Hosts, ",") != "DC01" || !a.Start.Equal(t0) || !a.End.Equal(t0.Add(20*time.Minute+time.Second)) {
		t.Errorf("hosts/times: %v %v %v", a.Hosts, a.Start, a.End)
	}
	// The narrative reads session → commands → effects.
	n := a.Narrative
	si, ci, ei := strings.Index(n, "Session: "), strings.Index(n, "Commands: "), strings.Index(n, "Effects: ")
	if si < 0 || ci < si || ei < ci || !strings.Contains(n[si:ci], "rmmsessions F1") || !strings.Contains(n[ci:ei], "psrecon F2") || !strings.Contains(n[ei:], "newadmin F3") {
		t.Errorf("narrative %q", n)
	}
	for _, x := range fs[:4] {
		if x.IncidentID != a.ID {
			t.Errorf("%s incident %q, want %q", x.ID, x.IncidentID, a.ID)
		}
	}
	b := incs[1]
	if strings.Join(b.Findings, ",") != "F5" || b.Severity != event.SevMedium || !strings.Contains(b.Narrative, "no account change") {
		t.Errorf("second incident: %+v", b)
	}
	if fs[5].IncidentID != "" || fs[6].IncidentID != "" {
		t.Errorf("low/info findings on FS01 joined an incident: %q %q", fs[5].IncidentID, fs[6].IncidentID)
	}
	// Stable: the same findings give the same IDs.
	again := Correlate(cfg(t), append([]event.Finding(nil), fs...))
	if again[0].ID != a.ID || again[1].ID != b.ID {
		t.Errorf("IDs not stable")
	}
}

func TestDistinctUsersStayApart(t *testing.T) {
	fs := []event.Finding{
		f("A", "psrecon", event.SevMedium, "PC-1", "mmeier", "", 0, time.Minute),
		f("B", "psrecon", event.SevMedium, "PC-1", "kschulz", "", 5*time.Minute, time.Minute),
	}
	if incs := Correlate(cfg(t), fs); len(incs) != 2 {
		t.Errorf("two people on one PC joined: %+v", incs)
	}
}
