package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
)

// NIS2 prefills the fields of a NIS2 Art. 23 report from the case and the
// findings: the early warning (within 24 hours of becoming aware) and the
// incident notification (within 72 hours). What spoor cannot know (when
// the entity became aware, cross-border impact, measures already taken)
// is named as open, never guessed.
type NIS2 struct {
	Entity       string           `json:"entity"`
	Generated    string           `json:"generated"`
	EarlyWarning NIS2EarlyWarning `json:"early_warning_24h"`
	Notification NIS2Notification `json:"incident_notification_72h"`
}

// NIS2EarlyWarning is Art. 23(4)(a).
type NIS2EarlyWarning struct {
	DetectionTime      string   `json:"detection_time"`
	FirstActivity      string   `json:"first_malicious_activity"`
	LastActivity       string   `json:"last_malicious_activity"`
	SuspectedMalicious string   `json:"suspected_unlawful_or_malicious_act"`
	MaliciousBasis     []string `json:"basis"`
	CrossBorderImpact  string   `json:"cross_border_impact"`
}

// NIS2Notification is Art. 23(4)(b).
type NIS2Notification struct {
	InitialAssessment string          `json:"initial_assessment"`
	Severity          string          `json:"severity"`
	AffectedSystems   []string        `json:"affected_systems"`
	Identities        []string        `json:"identities_used"`
	Indicators        []NIS2Indicator `json:"indicators_of_compromise"`
	NotFound          []string        `json:"not_found"`
	MeasuresTaken     string          `json:"measures_taken"`
	MeasuresAdvised   []string        `json:"measures_advised"`
	StillUnknown      []string        `json:"still_unknown"`
}

// NIS2Indicator is one indicator of compromise.
type NIS2Indicator struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func nis2(d *Data, cfg *caseconf.Config) NIS2 {
	n := NIS2{Entity: d.CaseName, Generated: d.Generated.Format(time.RFC3339)}
	ew := &n.EarlyWarning
	ew.DetectionTime = "Generated " + d.Generated.Format("2006-01-02 15:04:05Z") + " by spoor; replace with the time the entity became aware"
	ew.CrossBorderImpact = "unknown — to be assessed by the entity (services to other member states, shared provider)"
	nt := &n.Notification
	nt.MeasuresTaken = "to be filled in by the entity"
	if len(d.Incidents) == 0 {
		ew.SuspectedMalicious = "no — no incident found"
		nt.InitialAssessment = "No incident was found in the evidence."
		nt.Severity = "none"
	} else {
		first, last := d.Incidents[0].Start, d.Incidents[0].End
		hosts, users := map[string]bool{}, map[string]bool{}
		top := ""
		for _, v := range d.Incidents {
			if v.Start.Before(first) {
				first = v.Start
			}
			if v.End.After(last) {
				last = v.End
			}
			for _, h := range v.Hosts {
				hosts[h] = true
			}
			for _, u := range v.Users {
				users[u] = true
			}
			if top == "" || rank(v.Severity) > rank(top) {
				top = v.Severity
			}
			ew.MaliciousBasis = append(ew.MaliciousBasis, d.IncidentSentence(v))
		}
		ew.FirstActivity = first.In(d.loc).Format("2006-01-02 15:04:05 -07:00")
		ew.LastActivity = last.In(d.loc).Format("2006-01-02 15:04:05 -07:00")
		ew.SuspectedMalicious = "yes — suspected: remote access used outside the agreed pattern (see basis)"
		nt.Severity = top
		nt.AffectedSystems = keys(hosts)
		nt.Identities = keys(users)
		nt.InitialAssessment = d.Summary.Headline + " " + strings.Join(d.Summary.Incidents, " ")
		nt.Indicators = indicators(d)
		nt.MeasuresAdvised = d.Summary.Actions
	}
	for _, x := range d.NotFound {
		if x.Assessed {
			nt.NotFound = append(nt.NotFound, fmt.Sprintf("no %s (%s)", x.Short, x.BasisLine()))
		} else {
			nt.StillUnknown = append(nt.StillUnknown, x.Claim+": no "+x.Basis+" in the evidence")
		}
	}
	nt.StillUnknown = append(nt.StillUnknown,
		"what the provider's compromised access was used for at other customers",
		"whether data was viewed through the remote session's screen (not logged)",
		"systems whose logs were not collected")
	if cfg.Name == "" {
		n.Entity = "(name the entity in the case file)"
	}
	return n
}

