package caseconf

import (
	"strings"
	"sync"
	"testing"
	"time"
)

const sample = `
name: test
timezone: Europe/Berlin
business_hours: {days: [mon, tue, wed, thu, fri], start: "07:00", end: "19:00"}
holidays: ["2026-11-01", "2026-10-03"]
window: {from: "2026-10-17", to: "2026-11-16"}
providers:
  - name: ComTech
    accounts: ['CORP\ct-*', "*@comtech.example"]
    networks: [10.250.0.0/24, 203.0.113.66]
    operators: ["ct-*"]
source_timezones: {anydesk-trace: Europe/Berlin}
`

func load(t *testing.T) *Config {
	t.Helper()
	c, err := Parse("case.yaml", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBusinessHoursFollowTheWallClockAcrossDST(t *testing.T) {
	c := load(t)
	// 06:30 UTC is 08:30 in summer (CEST, in hours) and 07:30 in winter
	// (CET, still in hours); 05:30 UTC is 07:30 CEST but 06:30 CET.
	cases := []struct {
		utc  string
		want bool
	}{
		{"2026-10-23T05:30:00Z", true},  // Fri 07:30 CEST
		{"2026-10-30T05:30:00Z", false}, // Fri 06:30 CET, after the change on 25 Oct
		{"2026-10-30T17:59:00Z", true},  // Fri 18:59 CET
		{"2026-10-30T18:00:00Z", false}, // Fri 19:00 CET
		{"2026-10-31T10:00:00Z", false}, // Saturday
		{"2026-10-02T10:00:00Z", true},  // Fri before a holiday
		{"2026-10-03T10:00:00Z", false}, // holiday (a Saturday anyway)
	}
	for _, tc := range cases {
		tm, _ := time.Parse(time.RFC3339, tc.utc)
		if got := c.InBusinessHours(tm); got != tc.want {
			t.Errorf("%s (%s): InBusinessHours=%v, want %v", tc.utc, tm.In(c.Location()), got, tc.want)
		}
	}
	sun, _ := time.Parse(time.RFC3339, "2026-11-01T10:00:00Z")
	if !c.Holiday(sun) || !c.Weekend(sun) {
		t.Error("1 Nov 2026 is a Sunday and a holiday")
	}
}

func TestProvidersAndNetworks(t *testing.T) {
	c := load(t)
	for _, u := range []string{`CORP\ct-admin-weber`, `corp\CT-ADMIN-MUELLER`, "tech@comtech.example"} {
		if p, ok := c.Provider(u); !ok || p.Name != "ComTech" {
			t.Errorf("%s: not a provider account", u)
		}
	}
	for _, u := range []string{`CORP\k.wagner`, "ct-admin-weber", ""} {
		if _, ok := c.Provider(u); ok {
			t.Errorf("%q taken for a provider account", u)
		}
	}
	if _, ok := c.ProviderOperator("ct-weber"); !ok {
		t.Error("operator pattern")
	}
	if _, ok := c.ProviderIP("10.250.0.9"); !ok {
		t.Error("VPN subnet")
	}
	if _, ok := c.ProviderIP("203.0.113.66"); !ok {
		t.Error("single address")
	}
	if _, ok := c.ProviderIP("203.0.113.67"); ok {
		t.Error("neighbour address")
	}
	if !c.Internal("192.168.1.5") || c.Internal("8.8.8.8") || !c.External("8.8.8.8") || c.External("not-an-ip") {
		t.Error("default internal networks")
	}
	if !c.Privileged(`CORP\Domain Admins`) || !c.Privileged("S-1-5-32-544") || !c.Privileged("S-1-5-21-1-2-3-512") || c.Privileged("Users") {
		t.Error("privileged groups")
	}
	if c.SourceLocation("anydesk-trace", "rmm").String() != "Europe/Berlin" || c.SourceLocation("pfirewall", "firewall") != time.UTC {
		t.Error("per-source zones")
	}
	from, to := c.Window.Bounds()
	if !from.Equal(time.Date(2026, 10, 16, 22, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 11, 16, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("window %v – %v (dates are whole days in the case zone)", from, to)
	}
}

func TestDefaultsAndErrors(t *testing.T) {
	d := Default()
	if d.Location() != time.UTC || len(d.PrivilegedGroups) == 0 {
		t.Fatal("defaults")
	}
	_, err := Parse("c.yaml", []byte("timezone: UTC\nprovider:\n  - name: x\n"))
	if err == nil || !strings.Contains(err.Error(), `c.yaml:2:1: unknown key "provider"`) {
		t.Fatalf("unknown key: %v", err)
	}
	for _, bad := range []string{"timezone: Mars/Base", "holidays: [tomorrow]", "business_hours: {start: '25:00'}", "internal_networks: [10.0.0.0/99]"} {
		if _, err := Parse("c.yaml", []byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestProviderCacheFollowsProviders: remembered answers must not outlive
// the providers they came from, and concurrent lookups agree with the
// uncached walk.
func TestProviderCacheFollowsProviders(t *testing.T) {
	c := Default()
	if _, ok := c.Provider(`MSP\alice`); ok {
		t.Fatal("no providers yet")
	}
	c.Providers = append(c.Providers, Provider{Name: "MSP", Accounts: []string{`msp\*`}, Operators: []string{"ops-*"}})
	if p, ok := c.Provider(`MSP\alice`); !ok || p.Name != "MSP" {
		t.Fatalf("after adding a provider: %v %v", p, ok)
	}
	if p, ok := c.ProviderOperator("OPS-bob"); !ok || p != &c.Providers[0] {
		t.Fatalf("operator: %v %v", p, ok)
	}
	c.Providers = append(c.Providers, Provider{Name: "Other", Accounts: []string{"x-*"}})
	if p, ok := c.Provider("x-1"); !ok || p.Name != "Other" {
		t.Fatalf("after a second provider: %v %v", p, ok)
	}
	names := []string{`MSP\alice`, "x-1", "bob", "ops-1", `corp\msp\x`, "X-2"}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				n := names[i%len(names)]
				p, ok := c.Provider(n)
				q, ok2 := c.provider(n)
				if ok != ok2 || p != q {
					t.Errorf("%s: cached %v %v, walk %v %v", n, p, ok, q, ok2)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Window dates are midnights of the case zone, placed by the wallclock
// policy: in America/Santiago midnight of 2024-09-08 does not exist (the
// clock jumps from 00:00 to 01:00), and is read with the offset before.
func TestWindowMidnightInDSTGap(t *testing.T) {
	if _, err := time.LoadLocation("America/Santiago"); err != nil {
		t.Skip("no tzdata")
	}
	c, err := Parse("case.yaml", []byte("timezone: America/Santiago\nwindow:\n  from: 2024-09-08\n  to: 2024-09-08\n"))
	if err != nil {
		t.Fatal(err)
	}
	from, to := c.Window.Bounds()
	if want := time.Date(2024, 9, 8, 4, 0, 0, 0, time.UTC); !from.Equal(want) {
		t.Errorf("from %s, want %s", from, want)
	}
	if want := time.Date(2024, 9, 9, 3, 0, 0, 0, time.UTC); !to.Equal(want) { // the whole 8th: up to the 9th's midnight, at -03
		t.Errorf("to %s, want %s", to, want)
	}
}
