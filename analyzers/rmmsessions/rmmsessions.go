// Package rmmsessions rebuilds remote-management sessions from RMM logs
// (start, end, operator, source, host, tool), compares each with the usual
// operators, hours, days, sources and durations, and links to the sessions
// that fall out of pattern every command, script block and process seen on
// that host inside the session window (including children of the RMM
// agent). See README.md.
package rmmsessions

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/analyzers/recon"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/pwsh"
)

// Name is the analyzer's name in findings.
const Name = "rmmsessions"

const (
	// grace tolerates clock skew between the RMM log and Windows.
	grace = 2 * time.Minute
	// maxKept bounds the host command records kept for linking: first
	// come, except that past maxKept/2 only commands with context (started
	// by an RMM agent, or recon-like outside business hours) are kept.
	maxKept = 200_000
	// bucket is the resolution of the per-host activity counts that say
	// how much else happened in a session window.
	bucket = 10 * time.Minute
)

type cmd struct {
	t       time.Time
	hostKey string
	via     string
	text    string
	cls     *recon.Hit // shared per distinct command text
	rmmKid  bool
	ref     event.Ref
}

// Analyzer is the rmmsessions analyzer; build it with New.
type Analyzer struct {
	cfg      *caseconf.Config
	sessions akit.SessionSource
	cmds     akit.Chunks[cmd]
	sorted   []cmd // cmds in time order, made by Finish
	in       akit.Interner
	cache    map[string]*recon.Hit
	clips    map[string]string          // command → clipped, interned
	counts   map[string]map[int64]int32 // host key → bucket → events
	dropped  int                        // commands not kept for linking (caps)
	lower    *akit.Memo1                // strings.ToLower of the last channel
	host     *akit.Memo1                // akit.NormHost of the last host
}

// New returns an rmmsessions analyzer for a case that rebuilds the RMM sessions
// from the events it observes itself (tests, one analyzer alone).
func New(cfg *caseconf.Config) *Analyzer { return NewWith(cfg, nil) }

// NewWith returns an rmmsessions analyzer that reads the RMM sessions of ss, fed
// by the hunt (analyzers.All shares one set among its analyzers); ss nil
// is New.
func NewWith(cfg *caseconf.Config, ss *akit.SessionSet) *Analyzer {
	return &Analyzer{lower: akit.NewMemo1(strings.ToLower), host: akit.NewMemo1(akit.NormHost), cfg: cfg, sessions: akit.UseSessions(cfg, ss), in: akit.Interner{}, cache: map[string]*recon.Hit{}, clips: map[string]string{}, counts: map[string]map[int64]int32{}}
}

// Name implements analyzers.Analyzer.
func (a *Analyzer) Name() string { return Name }

