package report

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

// Step is one line of an incident's story: the session starting, a
// command (its full text), what the command set off, a finding's verdict,
// the session ending.
type Step struct {
	Time    time.Time   `json:"time"`
	Kind    string      `json:"kind"` // start | command | effect | finding | end
	Text    string      `json:"text"` // what happened, in words
	Command string      `json:"command,omitempty"`
	Effects string      `json:"effects,omitempty"` // what the command set off on the host
	Sources []string    `json:"sources"`
	Refs    []event.Ref `json:"refs"`
	// Tool, From and Operator describe a session start, when a log says.
	Tool     string `json:"tool,omitempty"`
	From     string `json:"from,omitempty"`
	Operator string `json:"operator,omitempty"`
}

// storyPad widens an incident's window for the events that tell its story:
// an RMM agent logs the session a moment before the console's audit does.
const storyPad = 2 * time.Minute

// sameStepWithin joins records of one action that several logs keep (the
// RMM console's audit, the agent's Application events, a process start).
const sameStepWithin = 5 * time.Second

// storyBuilder collects the events of one incident's window and hosts.
type storyBuilder struct {
	inc    event.Incident
	hosts  map[string]bool
	from   time.Time
	to     time.Time
	rmm    []event.Event // RMM session, command and transfer events
	procs  []event.Event // processes and scripts started on the hosts
	effect []event.Event // account, group and service changes
}

func newStory(inc event.Incident) *storyBuilder {
	b := &storyBuilder{inc: inc, hosts: map[string]bool{}, from: inc.Start.Add(-storyPad), to: inc.End.Add(storyPad)}
	for _, h := range inc.Hosts {
		b.hosts[strings.ToUpper(h)] = true
	}
	return b
}

// changeIDs are Windows events that change accounts, groups, services or
// scheduled tasks: effects a command may have had.
var changeIDs = map[int32]string{
	4720: "account created", 4722: "account enabled", 4724: "password reset", 4738: "account changed",
	4728: "added to a global group", 4732: "added to a local group", 4756: "added to a universal group",
	7045: "service installed", 4697: "service installed", 4698: "scheduled task created", 1102: "audit log cleared", 104: "event log cleared",
}

func (b *storyBuilder) observe(ev *event.Event) {
	if ev.Time.Before(b.from) || ev.Time.After(b.to) || !b.hosts[strings.ToUpper(ev.Host)] {
		return
	}
	switch {
	case ev.Source == event.SourceRMM:
		b.rmm = append(b.rmm, copyEvent(ev))
	case ev.CommandLine != "" || ev.ScriptText != "":
		b.procs = append(b.procs, copyEvent(ev))
	case ev.Source == event.SourceEVTX && changeIDs[ev.EventID] != "":
		b.effect = append(b.effect, copyEvent(ev))
	}
}

// copyEvent keeps what a story needs of an event (the scan reuses them).
func copyEvent(ev *event.Event) event.Event {
	return event.Event{Time: ev.Time, Source: ev.Source, Format: ev.Format, Host: ev.Host, Channel: ev.Channel,
		EventID: ev.EventID, User: ev.User, SrcIP: ev.SrcIP, Action: ev.Action, Process: ev.Process,
		CommandLine: ev.CommandLine, ScriptText: ev.ScriptText, SessionID: ev.SessionID, Operator: ev.Operator,
		Evidence: ev.Evidence, Offset: ev.Offset, RecordID: ev.RecordID}
}

func ref(ev *event.Event) event.Ref { return event.RefOf(ev) }

func sourceName(ev *event.Event) string {
	if ev.Source == event.SourceEVTX {
		if ev.EventID != 0 {
			return fmt.Sprintf("%s %d", ev.Channel, ev.EventID)
		}
		return ev.Channel
	}
	return ev.Format
}

func addSource(s *Step, ev *event.Event) {
	name := sourceName(ev)
	for _, x := range s.Sources {
		if x == name {
			s.Refs = append(s.Refs, ref(ev))
			return
		}
	}
	s.Sources = append(s.Sources, name)
	s.Refs = append(s.Refs, ref(ev))
}

func commandText(ev *event.Event) string {
	if ev.CommandLine != "" {
		return ev.CommandLine
	}
	return ev.ScriptText
}

