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
// report; it carries the same sections as the HTML, without charts (the
// heat map becomes a table).
func Markdown(w io.Writer, d *Data) error {
	b := bufio.NewWriter(w)
	f := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	local := funcs(d)["local"].(func(t time.Time) string)
	f("# Incident report: %s\n\n", md(d.CaseName))
	f("Case time zone %s; analysis window: %s.  \nGenerated %s by spoor.\n\n", md(d.TimeZone), md(d.Window), d.Generated.UTC().Format("2006-01-02 15:04:05Z"))
	f("## Summary\n\n")
	for _, v := range d.Verdict {
		f("- **%s**\n", md(v))
	}
	f("\n## What was not found\n\n")
	for _, n := range d.Negatives {
		f("- %s\n", md(n))
	}
	f("\n## Incidents (%d)\n\n", len(d.Incidents))
	for _, inc := range d.Incidents {
		f("### %s %s: %s\n\n", strings.ToUpper(inc.Severity), md(inc.ID), md(inc.Title))
		f("%s – %s; hosts: %s; identities: %s\n\n", local(inc.Start), local(inc.End), md(strings.Join(inc.Hosts, ", ")), md(strings.Join(inc.Users, ", ")))
		f("%s\n\n", md(inc.Narrative))
		f("| time | severity | finding | why | evidence |\n|---|---|---|---|---|\n")
		for _, x := range inc.Items {
			f("| %s | %s | **%s**: %s | %s | %s |\n", local(x.Time), x.Severity, md(x.Title), md(x.Summary), md(x.Reason), md(strings.Join(refList(x.Refs), "; ")))
		}
		f("\n")
	}
	f("## Provider access\n\n")
	if len(d.Heatmaps) == 0 {
		f("No provider access seen.\n\n")
	}
	for _, h := range d.Heatmaps {
		f("**%s** (%d accesses; weekday × hour, %s)\n\n| |", md(h.Identity), h.Total, md(d.TimeZone))
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
			for _, n := range row {
				if n == 0 {
					f(" |")
				} else {
					f(" %d |", n)
				}
			}
			f("\n")
		}
		f("\n")
	}
	f("## Findings by severity (%d)\n\n", d.Findings)
	for _, g := range d.BySeverity {
		f("### %s (%d)\n\n| time | host | user | finding | why | source | incident |\n|---|---|---|---|---|---|---|\n", strings.ToUpper(g.Severity), len(g.Findings))
		for _, x := range g.Findings {
			why := x.Reason
			if x.Triage != "" {
				why += fmt.Sprintf(" (triage, %s → %s: %s)", x.SeverityOriginal, x.Severity, x.Triage)
			}
			f("| %s | %s | %s | **%s**: %s | %s | %s %s | %s |\n", local(x.Time), md(x.Host), md(x.User), md(x.Title), md(x.Summary), md(why), md(x.Analyzer), md(x.RuleID), md(x.IncidentID))
		}
		f("\n")
	}
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
	f("## Evidence inventory\n\n%d files (%s): %d ingested, %d duplicates, %d of no known format, %d failed; %d events, %d records skipped.\n\n",
		d.FileTotals.Files, humanSize(d.FileTotals.Bytes), d.FileTotals.Ingested, d.FileTotals.Duplicates, d.FileTotals.Skipped, d.FileTotals.Failed, d.FileTotals.Records, d.FileTotals.SkippedRecords)
	f("| file | format | status | size | SHA-256 | events | skipped |\n|---|---|---|---|---|---|---|\n")
	for _, x := range d.Files {
		f("| %s | %s | %s | %s | `%s` | %d | %d |\n", md(x.Path), md(x.Format), x.Status, humanSize(x.Size), x.SHA256, x.Records, x.Skipped)
	}
	f("\n### Coverage per host and log\n\n| host | log | events | from | to |\n|---|---|---|---|---|\n")
	for _, c := range d.Coverage {
		f("| %s | %s | %d | %s | %s |\n", md(c.Host), md(c.Channel), c.Events, local(c.First), local(c.Last))
	}
	f("\n### Parse problems\n\n")
	if len(d.Problems) == 0 {
		f("None.\n")
	}
	for _, p := range d.Problems {
		f("- %s\n", md(p))
	}
	return b.Flush()
}
