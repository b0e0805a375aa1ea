// Package report turns a hunted store into the incident report: one
// self-contained HTML file (no scripts, no external resources, all log
// content escaped, charts as inline SVG) and a Markdown version.
package report

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

// Data is everything the report shows, computed once from the store.
type Data struct {
	CaseName   string
	TimeZone   string
	Generated  time.Time
	Window     string
	Verdict    []string
	Files      []store.FileEntry
	FileTotals FileTotals
	Coverage   []Coverage
	Incidents  []IncidentView
	BySeverity []SeverityGroup
	Findings   int
	// Triage groups the findings context triage demoted, kept or raised
	// (by verdict, rule and original severity), most frequent first.
	Triage      []TriageGroup
	Heatmaps    []Heatmap
	Activity    []DayCount
	Negatives   []string
	Problems    []string // parse problems, per file
	EventsTotal int64
	First, Last time.Time
	loc         *time.Location
}

// FileTotals sums the evidence inventory.
type FileTotals struct {
	Files, Ingested, Skipped, Failed, Duplicates int
	Bytes, Records, SkippedRecords               int64
}

// Coverage is what one host and channel (or log format) covers.
type Coverage struct {
	Host, Channel string
	Events        int64
	First, Last   time.Time
}

// IncidentView is an incident with its findings resolved.
type IncidentView struct {
	event.Incident
	Items []event.Finding
}

// SeverityGroup lists findings of one severity.
type SeverityGroup struct {
	Severity string
	Findings []event.Finding
}

// TriageGroup is the findings of one rule that triage judged alike.
type TriageGroup struct {
	Verdict          string // demoted | kept | raised
	RuleID, Title    string
	SeverityOriginal string
	Severity         string
	Count, Hosts     int
	Example          string // the first finding's triage reason
}

// triageGroups groups the judged findings (see Data.Triage).
func triageGroups(findings []event.Finding) []TriageGroup {
	type key struct{ verdict, rule, orig, sev string }
	idx := map[key]int{}
	hosts := map[key]map[string]bool{}
	var out []TriageGroup
	for _, f := range findings {
		if f.Triage == "" {
			continue
		}
		verdict, _, _ := strings.Cut(f.Triage, ":")
		k := key{verdict, f.RuleID, f.SeverityOriginal, f.Severity}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			hosts[k] = map[string]bool{}
			out = append(out, TriageGroup{Verdict: verdict, RuleID: f.RuleID, Title: f.Title, SeverityOriginal: f.SeverityOriginal, Severity: f.Severity, Example: f.Triage})
		}
		out[i].Count++
		hosts[k][f.Host] = true
		out[i].Hosts = len(hosts[k])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Verdict != out[j].Verdict {
			return out[i].Verdict < out[j].Verdict
		}
		return out[i].RuleID < out[j].RuleID
	})
	return out
}

// Heatmap counts provider access (logons and RMM sessions) by weekday and
// hour in the case zone, for one identity or all of them.
type Heatmap struct {
	Identity string
	Cells    [7][24]int // Monday first
	Total    int
	Max      int
}

// DayCount is activity on one day (case zone).
type DayCount struct {
	Day      string
	Events   int64
	Findings int
}

// logonIDs are the events that count as an access in the heat map.
var logonIDs = map[int32]bool{4624: true, 4625: true, 4648: true, 4778: true, 1149: true, 21: true, 25: true}

