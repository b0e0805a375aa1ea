package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Executive is page 1: what happened, what was not found and on what
// evidence, what the evidence covered, and what to do.
type Executive struct {
	Headline  string
	Incidents []string // one sentence per incident
	Coverage  string
	Gaps      []string // questions the evidence could not answer, unreadable files
	Actions   []string
}

// whatItDid says in words what an incident's commands did, how many
// commands there were, and through which tool and address the session
// came.
func whatItDid(v IncidentView) (did string, commands int, via string) {
	var kinds []string
	seen := map[string]bool{}
	for _, f := range v.Items {
		if f.Details == nil {
			continue
		}
		k, ok := f.Details.Get("kinds")
		if !ok {
			continue
		}
		for _, x := range strings.Split(fmt.Sprint(k), ",") {
			x = strings.ReplaceAll(strings.TrimSpace(x), "_", " ")
			if x != "" && !seen[x] {
				seen[x] = true
				kinds = append(kinds, x)
			}
		}
	}
	var changes []string
	for _, s := range v.Steps {
		switch s.Kind {
		case "command":
			commands++
		case "effect":
			if !contains(changes, s.Text) {
				changes = append(changes, s.Text)
			}
		case "start":
			if via == "" && s.Tool != "" {
				via = s.Tool
				if s.From != "" {
					via += " from " + s.From
				}
			}
		}
	}
	var parts []string
	if len(kinds) > 0 {
		parts = append(parts, "reconnaissance: "+strings.Join(kinds, ", "))
	}
	if len(changes) > 0 {
		parts = append(parts, "changes: "+strings.Join(changes, "; "))
	}
	if len(parts) == 0 {
		if commands > 0 {
			parts = append(parts, "commands without a known purpose")
		} else {
			parts = append(parts, "no command recorded")
		}
	}
	return strings.Join(parts, "; "), commands, via
}

// IncidentSentence is one incident in one sentence.
func (d *Data) IncidentSentence(v IncidentView) string {
	start, end := v.Start.In(d.loc), v.End.In(d.loc)
	when := start.Format("Mon 2 Jan 2006 15:04") + "–" + end.Format("15:04 MST")
	if start.Format("2006-01-02") != end.Format("2006-01-02") {
		when = start.Format("Mon 2 Jan 2006 15:04") + " – " + end.Format("Mon 2 Jan 15:04 MST")
	}
	who := strings.Join(People(v.Users), ", ")
	if who == "" {
		who = "an unidentified account"
	}
	s := fmt.Sprintf("%s, %s on %s: %s", strings.ToUpper(v.Severity), when, strings.Join(v.Hosts, ", "), who)
	if v.Via != "" {
		s += " via " + v.Via
	}
	s += " — " + v.Did
	if v.Commands > 0 {
		s += fmt.Sprintf(" (%d commands)", v.Commands)
	}
	return s + "."
}

func executive(d *Data, cfg *caseconf.Config) Executive {
	var e Executive
	if len(d.Incidents) == 0 {
		e.Headline = "No incident: no findings joined into an incident."
	} else {
		bySev := map[string]int{}
		first, last := d.Incidents[0].Start, d.Incidents[0].End
		for _, v := range d.Incidents {
			bySev[v.Severity]++
			if v.Start.Before(first) {
				first = v.Start
			}
			if v.End.After(last) {
				last = v.End
			}
		}
		var sev []string
		for i := len(event.Severities) - 1; i >= 0; i-- {
			if n := bySev[event.Severities[i]]; n > 0 {
				sev = append(sev, fmt.Sprintf("%d %s", n, event.Severities[i]))
			}
		}
		e.Headline = fmt.Sprintf("%d incident(s) (%s) between %s and %s.", len(d.Incidents), strings.Join(sev, ", "),
			first.In(d.loc).Format("Mon 2 Jan 2006 15:04"), last.In(d.loc).Format("Mon 2 Jan 2006 15:04 MST"))
	}
	for _, v := range d.Incidents {
		e.Incidents = append(e.Incidents, d.IncidentSentence(v))
	}
	empty := ""
	if d.FileTotals.Empty > 0 {
		empty = fmt.Sprintf(" (%d of them empty logs)", d.FileTotals.Empty)
	}
	e.Coverage = fmt.Sprintf("%d events from %d evidence files%s on %d hosts/devices, %s to %s (%s).",
		d.EventsTotal, d.FileTotals.Ingested, empty, len(d.HostCover), fmtDay(d.First, d), fmtDay(d.Last, d), d.TimeZone)
	for _, n := range d.NotFound {
		if !n.Assessed {
			e.Gaps = append(e.Gaps, fmt.Sprintf("%s could not be assessed: the evidence holds no %s.", upperFirst(n.Claim), n.Basis))
		}
	}
	if d.FileTotals.Failed > 0 || d.FileTotals.SkippedRecords > 0 {
		e.Gaps = append(e.Gaps, fmt.Sprintf("%d file(s) could not be read and %d record(s) were skipped (see Evidence).", d.FileTotals.Failed, d.FileTotals.SkippedRecords))
	}
	e.Actions = actions(d, cfg)
	return e
}