// Observe implements analyzers.Analyzer.
func (a *Analyzer) Observe(ev *event.Event) {
	a.sessions.Feed(ev)
	if ev.Source != event.SourceEVTX {
		return
	}
	ch := a.lower.Get(ev.Channel)
	var text, via, parent string
	switch {
	case ev.EventID == 4688 && strings.Contains(ch, "security"):
		text = first(firstOf(ev, ev.CommandLine, "CommandLine"), firstOf(ev, ev.Process, "NewProcessName"))
		parent = firstOf(ev, ev.ParentProcess, "ParentProcessName")
		via = "4688"
	case ev.EventID == 1 && strings.Contains(ch, "sysmon"):
		text = first(firstOf(ev, ev.CommandLine, "CommandLine"), firstOf(ev, ev.Process, "Image"))
		parent = firstOf(ev, ev.ParentProcess, "ParentImage")
		via = "sysmon 1"
	case ev.EventID == 4104 && strings.Contains(ch, "powershell"):
		if n := ev.Field("MessageNumber"); n != "" && n != "1" {
			return // one reference per script block is enough
		}
		text = firstOf(ev, ev.ScriptText, "ScriptBlockText")
		via = "4104"
	case (ev.EventID == 4103 || ev.EventID == 800) && strings.Contains(ch, "powershell"):
		text = first(ev.ScriptText, firstOf(ev, ev.CommandLine, "Payload"))
		via = strconv.Itoa(int(ev.EventID))
	default:
		return
	}
	hk := a.host.Get(ev.Host)
	m := a.counts[hk]
	if m == nil {
		m = map[int64]int32{}
		a.counts[a.in.Get(hk)] = m
	}
	m[ev.Time.UnixNano()/int64(bucket)]++
	if strings.TrimSpace(text) == "" {
		return
	}
	_, kid := akit.RMMAgent(parent)
	h, ok := a.cache[text]
	if !ok {
		c := recon.Classify(text)
		c.Decoded = pwsh.Decoded{} // keep only the names
		h = &c
		if len(a.cache) > 50000 {
			clear(a.cache)
			clear(a.clips)
		}
		a.cache[strings.Clone(text)] = h
	}
	office := a.cfg.InBusinessHours(ev.Time)
	interesting := kid || h.Discovery > 0 || h.Weight >= 2
	switch {
	case a.cmds.Len() >= maxKept:
		a.dropped++
		return
	case !interesting && office:
		return
	case a.cmds.Len() >= maxKept/2 && !kid && office:
		a.dropped++
		return
	}
	clipped, ok := a.clips[text]
	if !ok {
		clipped = a.in.Get(akit.Clip(text, 200))
		a.clips[strings.Clone(text)] = clipped
	}
	a.cmds.Append(cmd{t: ev.Time, hostKey: a.in.Get(hk), via: via, text: clipped, cls: h, rmmKid: kid, ref: event.RefOf(ev)})
}

// Finish implements analyzers.Analyzer.
func (a *Analyzer) Finish() []event.Finding {
	sessions, verdicts := a.sessions.Built()
	a.sorted = a.cmds.All()
	slices.SortStableFunc(a.sorted, func(x, y cmd) int {
		if c := strings.Compare(x.hostKey, y.hostKey); c != 0 {
			return c
		}
		return x.t.Compare(y.t)
	})
	var out []event.Finding
	for i, s := range sessions {
		if !verdicts[i].Out {
			continue
		}
		out = append(out, a.finding(s, &verdicts[i]))
	}
	if a.dropped > 0 {
		out = append(out, event.Finding{RuleID: "rmmsessions.capacity", Title: "rmmsessions kept only part of the host commands", Severity: event.SevInfo, Analyzer: Name,
			Summary: fmt.Sprintf("%d host commands were not kept for linking to sessions (memory bound of %d)", a.dropped, maxKept),
			Reason:  "bounded memory over very large stores; commands started by RMM agents are kept first",
			Details: akit.Details("dropped", a.dropped, "max_kept", maxKept)})
	}
	akit.Sort(out)
	return out
}

