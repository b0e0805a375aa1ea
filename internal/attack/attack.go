// Package attack reads MITRE ATT&CK technique and tactic identifiers out of
// finding tags (Sigma's convention: attack.t1087.001, attack.discovery) and
// builds an ATT&CK Navigator layer (layer format 4.5) from findings, so an
// investigator can see at a glance which techniques the evidence shows.
package attack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

var techTag = regexp.MustCompile(`^attack\.t(\d{4})(?:\.(\d{3}))?$`)

// tactics are the enterprise tactics' short names as the Navigator spells
// them. Sigma writes them with underscores in older rules and hyphens in
// newer ones; both are read.
var tactics = []string{
	"reconnaissance", "resource-development", "initial-access", "execution", "persistence",
	"privilege-escalation", "defense-evasion", "credential-access", "discovery",
	"lateral-movement", "collection", "command-and-control", "exfiltration", "impact",
}

// Techniques returns the technique IDs (T1087, T1087.001) named by tags,
// upper-cased, sorted and without duplicates.
func Techniques(tags []string) []string {
	var out []string
	for _, t := range tags {
		m := techTag.FindStringSubmatch(strings.ToLower(strings.TrimSpace(t)))
		if m == nil {
			continue
		}
		id := "T" + m[1]
		if m[2] != "" {
			id += "." + m[2]
		}
		out = append(out, id)
	}
	return sortUnique(out)
}

// Tactics returns the Navigator tactic names (lateral-movement) named by
// tags, sorted and without duplicates.
func Tactics(tags []string) []string {
	var out []string
	for _, t := range tags {
		s := strings.ToLower(strings.TrimSpace(t))
		if !strings.HasPrefix(s, "attack.") {
			continue
		}
		s = strings.ReplaceAll(strings.TrimPrefix(s, "attack."), "_", "-")
		for _, known := range tactics {
			if s == known {
				out = append(out, s)
			}
		}
	}
	return sortUnique(out)
}

