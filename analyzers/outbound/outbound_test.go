package outbound

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
baseline: {from: "2026-10-01", to: "2026-10-31"}
servers: ["FS*", "BACKUP*"]
allowlist:
  networks: ["13.107.0.0/16"]
iocs:
  ips: ["198.51.100.66"]
`)
}

func sysmon3(t time.Time, host, src, dst string, port string) event.Event {
	return evtest.Evtx(t, host, "Microsoft-Windows-Sysmon/Operational", 3, "Initiated", "true", "SourceIp", src, "DestinationIp", dst, "DestinationPort", port)
}

func TestOutbound(t *testing.T) {
	cfg := caseCfg(t)
	var evs []event.Event
	for d := 0; d < 45; d++ {
		day := evtest.At(2026, 10, 1, 0, 0).AddDate(0, 0, d)
		// Office traffic and the nightly backup to the same cloud.
		evs = append(evs, evtest.Flow(day.Add(10*time.Hour), "10.10.1.5", "52.1.1.1", 443, int64(40+d%20)<<20),
			evtest.Flow(day.Add(11*time.Hour), "10.10.0.20", "52.1.1.1", 443, int64(5+d%3)<<20),
			evtest.Flow(day.Add(time.Hour), "10.10.0.30", "192.0.2.120", 6180, int64(2000+50*(d%7))<<20),
			evtest.Flow(day.Add(12*time.Hour), "10.10.1.5", "13.107.4.50", 443, 900<<20)) // allow-listed
	}
	// The implant on FS01: a beacon every 300 s (±2 s) for six hours, seen
	// by Sysmon on the host and by the perimeter firewall.
	b0 := evtest.At(2026, 11, 12, 21, 0)
	for i := 0; i < 72; i++ {
		bt := b0.Add(time.Duration(i)*300*time.Second + time.Duration(i%3-1)*2*time.Second)
		evs = append(evs, sysmon3(bt, "FS01", "10.10.0.20", "203.0.113.77", "443"), evtest.Flow(bt, "10.10.0.20", "203.0.113.77", 443, 600))
	}
	// Sunday 04:10: three uploads of ~200 MB to a new address.
	x0 := evtest.At(2026, 11, 15, 4, 10)
	for i := 0; i < 3; i++ {
		evs = append(evs, evtest.Flow(x0.Add(time.Duration(i)*6*time.Minute), "10.10.0.20", "203.0.113.145", 443, 200<<20))
	}
	// A blocked try to an IOC address and a server on an odd port.
	ioc := evtest.Flow(evtest.At(2026, 11, 13, 3, 0), "10.10.1.5", "198.51.100.66", 443, 0)
	ioc.Action = "deny"
	evs = append(evs, ioc, evtest.Flow(evtest.At(2026, 11, 13, 14, 0), "10.10.0.30", "198.51.100.9", 4444, 1<<10))

	// The backup server's own log names its address.
	evs = append(evs, evtest.Evtx(evtest.At(2026, 10, 2, 1, 0), "BACKUP01", "Security", 5156, "Direction", "%%14593", "SourceAddress", "10.10.0.30", "DestAddress", "13.107.4.50", "DestPort", "443"))
	fs := evtest.Run(New(cfg), evs)
	evtest.Golden(t, "outbound.golden.json", fs)
	byRule := map[string][]event.Finding{}
	for _, f := range fs {
		t.Logf("%s %s %s: %s | %s", f.Severity, f.RuleID, f.Host, f.Summary, f.Reason)
		byRule[f.RuleID] = append(byRule[f.RuleID], f)
	}
	check := func(rule, host, sev string, n int) []event.Finding {
		t.Helper()
		var got []event.Finding
		for _, f := range byRule[rule] {
			if f.Host == host {
				got = append(got, f)
			}
		}
		if len(got) != n {
			t.Errorf("%s on %s: %d findings, want %d", rule, host, len(got), n)
			return got
		}
		for _, f := range got {
			if f.Severity != sev {
				t.Errorf("%s on %s: %s, want %s", rule, host, f.Severity, sev)
			}
		}
		return got
	}
	// Both views of the beacon, the firewall's named after the host.
	beacons := check("outbound.beacon", "FS01", event.SevHigh, 2)
	for _, b := range beacons {
		if !b.End.After(b0.Add(5 * time.Hour)) {
			t.Errorf("beacon ends %v, want the whole six hours", b.End)
		}
	}
	check("outbound.offhours_bulk", "FS01", event.SevHigh, 1)
	vol := check("outbound.volume", "FS01", event.SevHigh, 1)
	if len(vol) == 1 && !strings.Contains(vol[0].Reason, "baseline median 6.0 MB/day") {
		t.Errorf("volume reason %q", vol[0].Reason)
	}
	check("outbound.ioc", "10.10.1.5", event.SevMedium, 1)
	check("outbound.server_port", "BACKUP01", event.SevLow, 1)
	// The nightly backup is a known bulk target: info, never more.
	for _, f := range fs {
		if strings.Contains(f.Summary, "192.0.2.120") && event.Rank(f.Severity) > event.Rank(event.SevInfo) {
			t.Errorf("backup flagged %s: %s", f.Severity, f.Summary)
		}
		if strings.Contains(f.Summary, "13.107.4.50") {
			t.Errorf("allow-listed destination reported: %s", f.Summary)
		}
	}
}
