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

	"github.com/spoor-dfir/spoor/analyzers/coverage"
	"github.com/spoor-dfir/spoor/internal/attack"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

// Data is everything the report shows, computed once from the store.
type Data struct {
	CaseName    string
	CaseBasis   string // which case file (hash) the findings were judged under
	TimeZone    string
	Generated   time.Time
	Window      string
	Summary     Executive // page 1
	Files       []store.FileEntry
	FileTotals  FileTotals
	Coverage    []Coverage
	HostCover   []HostCoverage
	Incidents   []IncidentView
	BySeverity  []SeverityGroup // medium and above: outside incidents in full, inside counted
	ByRule      []RuleCount     // medium outside incidents, low and info, counted by rule
	AllFindings []event.Finding // every finding, for the appendix
	Findings    int
	// Triage groups the findings context triage demoted, kept or raised
	// (by verdict, rule and original severity), most frequent first.
	Triage      []TriageGroup
	Heatmaps    []Heatmap
	Activity    []DayCount
	Negatives   []string
	NotFound    []NotFound
	NIS2        NIS2
	Problems    []string // parse problems, per file
	EventsTotal int64
	First, Last time.Time
	loc         *time.Location
	kdcs        map[string]bool // hosts that issued Kerberos tickets
}

// FileTotals sums the evidence inventory.
type FileTotals struct {
	Files, Ingested, Skipped, Failed, Duplicates int
	Empty                                        int // ingested logs without a record
	Bytes, Records, SkippedRecords               int64
}

// Coverage is what one host and channel (or log format) covers.
type Coverage struct {
	Host, Channel string
	Events        int64
	First, Last   time.Time
}

// HostCoverage is what the evidence holds of one host.
type HostCoverage struct {
	Host        string
	Names       []string // other names the logs gave it (FQDN, lower case, DOMAIN\\HOST$)
	Logs        []string
	Events      int64
	First, Last time.Time
}

// IncidentView is an incident with its findings resolved and its story
// told.
type IncidentView struct {
	event.Incident
	Items    []event.Finding
	Steps    []Step
	Did      string // what the commands did, e.g. "reconnaissance: accounts, groups"
	Commands int
	Via      string // tool and source address of the session, when an RMM log tells it
}

// RuleCount summarises the findings of one rule (low and info severity).
type RuleCount struct {
	RuleID, Title, Severity string
	Count                   int
	Hosts                   []string
	First, Last             time.Time
	InIncidents             int
	Techniques              []string // ATT&CK technique IDs the rule's findings name
}

// SeverityGroup lists findings of one severity.
type SeverityGroup struct {
	Severity string
	Total    int             // findings of this severity
	Findings []event.Finding // those outside incidents, in full
	// InIncidents counts the findings of this severity that belong to an
	// incident: the incident lists them.
	InIncidents int
	// ByRule counts those outside incidents that are counted by rule
	// (medium ones) instead of listed here.
	ByRule int
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
	Sources  []string   // where the accesses were seen (logons, RMM tools)
	Cells    [7][24]int // Monday first
	Business [7][24]bool
	Total    int
	Max      int
	Outside  int // accesses outside business hours
}

// DayCount is activity on one day (case zone).
type DayCount struct {
	Day      string
	Events   int64
	Findings int
	MaxSev   int // event.Rank of the highest finding that day, -1 for none
}

// logonIDs are the events that count as an access in the heat map.
var logonIDs = map[int32]bool{4624: true, 4625: true, 4648: true, 4778: true, 1149: true, 21: true, 25: true}

