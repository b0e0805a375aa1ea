package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// category is one question the case asks; a negative finding answers it
// with "no" and says what evidence the answer rests on.
type category struct {
	claim    string   // "new privileged accounts or group changes"
	analyzer string   // analyzer whose findings answer it
	tags     []string // ATT&CK tags of rules that answer it
	basis    string   // what the evidence is, in words
	relevant func(ev *event.Event) bool
}

var accountIDs = map[int32]bool{4720: true, 4722: true, 4724: true, 4728: true, 4732: true, 4756: true, 4738: true, 5136: true}

var categories = []category{
	{"new privileged accounts or privileged group changes", "newadmin", []string{"attack.t1136", "attack.t1098"},
		"Security log events", func(ev *event.Event) bool {
			return ev.Source == event.SourceEVTX && strings.EqualFold(ev.Channel, "Security")
		}},
	{"unusual outbound connections or exfiltration", "outbound", []string{"attack.t1041", "attack.t1048", "attack.t1567", "attack.t1071"},
		"network events (firewall logs, Sysmon 3, Security 5156)", func(ev *event.Event) bool {
			return ev.Source == event.SourceFirewall || (ev.Source == event.SourceEVTX && (ev.EventID == 5156 || (ev.EventID == 3 && strings.Contains(ev.Channel, "Sysmon"))))
		}},
	{"cleared or stopped event logs", "coverage", []string{"attack.t1070.001", "attack.t1070", "attack.t1562.002"},
		"Windows event log records", func(ev *event.Event) bool { return ev.Source == event.SourceEVTX }},
	{"reconnaissance PowerShell or discovery commands", "psrecon", []string{"attack.t1087", "attack.t1069", "attack.t1135", "attack.t1518", "attack.t1082", "attack.t1016", "attack.t1482", "attack.t1018"},
		"PowerShell, process-creation and RMM command events", func(ev *event.Event) bool {
			return ev.ScriptText != "" || ev.CommandLine != "" || strings.Contains(ev.Channel, "PowerShell")
		}},
	{"out-of-pattern RMM sessions", "rmmsessions", nil,
		"RMM agent events", func(ev *event.Event) bool { return ev.Source == event.SourceRMM }},
	{"provider logons outside business hours", "offhours", nil,
		"logon events", func(ev *event.Event) bool { return ev.Source == event.SourceEVTX && logonIDs[ev.EventID] }},
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

func (c *category) answers(f *event.Finding) bool {
	if f.Analyzer == c.analyzer {
		return true
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

// negatives states, per question, either that nothing of medium or higher
// severity was found and on what evidence, or that the evidence needed to
// answer it was missing.
func (b *basis) negatives(cfg *caseconf.Config, findings []event.Finding, loc *time.Location) []string {
	var out []string
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
		if c.events == 0 {
			out = append(out, fmt.Sprintf("Not assessed: %s — the evidence holds no %s.", cat.claim, cat.basis))
			continue
		}
		hosts := make([]string, 0, len(c.hosts))
		for h := range c.hosts {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		hl := strings.Join(hosts, ", ")
		if len(hosts) > 12 {
			hl = strings.Join(hosts[:12], ", ") + fmt.Sprintf(" and %d more", len(hosts)-12)
		}
		out = append(out, fmt.Sprintf("No %s found (no finding of medium or higher severity) between %s and %s on %d host(s)/device(s), based on %d %s from %s.",
			cat.claim, fmtTime(c.first, loc), fmtTime(c.last, loc), len(hosts), c.events, cat.basis, hl))
	}
	return out
}