func sortUnique(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Layer is an ATT&CK Navigator layer, format version 4.5. Only the keys
// spoor fills are modelled; the Navigator defaults the rest.
type Layer struct {
	Name         string       `json:"name"`
	Versions     Versions     `json:"versions"`
	Domain       string       `json:"domain"`
	Description  string       `json:"description"`
	Sorting      int          `json:"sorting"`
	HideDisabled bool         `json:"hideDisabled"`
	Techniques   []Technique  `json:"techniques"`
	Gradient     Gradient     `json:"gradient"`
	LegendItems  []LegendItem `json:"legendItems"`
	Metadata     []Metadata   `json:"metadata"`
}

// Versions names the layer format and the Navigator it was written for.
type Versions struct {
	Attack    string `json:"attack"`
	Navigator string `json:"navigator"`
	Layer     string `json:"layer"`
}

// Technique is one scored technique of the layer.
type Technique struct {
	TechniqueID string     `json:"techniqueID"`
	Score       int        `json:"score"`
	Comment     string     `json:"comment"`
	Enabled     bool       `json:"enabled"`
	Metadata    []Metadata `json:"metadata"`
}

// Gradient maps scores to colours.
type Gradient struct {
	Colors   []string `json:"colors"`
	MinValue int      `json:"minValue"`
	MaxValue int      `json:"maxValue"`
}

// LegendItem explains one colour.
type LegendItem struct {
	Label string `json:"label"`
	Color string `json:"color"`
}

// Metadata is a name/value pair shown in the Navigator's tooltip.
type Metadata struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Score is a severity's score in the layer: info 1 … critical 5, so that
// an unscored (absent) technique stays visibly apart from an info one.
func Score(sev string) int { return event.Rank(sev) + 1 }

// severity colours, from info to critical, shared by gradient and legend.
var colors = []string{"#deebf7", "#9ecae1", "#fdae6b", "#f16913", "#a50f15"}

// NewLayer builds the layer of findings: one technique per ATT&CK ID any
// finding's tags name, scored by the highest severity among its findings,
// with the finding count, hosts and time span in its metadata. Findings
// below minSeverity are left out. The output depends only on the
// findings, so the same store gives a byte-identical layer.
func NewLayer(name string, findings []event.Finding, minSeverity string, loc *time.Location) Layer {
	if loc == nil {
		loc = time.UTC
	}
	type acc struct {
		score       int
		n           int
		bySev       [5]int
		hosts       map[string]bool
		rules       map[string]int
		first, last time.Time
	}
	by := map[string]*acc{}
	total := 0
	for i := range findings {
		f := &findings[i]
		if minSeverity != "" && event.Rank(f.Severity) < event.Rank(minSeverity) {
			continue
		}
		ids := Techniques(f.Tags)
		if len(ids) > 0 {
			total++
		}
		for _, id := range ids {
			a := by[id]
			if a == nil {
				a = &acc{hosts: map[string]bool{}, rules: map[string]int{}}
				by[id] = a
			}
			a.n++
			if r := event.Rank(f.Severity); r >= 0 {
				a.bySev[r]++
			}
			if s := Score(f.Severity); s > a.score {
				a.score = s
			}
			if f.Host != "" {
				a.hosts[f.Host] = true
			}
			a.rules[f.Title]++
			if a.first.IsZero() || f.Time.Before(a.first) {
				a.first = f.Time
			}
			end := f.End
			if end.IsZero() {
				end = f.Time
			}
			if end.After(a.last) {
				a.last = end
			}
		}
	}
	ids := make([]string, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	l := Layer{
		Name:        name,
		Versions:    Versions{Attack: "16", Navigator: "5.1.0", Layer: "4.5"},
		Domain:      "enterprise-attack",
		Description: fmt.Sprintf("Techniques of %d spoor findings, scored by the highest severity seen (1 info … 5 critical).", total),
		Sorting:     3, // by score, descending
		Techniques:  []Technique{},
		Gradient:    Gradient{Colors: colors, MinValue: 1, MaxValue: 5},
		Metadata:    []Metadata{{Name: "generator", Value: "spoor"}, {Name: "findings", Value: fmt.Sprint(total)}},
	}
	for i, sev := range event.Severities {
		l.LegendItems = append(l.LegendItems, LegendItem{Label: sev, Color: colors[i]})
	}
	for _, id := range ids {
		a := by[id]
		var sevs []string
		for r := len(a.bySev) - 1; r >= 0; r-- {
			if a.bySev[r] > 0 {
				sevs = append(sevs, fmt.Sprintf("%d %s", a.bySev[r], event.Severities[r]))
			}
		}
		titles := make([]string, 0, len(a.rules))
		for t := range a.rules {
			titles = append(titles, t)
		}
		sort.Slice(titles, func(i, j int) bool {
			if a.rules[titles[i]] != a.rules[titles[j]] {
				return a.rules[titles[i]] > a.rules[titles[j]]
			}
			return titles[i] < titles[j]
		})
		if len(titles) > 5 {
			titles = append(titles[:5], fmt.Sprintf("… %d more", len(a.rules)-5))
		}
		hosts := make([]string, 0, len(a.hosts))
		for h := range a.hosts {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		l.Techniques = append(l.Techniques, Technique{
			TechniqueID: id,
			Score:       a.score,
			Enabled:     true,
			Comment:     fmt.Sprintf("%d findings (%s): %s", a.n, strings.Join(sevs, ", "), strings.Join(titles, "; ")),
			Metadata: []Metadata{
				{Name: "findings", Value: fmt.Sprint(a.n)},
				{Name: "hosts", Value: strings.Join(hosts, ", ")},
				{Name: "first seen", Value: a.first.In(loc).Format("2006-01-02 15:04:05 -07:00")},
				{Name: "last seen", Value: a.last.In(loc).Format("2006-01-02 15:04:05 -07:00")},
			},
		})
	}
	return l
}

// JSON renders the layer, indented, with a final newline.
func (l Layer) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
