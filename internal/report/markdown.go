package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// mdEscape makes log content inert in Markdown: no HTML, no table breaks,
// no emphasis or links.
var mdEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "\\|", "\n", " ", "\r", " ",
	"*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "]", "\\]", "#", "\\#",
)

func md(s string) string { return mdEscaper.Replace(s) }

// Markdown writes the report as Markdown, for pasting into an incident
// report; it has the HTML's sections in the same order (the heat maps
// become tables, the activity chart is left out).
func Markdown(w io.Writer, d *Data) error {
	b := bufio.NewWriter(w)
	f := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	fns := funcs(d)
	local := fns["local"].(func(t time.Time) string)
	clock := fns["clock"].(func(t time.Time) string)
	day := fns["day"].(func(t time.Time) string)
	f("# Incident report: %s\n\n", md(d.CaseName))
	f("Case time zone %s; analysis window: %s.  \n%s  \nGenerated %s by spoor.\n\n", md(d.TimeZone), md(d.Window), md(d.CaseBasis), d.Generated.UTC().Format("2006-01-02 15:04:05Z"))
	f("Contents: 1. Executive summary · 2. Incidents · 3. Provider access by identity · 4. Findings · 5. Evidence and coverage · 6. Annex: NIS2 Art. 23 report\n\n")

	f("## Executive summary\n\n**%s**\n\n", md(d.Summary.Headline))
	for i, s := range d.Summary.Incidents {
		f("- %s: %s\n", md(d.Incidents[i].ID), md(s))
	}
	f("\n### Not found\n\n")
	for _, n := range d.NotFound {
		if n.Assessed {
			f("- **No %s** — basis: %s\n", md(n.Short), md(n.BasisLine()))
		}
	}
	f("\n### Evidence\n\n%s\n\n", md(d.Summary.Coverage))
	for _, g := range d.Summary.Gaps {
		f("- %s\n", md(g))
	}
	f("\n### Actions\n\n")
	for i, a := range d.Summary.Actions {
		f("%d. %s\n", i+1, md(a))
	}

	f("\n## Incidents (%d)\n\n", len(d.Incidents))
	for _, inc := range d.Incidents {
		f("### %s %s: %s\n\n", strings.ToUpper(inc.Severity), md(inc.ID), md(inc.Title))
		f("%s – %s; hosts: %s; identities: %s", local(inc.Start), local(inc.End), md(strings.Join(inc.Hosts, ", ")), md(strings.Join(People(inc.Users), ", ")))
		if t := techs(inc.Items); t != "" {
			f("; ATT&CK %s", t)
		}
		f("\n\n")
		f("**What it did:** %s", md(inc.Did))
		if inc.Commands > 0 {
			f(" (%d commands)", inc.Commands)
		}
		if inc.Via != "" {
			f(", via %s", md(inc.Via))
		}
		f(".\n\n")
		for _, s := range inc.Steps {
			text := s.Text
			if s.Kind == "finding" && len(s.Sources) > 0 {
				text = "[" + s.Sources[0] + "] " + text
			}
			f("- `%s` %s", clock(s.Time), md(text))
			if s.Command != "" {
				c := cmdHead(s.Command)
				f("\n\n  ```\n  %s\n  ```\n", strings.ReplaceAll(fence(c.Head), "\n", "\n  "))
				if c.More {
					f("  (full text, %d lines, in the appendix)\n", c.Lines)
				}
			}
			if s.Effects != "" {
				f("  %s\n", md(s.Effects))
			}
			if s.Command == "" && s.Effects == "" {
				f("\n")
			}
		}
		f("\n")
	}

	f("## Provider access by identity\n\n")
	if len(d.Heatmaps) == 0 {
		f("No provider access seen.\n\n")
	}
	for _, h := range d.Heatmaps {
		f("**%s** (%d accesses, %d outside business hours; %s; weekday × hour, %s; * = outside business hours)\n\n| |", md(h.Identity), h.Total, h.Outside, md(strings.Join(h.Sources, ", ")), md(d.TimeZone))
		for hr := 0; hr < 24; hr++ {
			f(" %02d |", hr)
		}
		f("\n|---|")
		for hr := 0; hr < 24; hr++ {
			f("---|")
		}
		f("\n")
		for wd, row := range h.Cells {
			f("| %s |", weekdays[wd])
			for hr, n := range row {
				switch {
				case n == 0:
					f(" |")
				case !h.Business[wd][hr]:
					f(" %d\\* |", n)
				default:
					f(" %d |", n)
				}
			}
			f("\n")
		}
		f("\n")
	}

	f("## Findings (%d)\n\n", d.Findings)
	for _, g := range d.BySeverity {
		f("### %s (%d)\n\n", strings.ToUpper(g.Severity), g.Total)
		if g.InIncidents > 0 {
			f("%d of them belong to incidents and are listed with their incident.\n\n", g.InIncidents)
		}
		if g.ByRule > 0 {
			f("%d outside incidents are counted by rule below.\n\n", g.ByRule)
		}
		if len(g.Findings) > 0 {
			f("| time | host | finding | why | incident |\n|---|---|---|---|---|\n")
		}
		for _, x := range g.Findings {
			title := md(x.Title)
			if t := techs(x.Tags); t != "" {
				title += " (" + t + ")"
			}
			why := clip(x.Reason, 300)
			if x.Triage != "" {
				why += fmt.Sprintf(" (triage, %s → %s: %s)", x.SeverityOriginal, x.Severity, clip(x.Triage, 200))
			}
			f("| %s | %s | **%s**: %s | %s | %s |\n", local(x.Time), md(x.Host), title, md(clip(x.Summary, 400)), md(why), md(x.IncidentID))
		}
		f("\n")
	}
	f("### Findings outside incidents by rule (medium, low, info)\n\n| severity | rule | findings | in incidents | hosts | first – last |\n|---|---|---|---|---|---|\n")
	for _, r := range d.ByRule {
		rule := md(r.Title) + " (`" + md(r.RuleID) + "`)"
		if len(r.Techniques) > 0 {
			rule += " " + strings.Join(r.Techniques, ", ")
		}
		f("| %s | %s | %d | %d | %s | %s – %s |\n", r.Severity, rule, r.Count, r.InIncidents, md(strings.Join(r.Hosts, ", ")), day(r.First), day(r.Last))
	}
	f("\nEvery finding, with all its evidence references, is in the appendix file (JSON) written beside this report.\n\n")

	f("## Judged in context (triage)\n\n")
	if len(d.Triage) == 0 {
		f("No finding was judged differently from its rule.\n\n")
	} else {
		f("| verdict | findings | hosts | rule | severity | why (first of them) |\n|---|---|---|---|---|---|\n")
		for _, g := range d.Triage {
			f("| %s | %d | %d | **%s** %s | %s → %s | %s |\n", g.Verdict, g.Count, g.Hosts, md(g.Title), md(g.RuleID), g.SeverityOriginal, g.Severity, md(g.Example))
		}
		f("\n")
	}

	f("## Evidence and coverage\n\n%d files (%s): %d ingested, %d duplicates, %d of no known format, %d failed; %d events, %d records skipped.\n\n",
		d.FileTotals.Files, humanSize(d.FileTotals.Bytes), d.FileTotals.Ingested, d.FileTotals.Duplicates, d.FileTotals.Skipped, d.FileTotals.Failed, d.FileTotals.Records, d.FileTotals.SkippedRecords)
	f("| host | logs | events | from | to |\n|---|---|---|---|---|\n")
	for _, c := range d.HostCover {
		host := c.Host
		if host == "" {
			host = "(no host)"
		}
		if len(c.Names) > 0 {
			host += " (also " + strings.Join(c.Names, ", ") + ")"
		}
		f("| %s | %s | %d | %s | %s |\n", md(host), md(strings.Join(c.Logs, ", ")), c.Events, local(c.First), local(c.Last))
	}
	f("\n### Parse problems\n\n")
	if len(d.Problems) == 0 {
		f("None.\n")
	}
	for _, p := range d.Problems {
		f("- %s\n", md(p))
	}

	n := d.NIS2
	f("\n## Annex: NIS2 Art. 23 report (prefilled)\n\nPrefilled from the case and the findings; also written as JSON beside this report. Check every field before sending.\n\n")
	f("### Early warning (within 24 hours)\n\n")
	f("- **Entity:** %s\n- **Detection time:** %s\n- **Malicious activity:** %s – %s\n- **Suspected unlawful or malicious act:** %s\n- **Cross-border impact:** %s\n\n",
		md(n.Entity), md(n.EarlyWarning.DetectionTime), md(n.EarlyWarning.FirstActivity), md(n.EarlyWarning.LastActivity), md(n.EarlyWarning.SuspectedMalicious), md(n.EarlyWarning.CrossBorderImpact))
	f("### Incident notification (within 72 hours)\n\n")
	f("- **Initial assessment:** severity %s; see the executive summary\n- **Affected systems:** %s\n- **Identities used:** %s\n", md(n.Notification.Severity),
		md(strings.Join(n.Notification.AffectedSystems, ", ")), md(strings.Join(n.Notification.Identities, ", ")))
	var iocs []string
	for _, x := range n.Notification.Indicators {
		iocs = append(iocs, x.Type+" "+x.Value)
	}
	f("- **Indicators of compromise:** %s\n", md(strings.Join(iocs, ", ")))
	list := func(title string, xs []string) {
		f("- **%s:**\n", title)
		for _, x := range xs {
			f("  - %s\n", md(x))
		}
	}
	list("Not found", n.Notification.NotFound)
	f("- **Measures taken:** %s\n", md(n.Notification.MeasuresTaken))
	list("Measures advised", n.Notification.MeasuresAdvised)
	list("Still unknown", n.Notification.StillUnknown)
	return b.Flush()
}

// fence keeps a command from closing its code block.
func fence(s string) string { return strings.ReplaceAll(s, "```", "` ` `") }