func (a *Analyzer) finding(s *akit.Session, v *akit.Verdict) event.Finding {
	cfg := a.cfg
	from, to := s.Start.Add(-grace), s.End.Add(grace)
	lo := sort.Search(len(a.sorted), func(i int) bool {
		c := a.sorted[i]
		return c.hostKey > s.HostKey || c.hostKey == s.HostKey && !c.t.Before(from)
	})
	kinds := map[string]string{}
	tags := map[string]bool{"attack.t1219": true}
	refs := append([]event.Ref{}, s.Refs...)
	var lines []string
	linked, kids := 0, 0
	for _, c := range s.Commands {
		refs = append(refs, c.Ref)
		h := recon.Classify(c.Text)
		for _, kn := range h.Kinds {
			if _, ok := kinds[kn]; !ok {
				kinds[kn] = c.Text
			}
		}
		for _, t := range h.Tags {
			tags[t] = true
		}
		if len(lines) < 8 {
			lines = append(lines, "rmm: "+akit.Clip(c.Text, 100))
		}
	}
	for i := lo; i < len(a.sorted); i++ {
		c := a.sorted[i]
		if c.hostKey != s.HostKey || c.t.After(to) {
			break
		}
		linked++
		if c.rmmKid {
			kids++
		}
		refs = append(refs, c.ref)
		for _, kn := range c.cls.Kinds {
			if _, ok := kinds[kn]; !ok {
				kinds[kn] = c.text
			}
		}
		for _, t := range c.cls.Tags {
			tags[t] = true
		}
		if len(lines) < 8 && (len(c.cls.Kinds) > 0 || c.rmmKid) {
			lines = append(lines, c.via+": "+akit.Clip(c.text, 100))
		}
	}
	other := 0
	if m := a.counts[s.HostKey]; m != nil {
		for b := from.UnixNano() / int64(bucket); b <= to.UnixNano()/int64(bucket); b++ {
			other += int(m[b])
		}
	}
	var disc []string
	for _, kd := range recon.Kinds {
		if _, ok := kinds[kd.Name]; ok && kd.Discovery {
			disc = append(disc, kd.Name)
		}
	}
	// Out of pattern in office hours is worth a look; out of pattern and
	// off hours is what a stolen RMM login looks like.
	sev := event.SevMedium
	if v.Timing != "" {
		sev = event.SevHigh
	}
	if len(disc) >= recon.HighBreadth && sev == event.SevHigh {
		sev = event.SevCritical
	}
	title := "Out-of-pattern RMM session"
	if v.Timing != "" {
		title += " (" + v.Timing + ")"
	}
	title += fmt.Sprintf(": %s, operator %s", akit.OrDash(s.Tool), akit.OrDash(s.Operator))
	dur := s.Duration().Round(time.Minute)
	summary := fmt.Sprintf("%s session %s on %s by operator %s from %s, %s – %s (%s): %s from the RMM log, %s on the host in the window (%d launched by the agent), %s, discovery: %s",
		akit.OrDash(s.Tool), s.ID, s.Host, akit.OrDash(s.Operator), akit.OrDash(s.SrcIP), cfg.Local(s.Start).Format("Mon 2006-01-02 15:04"), cfg.Local(s.End).Format("15:04 MST"), dur,
		akit.Plural(len(s.Commands), "command"), akit.Plural(linked, "command"), kids, akit.Plural(s.Transfers, "file transfer"), akit.OrDash(strings.Join(disc, ", ")))
	if len(lines) > 0 {
		summary += ". " + strings.Join(lines, "; ")
	}
	var tagList []string
	for t := range tags {
		tagList = append(tagList, t)
	}
	sort.Strings(tagList)
	refs = akit.CapRefs(akit.SortRefs(refs), akit.MaxRefs)
	return event.Finding{
		Time: s.Start, End: s.End, RuleID: "rmmsessions.out_of_pattern", Title: title, Severity: sev, Tags: tagList,
		Host: s.Host, User: s.Operator, SessionID: s.ID, Analyzer: Name, Summary: summary,
		Reason: strings.Join(v.Reasons, "; ") + fmt.Sprintf("; session score %d (out of pattern from %d)", v.Score, akit.OutOfPatternScore),
		Details: akit.Details("score", v.Score, "weekend", akit.B2I(v.Timing == "weekend"), "holiday", akit.B2I(v.Timing == "holiday"), "off_hours", akit.B2I(v.Timing != ""),
			"baseline_sessions", v.BaselineSessions, "operator_sessions", v.OperatorSessions, "operator_near_hour", v.OperatorNearHour,
			"all_near_hour", v.AllNearHour, "duration_min", akit.Round1(v.DurationMin), "median_duration_min", akit.Round1(v.MedianDurationMin),
			"rmm_commands", len(s.Commands), "host_commands_linked", linked, "agent_children", kids, "file_transfers", s.Transfers,
			"discovery_kinds", len(disc), "host_commands_in_window", other),
		Refs: refs,
	}
}

// Wants implements analyzers.Selective: the process and PowerShell
// events Observe reads, with every column, and the RMM events when it
// builds its own sessions.
func (a *Analyzer) Wants() akit.Wants {
	return a.sessions.Want(akit.Wants{
		{Source: event.SourceEVTX, ChannelHas: "security", IDs: []int32{4688}},
		{Source: event.SourceEVTX, ChannelHas: "sysmon", IDs: []int32{1}},
		{Source: event.SourceEVTX, ChannelHas: "powershell", IDs: []int32{4104, 4103, 800}},
	})
}

// first and firstOf read text as it is (commands, scripts).
var (
	first   = akit.FirstText
	firstOf = akit.TextOr
)
