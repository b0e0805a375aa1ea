// Package simulate writes the supplier-compromise case of the brief as
// real evidence files — EVTX, firewall and RMM-agent logs laid out like a
// triage collection — together with the case config (case.yaml) and the
// ground truth (labels.jsonl). Output depends only on the options: the
// generator is a seeded PCG, the period ends on a fixed date, and nothing
// iterates a map unsorted, so the same seed gives the same bytes.
package simulate

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Scenarios are the stories the generator knows, in a fixed order.
var Scenarios = []string{"normal", "comtech", "comtech-persistence", "comtech-exfil", "comtech-lateral"}

// DefaultEnd is the end of the generated period: Monday 2026-11-16 09:00
// in Freiburg, the morning the breach became known.
var DefaultEnd = time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC) // 09:00 CET

// Options control one run.
type Options struct {
	Out      string
	Scenario string // one of Scenarios; "" means comtech
	Seed     uint64
	Hosts    int       // total hosts (5 servers + clients); 0 means 12
	Days     int       // length of the period; 0 means 30
	Size     int64     // > 0: scale normal life to about this many bytes of evidence
	End      time.Time // zero means DefaultEnd
}

// CommittedOptions are the options testdata/cases/comtech was written
// with (see its README.md); a test regenerates it and compares bytes.
var CommittedOptions = Options{Scenario: "comtech", Seed: 2026, Hosts: 8, Days: 30}

// Summary reports what a run wrote.
type Summary struct {
	Files  int
	Bytes  int64
	Labels int
	Start  time.Time
	End    time.Time
	// Counts is the number of records (EVTX) or lines (text, without
	// headers) per evidence file, keyed by its "evidence/…" path.
	Counts map[string]int
}

func (o *Options) normalize() error {
	if o.Scenario == "" {
		o.Scenario = "comtech"
	}
	known := false
	for _, s := range Scenarios {
		known = known || s == o.Scenario
	}
	if !known {
		return fmt.Errorf("unknown scenario %q (known: %s)", o.Scenario, strings.Join(Scenarios, ", "))
	}
	if o.Hosts == 0 {
		o.Hosts = 12
	}
	if o.Hosts < 6 {
		return fmt.Errorf("--hosts %d: at least 6 (5 servers and a client)", o.Hosts)
	}
	if o.Days == 0 {
		o.Days = 30
	}
	if o.Days < 7 || o.Days > 3660 {
		return fmt.Errorf("--days %d: want 7 to 3660 (the attacks fall in the last week)", o.Days)
	}
	if o.End.IsZero() {
		o.End = DefaultEnd
	}
	if o.Out == "" {
		return fmt.Errorf("no output directory")
	}
	return nil
}

// Run generates the evidence, case.yaml and labels.jsonl under o.Out.
func Run(o Options) (*Summary, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(zoneName)
	if err != nil {
		return nil, fmt.Errorf("time zone %s: %w", zoneName, err)
	}
	r := newRand(o.Seed)
	co := newCompany(r, o.Hosts, o.Days, o.End, loc)
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	if err := writeCaseYAML(filepath.Join(o.Out, "case.yaml"), co, o.Scenario); err != nil {
		return nil, err
	}
	if o.Size > 0 {
		return bulk(o, co)
	}
	g := &gen{r: r, co: co, c: newCollector(), newRID: 4000, sessEnd: map[*session]time.Time{}, la: newRand(o.Seed ^ 0x1a7e4a1)}
	if o.Scenario == "normal" || o.Scenario == "comtech-lateral" {
		g.lb = newRand(o.Seed ^ 0x5ac1d0b)
	}
	for _, h := range co.hosts {
		for _, ch := range allChannels {
			g.c.sink(evtxRel(h.name, ch), true)
		}
	}
	g.c.sink(relFortigate, false)
	g.c.sink(relPfsense, false)
	g.c.sink(relRMMAudit, false)
	g.life()
	if o.Scenario != "normal" {
		ss := g.attackSessions()
		if len(ss) == 3 {
			if o.Scenario == "comtech-persistence" {
				g.persistence(ss[1])
			}
			if o.Scenario == "comtech-exfil" {
				g.exfil(ss[0], ss[2].start.In(loc))
			}
			if o.Scenario == "comtech-lateral" {
				g.lateral(ss[0])
			}
		}
		g.closeSessions(ss)
	}
	n, err := g.c.write(o.Out)
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int, len(g.c.sinks))
	for k, s := range g.c.sinks {
		counts["evidence/"+k] = len(s.entries)
	}
	return &Summary{Files: len(g.c.sinks), Bytes: n, Labels: len(g.c.labels), Start: co.start, End: co.end, Counts: counts}, nil
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5bd1e9955bd1e995)) }