// Build reads the store and computes the report data.
func Build(ctx context.Context, st *store.Store, cfg *caseconf.Config, now time.Time) (*Data, error) {
	loc := cfg.Location()
	d := &Data{CaseName: cfg.Name, TimeZone: cfg.Timezone, Generated: now.UTC(), loc: loc}
	if d.CaseName == "" {
		d.CaseName = "(unnamed case)"
	}
	from, to := cfg.Window.Bounds()
	d.Window = "all evidence"
	if !from.IsZero() || !to.IsZero() {
		d.Window = fmt.Sprintf("%s – %s", fmtTime(from, loc), fmtTime(to, loc))
	}
	m := st.Manifest()
	d.Files = m.Files
	for _, f := range m.Files {
		d.FileTotals.Files++
		d.FileTotals.Bytes += f.Size
		switch f.Status {
		case store.StatusIngested:
			d.FileTotals.Ingested++
			d.FileTotals.Records += f.Records
			d.FileTotals.SkippedRecords += f.Skipped
		case store.StatusSkipped:
			d.FileTotals.Skipped++
		case store.StatusFailed:
			d.FileTotals.Failed++
		case store.StatusDuplicate:
			d.FileTotals.Duplicates++
		}
		for _, e := range f.Errors {
			d.Problems = append(d.Problems, f.Path+": "+e)
		}
		if f.Skipped > 0 {
			d.Problems = append(d.Problems, fmt.Sprintf("%s: %d records skipped (%s)", f.Path, f.Skipped, reasons(f.SkipReasons)))
		}
	}

	cov := map[[2]string]*Coverage{}
	days := map[string]*DayCount{}
	heat := map[string]*Heatmap{}
	all := &Heatmap{Identity: "all provider identities"}
	basis := newBasis()
	err := st.Scan(ctx, store.ScanOptions{From: from, To: to}, func(ev *event.Event) error {
		d.EventsTotal++
		if !ev.Time.IsZero() {
			if d.First.IsZero() || ev.Time.Before(d.First) {
				d.First = ev.Time
			}
			if ev.Time.After(d.Last) {
				d.Last = ev.Time
			}
		}
		ch := ev.Channel
		if ch == "" {
			ch = ev.Format
		}
		k := [2]string{ev.Host, ch}
		c := cov[k]
		if c == nil {
			c = &Coverage{Host: ev.Host, Channel: ch, First: ev.Time, Last: ev.Time}
			cov[k] = c
		}
		c.Events++
		if ev.Time.Before(c.First) {
			c.First = ev.Time
		}
		if ev.Time.After(c.Last) {
			c.Last = ev.Time
		}
		day := ev.Time.In(loc).Format("2006-01-02")
		dc := days[day]
		if dc == nil {
			dc = &DayCount{Day: day}
			days[day] = dc
		}
		dc.Events++
		basis.observe(ev)
		if id, ok := providerAccess(cfg, ev); ok {
			h := heat[id]
			if h == nil {
				h = &Heatmap{Identity: id}
				heat[id] = h
			}
			lt := ev.Time.In(loc)
			wd := (int(lt.Weekday()) + 6) % 7
			h.Cells[wd][lt.Hour()]++
			h.Total++
			all.Cells[wd][lt.Hour()]++
			all.Total++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range cov {
		d.Coverage = append(d.Coverage, *c)
	}
	sort.Slice(d.Coverage, func(i, j int) bool {
		a, b := d.Coverage[i], d.Coverage[j]
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.Channel < b.Channel
	})

	findings, err := st.Findings()
	if err != nil {
		return nil, err
	}
	d.Findings = len(findings)
	byID := map[string]event.Finding{}
	for _, f := range findings {
		byID[f.ID] = f
		day := f.Time.In(loc).Format("2006-01-02")
		if dc := days[day]; dc != nil {
			dc.Findings++
		} else {
			days[day] = &DayCount{Day: day, Findings: 1}
		}
	}
	for i := len(event.Severities) - 1; i >= 0; i-- {
		sev := event.Severities[i]
		var g SeverityGroup
		g.Severity = sev
		for _, f := range findings {
			if f.Severity == sev {
				g.Findings = append(g.Findings, f)
			}
		}
		if len(g.Findings) > 0 {
			d.BySeverity = append(d.BySeverity, g)
		}
	}
	incidents, err := st.Incidents()
	if err != nil {
		return nil, err
	}
	for _, inc := range incidents {
		v := IncidentView{Incident: inc}
		for _, id := range inc.Findings {
			if f, ok := byID[id]; ok {
				v.Items = append(v.Items, f)
			}
		}
		d.Incidents = append(d.Incidents, v)
	}
	for _, dc := range days {
		d.Activity = append(d.Activity, *dc)
	}
	sort.Slice(d.Activity, func(i, j int) bool { return d.Activity[i].Day < d.Activity[j].Day })
	if all.Total > 0 {
		d.Heatmaps = append(d.Heatmaps, *all)
	}
	ids := make([]string, 0, len(heat))
	for id := range heat {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		d.Heatmaps = append(d.Heatmaps, *heat[id])
	}
	for i := range d.Heatmaps {
		h := &d.Heatmaps[i]
		for _, row := range h.Cells {
			for _, n := range row {
				h.Max = max(h.Max, n)
			}
		}
	}
	d.Triage = triageGroups(findings)
	d.Negatives = basis.negatives(cfg, findings, loc)
	d.Verdict = verdict(d)
	return d, nil
}

// providerAccess says whether an event is an access by a provider
// identity, and which: logons of provider accounts or from provider
// networks, and RMM session starts by provider operators.
func providerAccess(cfg *caseconf.Config, ev *event.Event) (string, bool) {
	switch {
	case ev.Source == event.SourceRMM && ev.Action == "session_start":
		id := ev.Operator
		if id == "" {
			id = ev.SrcIP
		}
		if id == "" {
			id = "(unknown operator)"
		}
		return ev.Format + ": " + id, true
	case ev.Source == event.SourceEVTX && logonIDs[ev.EventID]:
		if ev.EventID == 4625 {
			return "", false
		}
		if p, ok := cfg.Provider(ev.User); ok {
			return p.Name + ": " + ev.User, true
		}
		if p, ok := cfg.ProviderIP(ev.SrcIP); ok {
			u := ev.User
			if u == "" {
				u = ev.SrcIP
			}
			return p.Name + ": " + u, true
		}
	}
	return "", false
}

func reasons(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "open"
	}
	return t.In(loc).Format("2006-01-02 15:04 MST (-07:00)")
}

func verdict(d *Data) []string {
	var v []string
	high := 0
	for _, g := range d.BySeverity {
		if event.Rank(g.Severity) >= event.Rank(event.SevHigh) {
			high += len(g.Findings)
		}
	}
	if len(d.Incidents) > 0 {
		v = append(v, fmt.Sprintf("%d incident(s) and %d finding(s) of high or critical severity need attention.", len(d.Incidents), high))
	} else if high > 0 {
		v = append(v, fmt.Sprintf("%d finding(s) of high or critical severity need attention.", high))
	} else {
		v = append(v, "No finding of high or critical severity.")
	}
	v = append(v, fmt.Sprintf("Based on %d events from %d evidence files (%d hosts/devices), %s to %s.",
		d.EventsTotal, d.FileTotals.Ingested, countHosts(d.Coverage), fmtTime(d.First, d.loc), fmtTime(d.Last, d.loc)))
	if d.FileTotals.Failed > 0 || d.FileTotals.SkippedRecords > 0 {
		v = append(v, fmt.Sprintf("%d file(s) could not be read and %d record(s) were skipped: see Parse problems.", d.FileTotals.Failed, d.FileTotals.SkippedRecords))
	}
	return v
}

func countHosts(c []Coverage) int {
	seen := map[string]bool{}
	for _, x := range c {
		seen[x.Host] = true
	}
	return len(seen)
}