func fmtDay(t time.Time, d *Data) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(d.loc).Format("2 Jan 2006")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// actions are the measures the findings call for, most urgent first.
func actions(d *Data, cfg *caseconf.Config) []string {
	if len(d.Incidents) == 0 {
		return []string{"No measure is called for by the findings; keep the store and the evidence as they are."}
	}
	providers := map[string]bool{}
	var users, ips, tools, domainHosts []string
	domainLevel := false
	for _, v := range d.Incidents {
		provider := false
		for _, u := range People(v.Users) {
			if p, ok := cfg.ProviderOperator(u); ok {
				providers[p.Name] = true
				provider = true
			}
			if !contains(users, u) {
				users = append(users, u)
			}
		}
		for _, s := range v.Steps {
			if s.Kind == "start" {
				if s.From != "" && !contains(ips, s.From) {
					ips = append(ips, s.From)
				}
				if s.Tool != "" && !contains(tools, s.Tool) {
					tools = append(tools, s.Tool)
				}
				if s.Operator != "" {
					if p, ok := cfg.ProviderOperator(s.Operator); ok {
						providers[p.Name] = true
					}
				}
			}
		}
		// A provider identity that enumerated accounts, groups or the
		// domain, or worked on a domain controller, held credentials
		// that reach the whole domain: Kerberos tickets may be forged.
		if provider && (domainRecon(v.Did) || d.kdcOf(v.Hosts)) {
			domainLevel = true
			for _, h := range v.Hosts {
				if !contains(domainHosts, h) {
					domainHosts = append(domainHosts, h)
				}
			}
		}
	}
	sort.Strings(users)
	var out []string
	if len(providers) > 0 {
		var names []string
		for n := range providers {
			names = append(names, n)
		}
		sort.Strings(names)
		a := fmt.Sprintf("Cut the remote access of %s now", strings.Join(names, ", "))
		if len(tools) > 0 {
			a += fmt.Sprintf(" (%s agents and console accounts, VPN)", strings.Join(tools, ", "))
		}
		out = append(out, a+", until the provider has explained and contained its breach.")
	} else if len(tools) > 0 {
		out = append(out, fmt.Sprintf("Disable the %s remote access used in the incidents until the sessions are explained.", strings.Join(tools, ", ")))
	}
	if len(users) > 0 {
		out = append(out, fmt.Sprintf("Reset the credentials of %s and of every account the sessions used, and review their group memberships.", strings.Join(users, ", ")))
	}
	if domainLevel {
		out = append(out, fmt.Sprintf("Reset the krbtgt password twice (the second after replication has completed): the sessions acted at domain level (%s), so Kerberos tickets may have been forged.", strings.Join(domainHosts, ", ")))
	}
	if len(ips) > 0 {
		out = append(out, fmt.Sprintf("Block %s and search all other logs (VPN, mail, cloud) for them.", strings.Join(ips, ", ")))
	}
	return out
}

// People drops machine and service principals (HOST$, SYSTEM, LOCAL
// SERVICE, NETWORK SERVICE) from a list of identities: they are how
// Windows records a command's execution, not who gave it.
func People(users []string) []string {
	var out []string
	for _, u := range users {
		bare := strings.ToLower(u)
		if i := strings.LastIndexByte(bare, '\\'); i >= 0 {
			bare = bare[i+1:]
		}
		switch {
		case bare == "" || bare == "-" || strings.HasSuffix(bare, "$"),
			bare == "system" || bare == "local service" || bare == "network service" || bare == "anonymous logon":
			continue
		}
		out = append(out, u)
	}
	return out
}

// domainRecon reports whether an incident's reconnaissance reached the
// domain (its accounts, groups, trusts or credentials).
func domainRecon(did string) bool {
	for _, k := range []string{"accounts", "groups", "domain", "ad collector", "credential access"} {
		if strings.Contains(did, k) {
			return true
		}
	}
	return false
}

// kdcOf reports whether any of hosts issued Kerberos tickets in the
// evidence (4768/4769): a domain controller.
func (d *Data) kdcOf(hosts []string) bool {
	for _, h := range hosts {
		if d.kdcs[h] {
			return true
		}
	}
	return false
}