// ParseSize reads a byte size: 1GiB, 500MB, 64KiB, 1g, 123 (bytes).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"b", 1}} {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suf)), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit (KiB, MiB, GiB, KB, MB, GB)", s)
	}
	return int64(v * float64(mult)), nil
}

// writeCaseYAML writes the case config for the company. It is rendered
// as text so the field order and comments are stable.
func writeCaseYAML(path string, co *company, scenario string) error {
	var b strings.Builder
	q := strconv.Quote
	fmt.Fprintf(&b, "# Case config written by spoor simulate (scenario %s).\n", scenario)
	fmt.Fprintf(&b, "name: %s\n", q(companyName+" / "+providerNm+" supplier compromise"))
	fmt.Fprintf(&b, "timezone: %s\n", zoneName)
	b.WriteString("business_hours:\n  days: [mon, tue, wed, thu, fri]\n  start: \"07:00\"\n  end: \"19:00\"\n")
	b.WriteString("holidays:")
	hol := co.holidaysIn()
	if len(hol) == 0 {
		b.WriteString(" []\n")
	} else {
		b.WriteString("\n")
		for _, d := range hol {
			fmt.Fprintf(&b, "  - %s  # %s\n", q(d), co.holidays[d])
		}
	}
	from := co.start.In(co.loc)
	to := co.end.In(co.loc)
	fmt.Fprintf(&b, "window:\n  from: %s\n  to: %s\n", q(from.Format(time.RFC3339)), q(to.Format(time.RFC3339)))
	base := co.end.AddDate(0, 0, -14)
	if base.After(co.start) {
		fmt.Fprintf(&b, "baseline:\n  from: %s\n  to: %s\n", q(from.Format(time.RFC3339)), q(base.In(co.loc).Format(time.RFC3339)))
	}
	b.WriteString("providers:\n")
	fmt.Fprintf(&b, "  - name: %s\n", q(providerNm))
	b.WriteString("    accounts: [\"CORP\\\\ct-*\", \"ct-*\", \"*@comtech-it.de\"]\n")
	fmt.Fprintf(&b, "    networks: [\"%s0/24\", \"198.51.100.40/32\"]\n", vpnPrefix)
	b.WriteString("    rmm_tools: [screenconnect, teamviewer]\n")
	b.WriteString("    operators: [\"ct-*\", \"ComTech*\"]\n")
	b.WriteString("  - name: \"ERP-Partner Sued\"\n    accounts: [\"erp-*\"]\n    networks: [\"" + erpVendor + "/32\"]\n    rmm_tools: [anydesk]\n    operators: [\"ERP-Partner*\", \"731624905\"]\n")
	fmt.Fprintf(&b, "internal_networks: [\"10.10.0.0/16\", \"%s0/24\"]\n", vpnPrefix)
	b.WriteString("servers: [\"DC*\", \"FS*\", \"ERP*\", \"BACKUP*\"]\n")
	b.WriteString("allowlist:\n")
	b.WriteString("  networks: [\"13.107.0.0/16\", \"20.190.128.0/18\", \"20.54.0.0/16\", \"52.96.0.0/14\", \"52.112.0.0/14\", \"" + backupIP + "\", \"" + relayIP + "\", \"" + erpVendor + "\"]\n")
	b.WriteString("  domains: [\"*.windowsupdate.com\", \"*.microsoft.com\", \"*.office365.com\", \"*.microsoftonline.com\", \"*.sharepoint.com\", \"*.screenconnect.com\"]\n")
	b.WriteString("iocs:\n  ips: []\n  domains: []\n  hashes: []\n")
	b.WriteString("privileged_groups: [Administrators, \"Domain Admins\", \"Enterprise Admins\", \"Schema Admins\", \"Account Operators\", \"Backup Operators\", \"Server Operators\", DnsAdmins, \"Group Policy Creator Owners\", \"Remote Desktop Users\", Administratoren, \"Domänen-Admins\"]\n")
	b.WriteString("# AnyDesk, TeamViewer and firewall text logs were written in local time.\n")
	fmt.Fprintf(&b, "source_timezones:\n")
	for _, k := range []string{"firewall", "rmm", "pfirewall", "fortigate", "filterlog", "anydesk", "teamviewer"} {
		fmt.Fprintf(&b, "  %s: %s\n", k, zoneName)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