// build turns the collected events and the incident's findings into the
// story, in time order.
func (b *storyBuilder) build(findings []event.Finding) []Step {
	byTime := func(evs []event.Event) {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	}
	byTime(b.rmm)
	byTime(b.procs)
	byTime(b.effect)
	var steps []Step
	near := func(kind string, t time.Time, text string) *Step {
		for i := len(steps) - 1; i >= 0; i-- {
			s := &steps[i]
			if t.Sub(s.Time) > sameStepWithin || s.Time.Sub(t) > sameStepWithin {
				continue
			}
			if s.Kind == kind && (text == "" || s.Command == "" || normCmd(s.Command) == normCmd(text)) {
				return s
			}
		}
		return nil
	}
	for i := range b.rmm {
		ev := &b.rmm[i]
		kind := "effect"
		switch ev.Action {
		case event.ActionSessionStart:
			kind = "start"
		case event.ActionSessionEnd:
			kind = "end"
		case "command":
			kind = "command"
		}
		text := commandText(ev)
		if s := near(kind, ev.Time, text); s != nil {
			if s.Command == "" && text != "" {
				s.Command = text
			}
			describeRMM(s, ev)
			addSource(s, ev)
			continue
		}
		s := Step{Time: ev.Time, Kind: kind, Command: text}
		describeRMM(&s, ev)
		addSource(&s, ev)
		steps = append(steps, s)
	}
	// Processes and scripts: what a console command set off, or, where no
	// RMM log tells the session, the commands themselves.
	haveCommands := false
	for _, s := range steps {
		haveCommands = haveCommands || s.Kind == "command"
	}
	procs := map[int][]string{} // step index → process images it set off
	for i := range b.procs {
		ev := &b.procs[i]
		if haveCommands {
			if k := lastCommandBefore(steps, ev.Time); k >= 0 {
				img := imageOf(ev)
				if img != "" && !contains(procs[k], img) {
					procs[k] = append(procs[k], img)
				}
				addSource(&steps[k], ev)
				continue
			}
		}
		text := commandText(ev)
		if s := near("command", ev.Time, text); s != nil && normCmd(s.Command) == normCmd(text) {
			addSource(s, ev)
			continue
		}
		s := Step{Time: ev.Time, Kind: "command", Command: text, Text: "Command by " + orDash(ev.User)}
		addSource(&s, ev)
		steps = append(steps, s)
	}
	for k, imgs := range procs {
		steps[k].Effects = "started " + strings.Join(imgs, ", ")
	}
	for i := range b.effect {
		ev := &b.effect[i]
		s := Step{Time: ev.Time, Kind: "effect", Text: fmt.Sprintf("%s (%s)", changeIDs[ev.EventID], sourceName(ev))}
		if ev.User != "" {
			s.Text += ": " + ev.User
		}
		addSource(&s, ev)
		steps = append(steps, s)
	}
	// Verdicts of medium or higher severity stand where they apply.
	seen := map[string]bool{}
	for _, f := range findings {
		if event.Rank(f.Severity) < event.Rank(event.SevMedium) || seen[f.RuleID] {
			continue
		}
		seen[f.RuleID] = true
		steps = append(steps, Step{Time: f.Time, Kind: "finding", Text: f.Title, Sources: []string{f.Severity}, Refs: f.Refs})
	}
	order := map[string]int{"start": 0, "finding": 1, "command": 2, "effect": 3, "end": 4}
	sort.SliceStable(steps, func(i, j int) bool {
		if !steps[i].Time.Equal(steps[j].Time) {
			return steps[i].Time.Before(steps[j].Time)
		}
		return order[steps[i].Kind] < order[steps[j].Kind]
	})
	for i := range steps {
		sortRefs(steps[i].Refs)
	}
	return steps
}

func describeRMM(s *Step, ev *event.Event) {
	if s.Text != "" && !strings.Contains(s.Text, "(unknown operator)") {
		return
	}
	who := ev.Operator
	if who == "" {
		who = "(unknown operator)"
	}
	if s.Tool == "" {
		// The console's export names the tool; an agent's own log is
		// the tool.
		s.Tool = ev.Format
		if ev.Process != "" && !strings.ContainsAny(ev.Process, `\/`) {
			s.Tool = ev.Process
		}
	}
	if s.From == "" {
		s.From = ev.SrcIP
	}
	if s.Operator == "" {
		s.Operator = ev.Operator
	}
	switch s.Kind {
	case "start":
		s.Text = fmt.Sprintf("Session start: %s, operator %s", s.Tool, who)
		if ev.SrcIP != "" {
			s.Text += " from " + ev.SrcIP
		}
		if ev.SessionID != "" {
			s.Text += ", session " + ev.SessionID
		}
	case "end":
		s.Text = fmt.Sprintf("Session end: operator %s", who)
	case "command":
		s.Text = "Command by operator " + who
	default:
		s.Text = fmt.Sprintf("%s by operator %s", strings.ReplaceAll(ev.Action, "_", " "), who)
	}
}

func lastCommandBefore(steps []Step, t time.Time) int {
	best := -1
	for k := range steps {
		if steps[k].Kind == "command" && !steps[k].Time.After(t.Add(sameStepWithin)) {
			if best < 0 || steps[k].Time.After(steps[best].Time) {
				best = k
			}
		}
	}
	return best
}

// imageOf is the program an event started (file name only).
func imageOf(ev *event.Event) string {
	p := ev.Process
	if p == "" {
		f := strings.Fields(ev.CommandLine)
		if len(f) == 0 {
			return ""
		}
		p = strings.Trim(f[0], `"`)
		if strings.HasPrefix(ev.CommandLine, `"`) {
			if i := strings.Index(ev.CommandLine[1:], `"`); i >= 0 {
				p = ev.CommandLine[1 : i+1]
			}
		}
	}
	p = strings.ReplaceAll(p, `\`, "/")
	return strings.ToLower(path.Base(p))
}

func normCmd(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortRefs(r []event.Ref) {
	sort.SliceStable(r, func(i, j int) bool {
		if r[i].Source != r[j].Source {
			return r[i].Source < r[j].Source
		}
		if r[i].Evidence != r[j].Evidence {
			return r[i].Evidence < r[j].Evidence
		}
		return r[i].Offset < r[j].Offset
	})
}