// Build reads the store and computes the report data.
func Build(ctx context.Context, st *store.Store, cfg *caseconf.Config, now time.Time) (*Data, error) {
	loc := cfg.Location()
	d := &Data{CaseName: cfg.Name, TimeZone: cfg.Timezone, Generated: now.UTC(), loc: loc, kdcs: map[string]bool{}}
	var err error
	if d.CaseName == "" {
		d.CaseName = "(unnamed case)"
	}
	from, to := cfg.Window.Bounds()
	d.Window = "all evidence"
	if !from.IsZero() || !to.IsZero() {
		d.Window = fmt.Sprintf("%s – %s", fmtTime(from, loc), fmtTime(to, loc))
	}
	m := st.Manifest()
	if d.CaseBasis, err = caseBasis(st, m); err != nil {
		return nil, err
	}
	d.Files = m.Files
	for _, f := range m.Files {
		d.FileTotals.Files++
		d.FileTotals.Bytes += f.Size
		switch f.Status {
		case store.StatusIngested:
			d.FileTotals.Ingested++
			if f.Records == 0 && f.Skipped == 0 {
				d.FileTotals.Empty++
			}
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

	incidents, err := st.Incidents()
	if err != nil {
		return nil, err
	}
	stories := make([]*storyBuilder, len(incidents))
	var storyFrom, storyTo time.Time // the span of all incidents: most events lie outside
	for i, inc := range incidents {
		stories[i] = newStory(inc)
		if i == 0 || stories[i].from.Before(storyFrom) {
			storyFrom = stories[i].from
		}
		if stories[i].to.After(storyTo) {
			storyTo = stories[i].to
		}
	}
	days := map[string]*DayCount{}
	heat := map[string]*Heatmap{}
	heatSrc := map[string]map[string]bool{}
	basis := newBasis()
	err = st.Scan(ctx, store.ScanOptions{From: from, To: to}, func(ev *event.Event) error {
		d.EventsTotal++
		if !ev.Time.IsZero() {
			if d.First.IsZero() || ev.Time.Before(d.First) {
				d.First = ev.Time
			}
			if ev.Time.After(d.Last) {
				d.Last = ev.Time
			}
		}
		day := ev.Time.In(loc).Format("2006-01-02")
		dc := days[day]
		if dc == nil {
			dc = &DayCount{Day: day}
			days[day] = dc
		}
		dc.Events++
		basis.observe(ev)
		if ev.Source == event.SourceEVTX && (ev.EventID == 4768 || ev.EventID == 4769) && ev.Host != "" {
			d.kdcs[ev.Host] = true
		}
		if len(stories) > 0 && !ev.Time.Before(storyFrom) && !ev.Time.After(storyTo) {
			for _, s := range stories {
				s.observe(ev)
			}
		}
		if id, src, ok := providerAccess(cfg, ev); ok {
			h := heat[id]
			if h == nil {
				h = &Heatmap{Identity: id}
				heat[id] = h
				heatSrc[id] = map[string]bool{}
			}
			heatSrc[id][src] = true
			lt := ev.Time.In(loc)
			wd := (int(lt.Weekday()) + 6) % 7
			h.Cells[wd][lt.Hour()]++
			h.Total++
			if !cfg.InBusinessHours(ev.Time) {
				h.Outside++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	findings, err := st.Findings()
	if err != nil {
		return nil, err
	}
	d.Coverage = coverageOf(findings)
	d.HostCover = hostCoverage(d.Coverage)
	names := map[string]map[string]bool{}
	for _, f := range m.Files {
		for raw, name := range f.HostNames {
			if names[name] == nil {
				names[name] = map[string]bool{}
			}
			names[name][raw] = true
		}
	}
	for i := range d.HostCover {
		h := &d.HostCover[i]
		for raw := range names[h.Host] {
			h.Names = append(h.Names, raw)
		}
		sort.Strings(h.Names)
	}

	d.Findings = len(findings)
	d.AllFindings = findings
	byID := map[string]event.Finding{}
	for _, dc := range days {
		dc.MaxSev = -1
	}
	for _, f := range findings {
		byID[f.ID] = f
		day := f.Time.In(loc).Format("2006-01-02")
		dc := days[day]
		if dc == nil {
			dc = &DayCount{Day: day, MaxSev: -1}
			days[day] = dc
		}
		dc.Findings++
		dc.MaxSev = max(dc.MaxSev, event.Rank(f.Severity))
	}
	d.ByRule = byRule(findings, loc)
	for i := len(event.Severities) - 1; i >= 0; i-- {
		sev := event.Severities[i]
		if event.Rank(sev) < event.Rank(event.SevMedium) {
			continue
		}
		var g SeverityGroup
		g.Severity = sev
		for _, f := range findings {
			if f.Severity != sev {
				continue
			}
			g.Total++
			// An incident's findings are told in its story (and all of
			// them listed under it); here only those outside incidents.
			if f.IncidentID != "" {
				g.InIncidents++
				continue
			}
			// Medium findings outside incidents are leads a single rule
			// raised; they are counted by rule with the low and info ones
			// (and listed in full in the appendix), so the report stays
			// a report however noisy a rule pack is.
			if sev == event.SevMedium {
				g.ByRule++
				continue
			}
			g.Findings = append(g.Findings, f)
		}
		if g.Total > 0 {
			d.BySeverity = append(d.BySeverity, g)
		}
	}
	for i, inc := range incidents {
		v := IncidentView{Incident: inc}
		for _, id := range inc.Findings {
			if f, ok := byID[id]; ok {
				v.Items = append(v.Items, f)
			}
		}
		v.Steps = stories[i].build(v.Items)
		v.Did, v.Commands, v.Via = whatItDid(v)
		d.Incidents = append(d.Incidents, v)
	}
	for _, dc := range days {
		d.Activity = append(d.Activity, *dc)
	}
	sort.Slice(d.Activity, func(i, j int) bool { return d.Activity[i].Day < d.Activity[j].Day })
	ids := make([]string, 0, len(heat))
	for id := range heat {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		h := heat[id]
		for src := range heatSrc[id] {
			h.Sources = append(h.Sources, src)
		}
		sort.Strings(h.Sources)
		for wd := range h.Cells {
			for hr, n := range h.Cells[wd] {
				h.Max = max(h.Max, n)
				h.Business[wd][hr] = businessHour(cfg, wd, hr)
			}
		}
		d.Heatmaps = append(d.Heatmaps, *h)
	}
	// The identities with accesses outside business hours first: those
	// are the maps a reader needs.
	sort.SliceStable(d.Heatmaps, func(i, j int) bool {
		a, b := d.Heatmaps[i], d.Heatmaps[j]
		if (a.Outside > 0) != (b.Outside > 0) {
			return a.Outside > 0
		}
		return false
	})
	d.NotFound = basis.notFound(findings, loc)
	for _, n := range d.NotFound {
		d.Negatives = append(d.Negatives, n.Sentence())
	}
	d.Triage = triageGroups(findings)
	d.Summary = executive(d, cfg)
	d.NIS2 = nis2(d, cfg)
	return d, nil
}

// Local is t in the case zone.
func (d *Data) Local(t time.Time) time.Time { return t.In(d.loc) }

// caseBasis says which case file the findings were judged under, and
// warns when the store's case changed after the hunt: the findings then
// answer another question than the report's header states.
func caseBasis(st *store.Store, m *store.Manifest) (string, error) {
	judged, hunted, err := st.FindingsCase()
	if err != nil {
		return "", err
	}
	stored := ""
	if m.Case != nil {
		stored = m.Case.SHA256
	}
	name := func(sha string) string {
		if sha == "" {
			return "the default case settings (no case file)"
		}
		return "case file sha256 " + sha[:min(12, len(sha))]
	}
	switch {
	case !hunted:
		return "Not hunted yet; " + name(stored) + ".", nil
	case judged != stored:
		return fmt.Sprintf("Findings were judged under %s, but the store's case is now %s: run spoor hunt again.", name(judged), name(stored)), nil
	}
	return "Findings judged under " + name(judged) + " (kept in the store as case.yaml).", nil
}

// providerAccess says whether an event is an access by a provider
// identity, which identity, and where it was seen: logons of provider
// accounts or from provider networks, and RMM session starts. One
// operator is one identity whichever log names them (CORP\\ct-x at a
// logon, ct-x in the RMM console, ct-x@provider in a cloud log).
func providerAccess(cfg *caseconf.Config, ev *event.Event) (id, src string, ok bool) {
	switch {
	case ev.Source == event.SourceRMM && ev.Action == event.ActionSessionStart:
		who := ev.Operator
		if who == "" {
			who = ev.SrcIP
		}
		if who == "" {
			who = "(unknown operator)"
		}
		prov := "RMM, no provider matched"
		if p, ok := cfg.ProviderOperator(ev.Operator); ok {
			prov = p.Name
		}
		return identity(who, prov), ev.Format + " sessions", true
	case ev.Source == event.SourceEVTX && logonIDs[ev.EventID]:
		if ev.EventID == 4625 {
			return "", "", false
		}
		if p, ok := cfg.Provider(ev.User); ok {
			return identity(ev.User, p.Name), "Windows logons", true
		}
		if p, ok := cfg.ProviderIP(ev.SrcIP); ok {
			u := ev.User
			if u == "" {
				u = ev.SrcIP
			}
			return identity(u, p.Name), "Windows logons", true
		}
	}
	return "", "", false
}

// identity is the one label of an account: its bare lower-case name
// (no DOMAIN\\, no @domain) and its provider.
func identity(account, provider string) string {
	a := strings.ToLower(account)
	if i := strings.LastIndexByte(a, '\\'); i >= 0 {
		a = a[i+1:]
	}
	if i := strings.IndexByte(a, '@'); i > 0 {
		a = a[:i]
	}
	return a + " (" + provider + ")"
}

// businessHour reports whether hour hr of weekday wd (Monday 0) lies in
// the case's business hours, in a week without holidays.
func businessHour(cfg *caseconf.Config, wd, hr int) bool {
	// 2024-01-01 was a Monday (and in winter time); mid-hour avoids the
	// boundary minute.
	t := time.Date(2024, 1, 1+wd, hr, 30, 0, 0, cfg.Location())
	for i := 0; i < 52 && cfg.Holiday(t); i++ {
		t = t.AddDate(0, 0, 7)
	}
	return cfg.InBusinessHours(t)
}

// coverageOf reads what the evidence covers from the coverage analyzer's
// results (one coverage.range finding per host and log, with its first
// and last event and the count in Details) instead of counting the store
// again, ordered by host and log.
func coverageOf(findings []event.Finding) []Coverage {
	var out []Coverage
	at := map[[2]string]int{} // host and log → index in out
	for _, f := range findings {
		if f.Analyzer != coverage.Name || f.RuleID != coverage.RangeRule {
			continue
		}
		host := f.Host
		if host == coverage.FirewallHost { // the analyzer's name for a firewall that names no host
			host = ""
		}
		var n int64
		if f.Details != nil {
			n, _ = f.Details.GetInt64("events")
		}
		// One log of a host may come from two sources (ScreenConnect's
		// Application events are stored as evtx and as rmm rows): the
		// report shows the log once.
		c := Coverage{Host: host, Channel: strings.TrimPrefix(f.Title, coverage.RangeTitle), Events: n, First: f.Time, Last: f.End}
		k := [2]string{c.Host, c.Channel}
		if i, ok := at[k]; ok {
			o := &out[i]
			o.Events += c.Events
			if c.First.Before(o.First) {
				o.First = c.First
			}
			if c.Last.After(o.Last) {
				o.Last = c.Last
			}
			continue
		}
		at[k] = len(out)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.Channel < b.Channel
	})
	return out
}

// hostCoverage folds the per-log coverage into one row per host.
func hostCoverage(c []Coverage) []HostCoverage {
	var out []HostCoverage
	for _, x := range c {
		if len(out) == 0 || out[len(out)-1].Host != x.Host {
			out = append(out, HostCoverage{Host: x.Host, First: x.First, Last: x.Last})
		}
		h := &out[len(out)-1]
		// Channel names without the vendor prefix every one repeats.
		h.Logs = append(h.Logs, strings.TrimPrefix(x.Channel, "Microsoft-Windows-"))
		h.Events += x.Events
		if x.First.Before(h.First) {
			h.First = x.First
		}
		if x.Last.After(h.Last) {
			h.Last = x.Last
		}
	}
	return out
}

// byRule counts the low and info findings per rule.
func byRule(findings []event.Finding, loc *time.Location) []RuleCount {
	idx := map[string]int{}
	var out []RuleCount
	hosts := map[string]map[string]bool{}
	for _, f := range findings {
		if r := event.Rank(f.Severity); r > event.Rank(event.SevMedium) || r == event.Rank(event.SevMedium) && f.IncidentID != "" {
			continue
		}
		k := f.Severity + "\x00" + f.RuleID
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, RuleCount{RuleID: f.RuleID, Title: f.Title, Severity: f.Severity, First: f.Time, Last: f.Time})
			hosts[k] = map[string]bool{}
		}
		r := &out[i]
		r.Count++
		r.Techniques = append(r.Techniques, attack.Techniques(f.Tags)...)
		if f.IncidentID != "" {
			r.InIncidents++
		}
		if f.Host != "" && !hosts[k][f.Host] {
			hosts[k][f.Host] = true
			r.Hosts = append(r.Hosts, f.Host)
		}
		if f.Time.Before(r.First) {
			r.First = f.Time
		}
		if f.Time.After(r.Last) {
			r.Last = f.Time
		}
	}
	for i := range out {
		sort.Strings(out[i].Hosts)
		out[i].Techniques = attack.Techniques(addPrefix(out[i].Techniques))
		// Several findings of one rule carry their specifics in the
		// title; the rule's name is the first part.
		if j := strings.Index(out[i].Title, ":"); j > 0 {
			out[i].Title = out[i].Title[:j]
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return event.Rank(a.Severity) > event.Rank(b.Severity)
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.RuleID < b.RuleID
	})
	return out
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

// addPrefix turns technique IDs back into tags so attack.Techniques can
// sort and deduplicate them.
func addPrefix(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "attack." + id
	}
	return out
}
