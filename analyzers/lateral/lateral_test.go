package lateral

import (
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/internal/evtest"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

func cfg(t *testing.T) *caseconf.Config {
	t.Helper()
	return evtest.Case(t, `
timezone: Europe/Berlin
business_hours: {days: [mon, tue, wed, thu, fri], start: "07:00", end: "19:00"}
internal_networks: ["10.10.0.0/16"]
baseline: {from: "2026-10-01T00:00:00+02:00", to: "2026-11-01T00:00:00+01:00"}
`)
}

func rdp(t time.Time, host, user, src string) []event.Event {
	l := evtest.Sec(t, host, 4624, "TargetUserName", user, "TargetDomainName", "CORP", "LogonType", "10", "IpAddress", src)
	l.LogonType, l.User, l.SrcIP = 10, user, src
	r := evtest.Evtx(t.Add(-2*time.Second), host, "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational", 1149, "Param1", user, "Param2", "CORP", "Param3", src)
	s := evtest.Evtx(t.Add(2*time.Second), host, "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", 21, "User", `CORP\`+user, "SessionID", "2", "Address", src)
	return []event.Event{r, l, s}
}

// The admin's daily RDP from her PC is the baseline; afterwards the same
// is nothing, a new server is low, RDP from the loopback address (a
// tunnel) is high in office hours, and an unknown account from the
// internet at night is high.
func TestRDPAgainstOwnBaseline(t *testing.T) {
	var evs []event.Event
	d0 := evtest.At(2026, 10, 5, 10, 0)
	for d := 0; d < 40; d++ {
		day := d0.AddDate(0, 0, d)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		evs = append(evs, rdp(day, "DC01", "k.admin", "10.10.1.5")...)
	}
	wed := evtest.At(2026, 11, 11, 10, 30)
	evs = append(evs, rdp(wed.Add(time.Hour), "FS01", "k.admin", "10.10.1.5")...)
	evs = append(evs, rdp(wed.Add(2*time.Hour), "FS01", "k.admin", "127.0.0.1")...)
	evs = append(evs, rdp(evtest.At(2026, 11, 14, 3, 10), "FS01", "support", "203.0.113.50")...)
	fs := evtest.Run(New(cfg(t)), evs)
	bySrc := map[string]event.Finding{}
	for _, f := range fs {
		t.Logf("%s %s %s: %s | %s", f.Severity, f.RuleID, f.Host, f.Summary, f.Reason)
		if s, _ := f.Details.Get("source"); s != nil {
			bySrc[f.Host+" "+s.(string)] = f
		}
		if f.Host == "DC01" {
			t.Errorf("routine RDP flagged: %s %s", f.Severity, f.Summary)
		}
	}
	if f := bySrc["FS01 10.10.1.5"]; f.Severity != event.SevLow || !strings.Contains(f.Reason, "first RDP logon of this identity to FS01") {
		t.Errorf("new host: %s %s", f.Severity, f.Reason)
	}
	if f := bySrc["FS01 127.0.0.1"]; f.Severity != event.SevHigh || f.RuleID != "lateral.rdp_tunnel" || len(f.Refs) != 3 {
		t.Errorf("loopback: %s %s refs %d", f.Severity, f.RuleID, len(f.Refs))
	}
	if f := bySrc["FS01 203.0.113.50"]; f.Severity != event.SevHigh || !strings.Contains(f.Reason, "internet address") {
		t.Errorf("internet: %s %s", f.Severity, f.Reason)
	}
}
