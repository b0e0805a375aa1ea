package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

// category is one question the case asks; a negative finding answers it
// with "no" and says what evidence the answer rests on.
type category struct {
	claim    string   // "new privileged accounts or privileged group changes"
	short    string   // for page 1: "new accounts or group changes"
	analyzer string   // analyzer whose findings answer it
	tags     []string // ATT&CK tags of rules that answer it
	// events, when set, are the event ids a tagged finding must point at
	// to answer: a command-line rule tagged "account manipulation" that
	// fired on Get-LocalUser is reconnaissance, not a changed account.
	events   map[int32]bool
	basis    string // what the evidence is, in words
	relevant func(ev *event.Event) bool
}

var categories = []category{
	{"new privileged accounts or privileged group changes", "new accounts or privileged group changes", "newadmin", []string{"attack.t1136", "attack.t1098"},
		ids(4720, 4722, 4724, 4727, 4728, 4731, 4732, 4738, 4754, 4756, 4765, 4766, 4781, 4794, 5136, 12, 13), "Security log events", func(ev *event.Event) bool {
			return ev.Source == event.SourceEVTX && strings.EqualFold(ev.Channel, "Security")
		}},
	{"unusual outbound connections or exfiltration", "exfiltration or unusual outbound connections", "outbound", []string{"attack.t1041", "attack.t1048", "attack.t1567", "attack.t1071"},
		nil, "network events (firewall logs, Sysmon 3, Security 5156)", func(ev *event.Event) bool {
			return ev.Source == event.SourceFirewall || (ev.Source == event.SourceEVTX && (ev.EventID == 5156 || (ev.EventID == 3 && strings.Contains(ev.Channel, "Sysmon"))))
		}},
	{"persistence through newly installed services", "new services (persistence)", "persistence", []string{"attack.t1543"},
		ids(7045, 4697), "System and Security log events (service installs 7045, 4697)", func(ev *event.Event) bool {
			return ev.Source == event.SourceEVTX && (strings.EqualFold(ev.Channel, "System") || strings.EqualFold(ev.Channel, "Security"))
		}},
	{"cleared or stopped event logs", "log tampering (cleared or stopped logs)", "coverage", []string{"attack.t1070.001", "attack.t1070", "attack.t1562.002"},
		nil, "Windows event log records", func(ev *event.Event) bool { return ev.Source == event.SourceEVTX }},
	{"reconnaissance PowerShell or discovery commands", "reconnaissance commands", "psrecon", []string{"attack.t1087", "attack.t1069", "attack.t1135", "attack.t1518", "attack.t1082", "attack.t1016", "attack.t1482", "attack.t1018"},
		nil, "PowerShell, process-creation and RMM command events", func(ev *event.Event) bool {
			return ev.ScriptText != "" || ev.CommandLine != "" || strings.Contains(ev.Channel, "PowerShell")
		}},
	{"out-of-pattern RMM sessions", "out-of-pattern RMM sessions", "rmmsessions", nil,
		nil, "RMM agent events", func(ev *event.Event) bool { return ev.Source == event.SourceRMM }},
	{"provider logons outside business hours", "provider logons outside business hours", "offhours", nil,
		nil, "logon events", func(ev *event.Event) bool { return ev.Source == event.SourceEVTX && logonIDs[ev.EventID] }},
}

type catBasis struct {
	events      int64
	hosts       map[string]bool
	first, last time.Time
}

type basis struct{ cats []catBasis }

func newBasis() *basis {
	b := &basis{cats: make([]catBasis, len(categories))}
	for i := range b.cats {
		b.cats[i].hosts = map[string]bool{}
	}
	return b
}

func (b *basis) observe(ev *event.Event) {
	for i := range categories {
		if !categories[i].relevant(ev) {
			continue
		}
		c := &b.cats[i]
		c.events++
		if ev.Host != "" {
			c.hosts[ev.Host] = true
		}
		if !ev.Time.IsZero() {
			if c.first.IsZero() || ev.Time.Before(c.first) {
				c.first = ev.Time
			}
			if ev.Time.After(c.last) {
				c.last = ev.Time
			}
		}
	}
}

func ids(v ...int32) map[int32]bool {
	m := map[int32]bool{}
	for _, id := range v {
		m[id] = true
	}
	return m
}

func (c *category) answers(f *event.Finding) bool {
	if c.analyzer != "" && f.Analyzer == c.analyzer {
		return true
	}
	if c.events != nil {
		points := false
		for _, r := range f.Refs {
			points = points || c.events[r.EventID]
		}
		if !points {
			return false
		}
	}
	for _, t := range f.Tags {
		for _, want := range c.tags {
			if strings.EqualFold(t, want) || strings.HasPrefix(strings.ToLower(t), want+".") {
				return true
			}
		}
	}
	return false
}

// NotFound is one question the evidence answers with "no" (or could not
// answer), with what the answer rests on.
type NotFound struct {
	Claim, Short string
	Assessed     bool // false: the evidence holds nothing to answer it
	Events       int64
	Basis        string
	Hosts        []string
	First, Last  time.Time
	loc          *time.Location
}

// Sentence is the negative finding in full.
func (n NotFound) Sentence() string {
	if !n.Assessed {
		return fmt.Sprintf("Not assessed: %s — the evidence holds no %s.", n.Claim, n.Basis)
	}
	hl := strings.Join(n.Hosts, ", ")
	if len(n.Hosts) > 12 {
		hl = strings.Join(n.Hosts[:12], ", ") + fmt.Sprintf(" and %d more", len(n.Hosts)-12)
	}
	return fmt.Sprintf("No %s found (no finding of medium or higher severity) between %s and %s on %d host(s)/device(s), based on %d %s from %s.",
		n.Claim, fmtTime(n.First, n.loc), fmtTime(n.Last, n.loc), len(n.Hosts), n.Events, n.Basis, hl)
}

// BasisLine is the evidence basis in a few words, for page 1.
func (n NotFound) BasisLine() string {
	if !n.Assessed {
		return "not assessed: no " + n.Basis + " in the evidence"
	}
	return fmt.Sprintf("%d %s from %d host(s)/device(s), %s – %s", n.Events, n.Basis, len(n.Hosts),
		n.First.In(n.loc).Format("2 Jan"), n.Last.In(n.loc).Format("2 Jan 2006"))
}

// notFound states, per question without a finding of medium or higher
// severity, that nothing was found and on what evidence, or that the
// evidence needed to answer it was missing.
func (b *basis) notFound(findings []event.Finding, loc *time.Location) []NotFound {
	var out []NotFound
	for i := range categories {
		cat := &categories[i]
		found := 0
		for j := range findings {
			if event.Rank(findings[j].Severity) >= event.Rank(event.SevMedium) && cat.answers(&findings[j]) {
				found++
			}
		}
		if found > 0 {
			continue
		}
		c := &b.cats[i]
		n := NotFound{Claim: cat.claim, Short: cat.short, Assessed: c.events > 0, Events: c.events, Basis: cat.basis,
			First: c.first, Last: c.last, loc: loc}
		for h := range c.hosts {
			n.Hosts = append(n.Hosts, h)
		}
		sort.Strings(n.Hosts)
		out = append(out, n)
	}
	return out
}