// indicators are the session source addresses, session IDs and
// identities of the incidents.
func indicators(d *Data) []NIS2Indicator {
	var out []NIS2Indicator
	seen := map[string]bool{}
	add := func(t, v string) {
		if v == "" || seen[t+v] {
			return
		}
		seen[t+v] = true
		out = append(out, NIS2Indicator{t, v})
	}
	for _, v := range d.Incidents {
		for _, s := range v.Steps {
			if s.Kind == "start" {
				add("ip", s.From)
				add("rmm_operator", s.Operator)
			}
		}
		add("rmm_session", v.SessionID)
	}
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func rank(sev string) int {
	for i, s := range []string{"info", "low", "medium", "high", "critical"} {
		if s == sev {
			return i
		}
	}
	return -1
}

// NIS2JSON writes the NIS2 annex as JSON.
func NIS2JSON(w io.Writer, d *Data) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d.NIS2)
}

// Appendix is the machine-readable appendix: every finding with all its
// evidence references, the incidents with their stories, and the
// evidence inventory.
type Appendix struct {
	Case      string       `json:"case"`
	CaseBasis string       `json:"case_basis"`
	NotFound  []string     `json:"not_found"`
	Incidents []appendixIn `json:"incidents"`
	Findings  []appendixF  `json:"findings"`
	Files     any          `json:"evidence_files"`
}

type appendixIn struct {
	ID       string   `json:"id"`
	Severity string   `json:"severity"`
	Start    string   `json:"start"`
	End      string   `json:"end"`
	Hosts    []string `json:"hosts"`
	Users    []string `json:"users"`
	Summary  string   `json:"summary"`
	Steps    []Step   `json:"steps"`
	Findings []string `json:"findings"`
}

type appendixF struct {
	ID         string   `json:"id"`
	Time       string   `json:"time"`
	End        string   `json:"end"`
	Severity   string   `json:"severity"`
	RuleID     string   `json:"rule_id"`
	Title      string   `json:"title"`
	Host       string   `json:"host"`
	User       string   `json:"user"`
	Summary    string   `json:"summary"`
	Reason     string   `json:"reason"`
	Analyzer   string   `json:"analyzer"`
	IncidentID string   `json:"incident_id,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Refs       any      `json:"refs"`
}

// AppendixJSON writes the appendix as JSON.
func AppendixJSON(w io.Writer, d *Data) error {
	a := Appendix{Case: d.CaseName, CaseBasis: d.CaseBasis, NotFound: d.Negatives, Files: d.Files}
	for _, v := range d.Incidents {
		a.Incidents = append(a.Incidents, appendixIn{ID: v.ID, Severity: v.Severity, Start: v.Start.UTC().Format(time.RFC3339Nano),
			End: v.End.UTC().Format(time.RFC3339Nano), Hosts: v.Hosts, Users: v.Users, Summary: d.IncidentSentence(v), Steps: v.Steps, Findings: v.Findings})
	}
	for _, f := range d.AllFindings {
		a.Findings = append(a.Findings, appendixF{ID: f.ID, Time: f.Time.UTC().Format(time.RFC3339Nano), End: f.End.UTC().Format(time.RFC3339Nano),
			Severity: f.Severity, RuleID: f.RuleID, Title: f.Title, Host: f.Host, User: f.User, Summary: f.Summary, Reason: f.Reason,
			Analyzer: f.Analyzer, IncidentID: f.IncidentID, Tags: f.Tags, Refs: f.Refs})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(a)
}
