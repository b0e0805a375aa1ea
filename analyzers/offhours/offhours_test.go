package offhours

import (
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/internal/evtest"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

func caseCfg(t *testing.T) *caseconf.Config {
	t.Helper()
	return evtest.Case(t, `
timezone: Europe/Berlin
business_hours: {days: [mon, tue, wed, thu, fri], start: "07:00", end: "19:00"}
holidays: ["2026-11-01"]
baseline: {from: "2026-10-01", to: "2026-10-31"}
providers:
  - name: ComTech
    accounts: ["CORP\\ct-*", "ct-*"]
    networks: ["10.250.0.0/24"]
    operators: ["ct-*"]
`)
}

func logon4624(t time.Time, host, user, ip string, lt int32) event.Event {
	ev := evtest.Sec(t, host, 4624, "TargetUserName", user, "TargetDomainName", "CORP", "IpAddress", ip)
	ev.User, ev.UserDomain, ev.SrcIP, ev.LogonType = user, "CORP", ip, event.Some(lt)
	return ev
}

// October: ct-mueller RDPs in weekdays around 10:00; svc-backup (not a
// provider) every night; ct-night works Tuesday nights at 22:00.
func baseline(cfg *caseconf.Config) []event.Event {
	var evs []event.Event
	for d := 0; d < 30; d++ {
		day := evtest.At(2026, 10, 1, 0, 0).AddDate(0, 0, d)
		evs = append(evs, logon4624(day.Add(22*time.Hour), "BACKUP01", "svc-backup", "", 5))
		if !cfg.Weekend(day) {
			evs = append(evs, logon4624(day.Add(10*time.Hour+time.Duration(d%40)*time.Minute), "FS01", "ct-mueller", "10.250.0.10", 10))
		}
		if day.Weekday() == time.Tuesday {
			evs = append(evs, logon4624(day.Add(22*time.Hour), "ERP01", "ct-night", "10.250.0.11", 10))
		}
	}
	return evs
}

func TestOffHoursProviderLogons(t *testing.T) {
	cfg := caseCfg(t)
	evs := baseline(cfg)
	sat := evtest.At(2026, 11, 14, 23, 10)
	// A burst: 4624 ×3 and a 1149, one session.
	for i := 0; i < 3; i++ {
		evs = append(evs, logon4624(sat.Add(time.Duration(i)*4*time.Minute), "DC01", "ct-mueller", "10.250.0.10", 10))
	}
	rdp := evtest.Evtx(sat.Add(-time.Second), "DC01", "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational", 1149, "Param1", "ct-mueller", "Param2", "CORP", "Param3", "10.250.0.10")
	evs = append(evs, rdp)
	// ct-night's usual Tuesday night: off hours, but its own pattern.
	evs = append(evs, logon4624(evtest.At(2026, 11, 10, 22, 15), "ERP01", "ct-night", "10.250.0.11", 10))
	// A usual weekday logon: nothing.
	evs = append(evs, logon4624(evtest.At(2026, 11, 11, 10, 20), "FS01", "ct-mueller", "10.250.0.10", 10))
	// Non-provider at night: not this analyzer's business.
	evs = append(evs, logon4624(evtest.At(2026, 11, 14, 3, 0), "PC-001", "mmeier", "10.10.1.5", 2))
	// Provider account logging on from an unknown address: still a
	// provider identity (the account pattern matches).
	fs := evtest.Run(New(cfg), evs)
	evtest.Golden(t, "provider_logons.golden.json", fs)
	var high, low []event.Finding
	for _, f := range fs {
		t.Logf("%s %s %s %s: %s | %s", f.Severity, f.RuleID, f.Host, f.User, f.Summary, f.Reason)
		if f.Time.Before(evtest.At(2026, 11, 1, 0, 0)) {
			// The baseline's own night sessions: in pattern, info.
			if f.Severity != event.SevInfo || f.User != "ct-night" {
				t.Errorf("baseline finding %s %s", f.Severity, f.User)
			}
			continue
		}
		switch f.Severity {
		case event.SevHigh:
			high = append(high, f)
		case event.SevInfo:
			low = append(low, f)
		default:
			t.Errorf("unexpected %s finding", f.Severity)
		}
	}
	if len(high) != 1 || len(low) != 1 {
		t.Fatalf("want one high (Saturday burst) and one info (ct-night), got %d findings", len(fs))
	}
	h := high[0]
	if h.Host != "DC01" || !strings.Contains(h.Summary, "4 logons") || !strings.Contains(h.Reason, "weekend") || !strings.Contains(h.Reason, "0 of the identity's 22 baseline sessions") {
		t.Errorf("high finding: %s | %s", h.Summary, h.Reason)
	}
	if n, _ := h.Details.Get("logons"); n != 4 {
		t.Errorf("logons %v, want 4", n)
	}
	if len(h.Refs) != maxBucketRefs { // four logons in one half-hour slot keep the first three
		t.Errorf("refs %d", len(h.Refs))
	}
	if low[0].User != "ct-night" || !strings.Contains(low[0].Title, "usual for this identity") {
		t.Errorf("low finding: %s %s", low[0].User, low[0].Title)
	}
}

func TestRMMSessionAndDST(t *testing.T) {
	cfg := caseCfg(t)
	var evs []event.Event
	for d := 0; d < 30; d++ {
		day := evtest.At(2026, 10, 1, 9, 30).AddDate(0, 0, d)
		if cfg.Weekend(day) {
			continue
		}
		id := "b" + day.Format("0102")
		evs = append(evs, evtest.RMM(day, "FS01", "session_start", id, "ct-weber", "10.250.0.12", ""), evtest.RMM(day.Add(10*time.Minute), "FS01", "session_end", id, "ct-weber", "10.250.0.12", ""))
	}
	// 2026-11-02 is a Monday after DST ended: 09:40 local is 08:40 UTC and
	// still the usual hour — the wall clock counts, not UTC.
	mon := evtest.At(2026, 11, 2, 9, 40)
	evs = append(evs, evtest.RMM(mon, "FS01", "session_start", "m", "ct-weber", "10.250.0.12", ""), evtest.RMM(mon.Add(5*time.Minute), "FS01", "session_end", "m", "ct-weber", "10.250.0.12", ""))
	// All Saints' Day (holiday, a Sunday here) at 03:00.
	hol := evtest.At(2026, 11, 1, 3, 0)
	evs = append(evs, evtest.RMM(hol, "DC01", "session_start", "x", "ct-weber", "203.0.113.91", ""), evtest.RMM(hol.Add(15*time.Minute), "DC01", "session_end", "x", "ct-weber", "203.0.113.91", ""))
	fs := evtest.Run(New(cfg), evs)
	if len(fs) != 1 {
		for _, f := range fs {
			t.Logf("%s %s %s", f.Severity, f.SessionID, f.Reason)
		}
		t.Fatalf("want only the holiday session, got %d", len(fs))
	}
	if fs[0].SessionID != "x" || fs[0].Severity != event.SevHigh || fs[0].RuleID != "offhours.provider_rmm_session" || !strings.Contains(fs[0].Title, "holiday") {
		t.Errorf("got %s %s %s %q", fs[0].SessionID, fs[0].Severity, fs[0].RuleID, fs[0].Title)
	}
}
