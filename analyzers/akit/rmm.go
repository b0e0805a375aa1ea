package akit

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// rmmAgents are the process image names of remote-management agents: a
// process they start runs on behalf of whoever holds the RMM session.
var rmmAgents = []struct{ image, tool string }{
	{"screenconnect.clientservice.exe", "screenconnect"},
	{"screenconnect.windowsclient.exe", "screenconnect"},
	{"connectwisecontrol.clientservice.exe", "screenconnect"},
	{"anydesk.exe", "anydesk"},
	{"teamviewer_service.exe", "teamviewer"},
	{"teamviewer.exe", "teamviewer"},
	{"tv_w32.exe", "teamviewer"},
	{"tv_x64.exe", "teamviewer"},
	{"agentmon.exe", "kaseya"},
	{"kaseyaremotecontrolhost.exe", "kaseya"},
	{"aemagent.exe", "datto"},
	{"cagservice.exe", "datto"},
	{"ninjarmmagent.exe", "ninjaone"},
	{"ninjarmmagentpatcher.exe", "ninjaone"},
	{"ateraagent.exe", "atera"},
	{"splashtop-streamer.exe", "splashtop"},
	{"srservice.exe", "splashtop"},
	{"rmmagent.exe", "rmm"},
	{"rustdesk.exe", "rustdesk"},
	{"meshagent.exe", "meshcentral"},
	{"level.exe", "level"},
	{"syncrolive.agent.runner.exe", "syncro"},
}

// RMMAgent reports whether a process path is a known RMM agent and which
// tool it belongs to.
func RMMAgent(process string) (string, bool) {
	p := strings.ToLower(process)
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		p = p[i+1:]
	}
	p = strings.Trim(p, `" `)
	for _, a := range rmmAgents {
		if p == a.image {
			return a.tool, true
		}
	}
	return "", false
}

// Tool names the RMM product of an RMM event from its format
// ("anydesk-trace" → "anydesk").
func Tool(format string) string {
	f := strings.ToLower(format)
	if i := strings.IndexByte(f, '-'); i > 0 {
		f = f[:i]
	}
	return f
}

// Cmd is one command an RMM log says was run in a session.
type Cmd struct {
	Time time.Time
	Text string
	Ref  event.Ref
}

// Session is an RMM session rebuilt from its start, end and the events in
// between.
type Session struct {
	ID        string
	Host      string // as the log wrote it
	HostKey   string // NormHost(Host)
	Operator  string
	SrcIP     string
	Tool      string
	Start     time.Time
	End       time.Time
	HasStart  bool
	HasEnd    bool
	Commands  []Cmd
	Transfers int
	Events    int
	Refs      []event.Ref // start, end and transfer events
}

// Duration is End-Start.
func (s *Session) Duration() time.Duration { return s.End.Sub(s.Start) }

// Contains reports whether t falls in the session, with a grace period
// for clock skew between the RMM log and Windows.
func (s *Session) Contains(t time.Time, grace time.Duration) bool {
	return !t.Before(s.Start.Add(-grace)) && !t.After(s.End.Add(grace))
}

// maxSessionCmds bounds the commands kept per session; the count goes on.
const maxSessionCmds = 500

// maxSessionRefs bounds the start, end and transfer references a session
// keeps (a session has one start and one end; a log that repeats them, or
// a session with many transfers, must not grow without bound).
const maxSessionRefs = 8

type rmmRec struct {
	t                                time.Time
	action, host, op, src, tool, cmd string
	hostKey, opKey                   string // NormHost(host), lower(op): sort keys
	ref                              event.Ref
}

// Sessions rebuilds RMM sessions from rmm events seen in any order.
type Sessions struct {
	// KeepCommands makes the sessions carry their commands (up to 500
	// each); analyzers that only need the session windows leave it off.
	KeepCommands bool
	byID         map[string]*Session // host key + "\x00" + session id
	loose        Chunks[rmmRec]      // events without a session id, paired at Build
	in           Interner
}

// NewSessions returns an empty tracker.
func NewSessions() *Sessions {
	return &Sessions{byID: map[string]*Session{}, in: Interner{}}
}

// Observe takes one event; it reports whether it was an RMM event.
func (ss *Sessions) Observe(ev *event.Event) bool {
	if ev.Source != event.SourceRMM {
		return false
	}
	action := strings.ToLower(ev.Action)
	host := ev.Host
	tool := Tool(ev.Format)
	if p := ev.Process; p != "" && !strings.ContainsAny(p, `\/.`) {
		tool = strings.ToLower(p) // generic audit exports name the tool
	}
	if ev.SessionID == "" {
		ss.loose.Append(rmmRec{t: ev.Time, action: ss.in.Get(action), host: ss.in.Get(host), op: ss.in.Get(ev.Operator),
			src: ss.in.Get(ev.SrcIP), tool: ss.in.Get(tool), cmd: ss.cmdText(ev.CommandLine), ref: event.RefOf(ev),
			hostKey: ss.in.Get(NormHost(host)), opKey: ss.in.Get(strings.ToLower(ev.Operator))})
		return true
	}
	key := NormHost(host) + "\x00" + ev.SessionID
	s := ss.byID[key]
	if s == nil {
		s = &Session{ID: strings.Clone(ev.SessionID), Host: ss.in.Get(host), HostKey: NormHost(host), Start: ev.Time, End: ev.Time, Tool: ss.in.Get(tool)}
		ss.byID[key] = s
	}
	ss.add(s, action, ev.Time, ev.Operator, ev.SrcIP, ss.cmdText(ev.CommandLine), event.RefOf(ev))
	return true
}

// cmdText is the clipped, interned command text, or "" when commands are
// not kept.
func (ss *Sessions) cmdText(cmd string) string {
	if !ss.KeepCommands || cmd == "" {
		return ""
	}
	return ss.in.Get(Clip(cmd, 300))
}

func (ss *Sessions) add(s *Session, action string, t time.Time, op, src, cmd string, ref event.Ref) {
	s.Events++
	if s.Operator == "" && op != "" {
		s.Operator = ss.in.Get(op)
	}
	if s.SrcIP == "" && src != "" {
		s.SrcIP = ss.in.Get(src)
	}
	switch action {
	case event.ActionSessionStart:
		if !s.HasStart || t.Before(s.Start) {
			s.Start = t
		}
		s.HasStart = true
		if len(s.Refs) < maxSessionRefs {
			s.Refs = append(s.Refs, ref)
		}
	case event.ActionSessionEnd:
		if !s.HasEnd || t.After(s.End) {
			s.End = t
		}
		s.HasEnd = true
		if len(s.Refs) < maxSessionRefs {
			s.Refs = append(s.Refs, ref)
		}
	case event.ActionCommand:
		if strings.TrimSpace(cmd) != "" && len(s.Commands) < maxSessionCmds {
			s.Commands = append(s.Commands, Cmd{Time: t, Text: cmd, Ref: ref})
		}
	case event.ActionFileTransfer:
		s.Transfers++
		if len(s.Refs) < maxSessionRefs {
			s.Refs = append(s.Refs, ref)
		}
	}
	if !s.HasStart && t.Before(s.Start) {
		s.Start = t
	}
	if !s.HasEnd && t.After(s.End) {
		s.End = t
	}
}

// Build returns the sessions ordered by start, host and id. Events with
// no session id are paired per host and operator: a start opens a session
// that the next end closes. Such a session that overlaps one with an id on
// the same host, by the same operator, is the same session seen by a
// second log (the agent's Application events beside the console's audit
// export) and is merged into it.
func (ss *Sessions) Build() []*Session {
	out := make([]*Session, 0, len(ss.byID))
	for _, s := range ss.byID {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Session) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.HostKey+a.ID, b.HostKey+b.ID)
	})
	withID := len(out)
	loose := ss.loose.All()
	slices.SortStableFunc(loose, func(a, b rmmRec) int {
		if c := strings.Compare(a.hostKey, b.hostKey); c != 0 {
			return c
		}
		if c := strings.Compare(a.opKey, b.opKey); c != 0 {
			return c
		}
		return a.t.Compare(b.t)
	})
	// Starts, ends and anything naming its operator build the sessions;
	// events that name no operator (the agent's "Executed command" lines)
	// join whichever session on the host they fall into, afterwards.
	var cur *Session
	var orphans []rmmRec
	n := 0
	for _, r := range loose {
		if r.op == "" && r.action != event.ActionSessionStart && r.action != event.ActionSessionEnd {
			orphans = append(orphans, r)
			continue
		}
		hk := r.hostKey
		if cur != nil && (cur.HostKey != hk || !strings.EqualFold(cur.Operator, r.op) || r.action == event.ActionSessionStart || cur.HasEnd) {
			cur = nil
		}
		if cur == nil {
			n++
			cur = &Session{ID: fmt.Sprintf("%s-%s-%d", hk, r.t.UTC().Format("20060102T150405"), n), Host: r.host, HostKey: hk, Start: r.t, End: r.t, Tool: r.tool}
			out = append(out, cur)
		}
		ss.add(cur, r.action, r.t, r.op, r.src, r.cmd, r.ref)
	}
	out = mergeLoose(out, withID)
	slices.SortFunc(out, func(a, b *Session) int { return a.Start.Compare(b.Start) })
	attachOrphans(ss, out, orphans)
	for _, s := range out {
		s.Refs = SortRefs(s.Refs)
		slices.SortStableFunc(s.Commands, func(a, b Cmd) int { return a.Time.Compare(b.Time) })
	}
	slices.SortFunc(out, func(a, b *Session) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if c := strings.Compare(a.HostKey, b.HostKey); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// orphanQueue is one host's sessions (in start order) as orphans in time
// order see them: those that have started (with grace) by the current
// orphan and not yet ended (with grace) before it.
type orphanQueue struct {
	list  []*Session
	hi    int // list[:hi] have started by the last orphan
	alive []*Session
	last  time.Time
}

// attachOrphans gives each orphan (an RMM event naming no session or
// operator) to the first session, in start order, on its host whose span
// (two minutes' grace either side) contains it; joining stretches a
// session without a start or end, so a run of commands keeps it open.
//
// Orphans come per host in time order, so a session that ended before
// one orphan is out of reach of every later one, and one that starts
// after it is out of reach of it (its start can only have moved by an
// orphan it already contained): each orphan looks only at the sessions
// open around it, which keeps this linear in practice.
func attachOrphans(ss *Sessions, out []*Session, orphans []rmmRec) {
	const grace = 2 * time.Minute
	queues := map[string]*orphanQueue{}
	for _, s := range out {
		q := queues[s.HostKey]
		if q == nil {
			q = &orphanQueue{}
			queues[s.HostKey] = q
		}
		q.list = append(q.list, s)
	}
	for _, r := range orphans {
		q := queues[r.hostKey]
		if q == nil {
			continue
		}
		var chosen *Session
		if r.t.Before(q.last) { // not in time order: look at every session
			for _, s := range q.list {
				if s.Contains(r.t, grace) {
					chosen = s
					break
				}
			}
		} else {
			q.last = r.t
			for q.hi < len(q.list) && !q.list[q.hi].Start.Add(-grace).After(r.t) {
				q.alive = append(q.alive, q.list[q.hi])
				q.hi++
			}
			w := 0
			for _, s := range q.alive {
				if chosen == nil {
					if s.End.Add(grace).Before(r.t) {
						continue // ended before this orphan: out of reach for good
					}
					if s.Contains(r.t, grace) {
						chosen = s
					}
				}
				q.alive[w] = s
				w++
			}
			q.alive = q.alive[:w]
		}
		if chosen != nil {
			ss.add(chosen, r.action, r.t, "", r.src, r.cmd, r.ref)
		}
	}
}

// mergeLoose folds each id-less session (out[withID:]) into the first
// session with an id on the same host, by a compatible operator, whose
// span overlaps it (with two minutes' grace).
func mergeLoose(out []*Session, withID int) []*Session {
	const grace = 2 * time.Minute
	keep := out[:withID:withID]
	byHost := map[string][]*Session{}
	for _, s := range out[:withID] {
		byHost[s.HostKey] = append(byHost[s.HostKey], s)
	}
	for _, l := range out[withID:] {
		var into *Session
		for _, s := range byHost[l.HostKey] {
			if s.HostKey == l.HostKey && (l.Operator == "" || s.Operator == "" || strings.EqualFold(s.Operator, l.Operator)) &&
				!l.Start.After(s.End.Add(grace)) && !s.Start.After(l.End.Add(grace)) {
				into = s
				break
			}
		}
		if into == nil {
			keep = append(keep, l)
			continue
		}
		if l.Start.Before(into.Start) {
			into.Start = l.Start
		}
		if l.End.After(into.End) {
			into.End = l.End
		}
		into.HasStart = into.HasStart || l.HasStart
		into.HasEnd = into.HasEnd || l.HasEnd
		if into.Operator == "" {
			into.Operator = l.Operator
		}
		if into.SrcIP == "" {
			into.SrcIP = l.SrcIP
		}
		if into.Tool == "" || into.Tool == "rmm" {
			into.Tool = l.Tool
		}
		into.Commands = append(into.Commands, l.Commands...)
		into.Transfers += l.Transfers
		into.Events += l.Events
		into.Refs = append(into.Refs, l.Refs...)
	}
	return keep
}

// Verdict is how one session compares with the learned RMM pattern.
type Verdict struct {
	Out      bool   // out of pattern
	Score    int    // sum of the reasons' weights
	Timing   string // holiday | weekend | off-hours | ""
	Provider string // provider name the operator or source belongs to
	Reasons  []string
	// Baseline numbers, for Details.
	BaselineSessions   int
	OperatorSessions   int
	OperatorNearHour   int
	AllNearHour        int
	MedianDurationMin  float64
	DurationMin        float64
	KnownSourceForOper bool
}

// OutOfPatternScore is the score from which a session is out of pattern.
// Weights: weekend or holiday 3, off hours 2, operator without baseline
// sessions 2, operator never at this hour 2, nobody at this hour 1, new
// source 2, operator of no configured provider 1, unusual duration 1. An
// off-hours start alone is not enough when the operator works at that
// hour regularly; off hours and an unusual hour are; a new vendor in
// office hours (2+1) is not.
const OutOfPatternScore = 4

// Judge compares every session with the sessions that started in the
// baseline period (each one left out of its own baseline).
func Judge(cfg *caseconf.Config, sessions []*Session) []Verdict {
	if len(sessions) == 0 {
		return nil
	}
	first, last := sessions[0].Start, sessions[0].Start
	for _, s := range sessions {
		if s.Start.Before(first) {
			first = s.Start
		}
		if s.Start.After(last) {
			last = s.Start
		}
	}
	bf, bt, _ := Baseline(cfg, first, last)
	type opStat struct {
		n    int
		week Week
		srcs map[string]int
	}
	ops := map[string]*opStat{}
	var all Week
	var durs []float64
	nBase := 0
	inBase := func(s *Session) bool { return !s.Start.Before(bf) && s.Start.Before(bt) }
	for _, s := range sessions {
		if !inBase(s) {
			continue
		}
		nBase++
		k := strings.ToLower(s.Operator)
		o := ops[k]
		if o == nil {
			o = &opStat{srcs: map[string]int{}}
			ops[k] = o
		}
		o.n++
		o.week.Add(cfg, s.Start)
		all.Add(cfg, s.Start)
		if s.SrcIP != "" {
			o.srcs[s.SrcIP]++
		}
		durs = append(durs, s.Duration().Minutes())
	}
	medDur, madDur := MedianMAD(durs)
	out := make([]Verdict, len(sessions))
	for i, s := range sessions {
		v := &out[i]
		self := inBase(s)
		k := strings.ToLower(s.Operator)
		o := ops[k]
		v.BaselineSessions = nBase
		v.Timing = Timing(cfg, s.Start)
		v.Provider = SessionProvider(cfg, s)
		switch v.Timing {
		case "weekend", "holiday":
			v.Score += 3
			v.Reasons = append(v.Reasons, fmt.Sprintf("started %s", When(cfg, s.Start)))
		case "off-hours":
			v.Score += 2
			v.Reasons = append(v.Reasons, fmt.Sprintf("started %s, outside business hours %s–%s", When(cfg, s.Start), cfg.BusinessHours.Start, cfg.BusinessHours.End))
		}
		opN, near, allNear := 0, 0, all.Near(cfg, s.Start)
		if self {
			allNear--
		}
		if o != nil {
			opN = o.n
			near = o.week.Near(cfg, s.Start)
			if self {
				opN--
				near--
			}
		}
		v.OperatorSessions, v.OperatorNearHour, v.AllNearHour = opN, near, allNear
		dayKind := "business days"
		if cfg.Weekend(s.Start) || cfg.Holiday(s.Start) {
			dayKind = "non-business days"
		}
		if opN == 0 {
			v.Score += 2
			v.Reasons = append(v.Reasons, fmt.Sprintf("operator %q has no other session in the baseline (%d sessions)", s.Operator, nBase))
		} else if near == 0 {
			v.Score += 2
			v.Reasons = append(v.Reasons, fmt.Sprintf("operator %q: 0 of %d baseline sessions within ±1 h of %s on %s", s.Operator, opN, cfg.Local(s.Start).Format("15:04"), dayKind))
		}
		if allNear == 0 && opN > 0 {
			v.Score++
			v.Reasons = append(v.Reasons, fmt.Sprintf("no baseline session of any operator within ±1 h on %s (%d sessions)", dayKind, nBase))
		}
		if s.SrcIP != "" && o != nil {
			seen := o.srcs[s.SrcIP]
			if self {
				seen--
			}
			v.KnownSourceForOper = seen > 0
			if seen <= 0 {
				if _, prov := cfg.ProviderIP(s.SrcIP); !prov {
					v.Score += 2
					v.Reasons = append(v.Reasons, fmt.Sprintf("source %s not seen for this operator in the baseline (%d known sources) and not in a provider network", s.SrcIP, len(o.srcs)))
				}
			}
		}
		if len(cfg.Providers) > 0 && v.Provider == "" && s.Operator != "" {
			v.Score++
			v.Reasons = append(v.Reasons, fmt.Sprintf("operator %q matches no configured provider", s.Operator))
		}
		v.DurationMin = s.Duration().Minutes()
		v.MedianDurationMin = medDur
		if len(durs) >= 5 && v.DurationMin > 10 && v.DurationMin > 2*medDur && v.DurationMin > medDur+5*1.4826*madDur {
			v.Score++
			v.Reasons = append(v.Reasons, fmt.Sprintf("lasted %.0f min, baseline median %.0f min (MAD %.0f)", v.DurationMin, medDur, madDur))
		}
		v.Out = v.Score >= OutOfPatternScore
	}
	return out
}

// SessionProvider names the provider a session belongs to: by operator,
// by source network, or by tool when exactly one provider uses it (an
// RMM tool's operator is often an ID number, not a name).
func SessionProvider(cfg *caseconf.Config, s *Session) string {
	if p, ok := cfg.ProviderOperator(s.Operator); ok {
		return p.Name
	}
	if p, ok := cfg.ProviderIP(s.SrcIP); ok {
		return p.Name
	}
	name := ""
	for _, p := range cfg.Providers {
		for _, t := range p.RMMTools {
			if strings.EqualFold(t, s.Tool) {
				if name != "" && name != p.Name {
					return ""
				}
				name = p.Name
			}
		}
	}
	return name
}

// MedianMAD returns the median and the median absolute deviation of xs
// (robust against the outliers the analyzers look for). xs is reordered.
func MedianMAD(xs []float64) (med, mad float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	med = median(xs)
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - med)
	}
	return med, median(dev)
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// SessionWindow finds, for times asked in non-decreasing order, the first
// of some sessions (ordered by start, as Build returns them) whose span
// with grace contains each time, looking only at the sessions open
// around it. Times asked out of order are answered by a full walk.
type SessionWindow struct {
	sessions []*Session
	idx      []int // the sessions to consider, as indexes, in start order
	grace    time.Duration
	hi       int   // idx[:hi] have started (with grace) by the last time
	alive    []int // of those, the ones not ended before it, in order
	last     time.Time
}

// NewSessionWindow looks among sessions[i] for i in idx.
func NewSessionWindow(sessions []*Session, idx []int, grace time.Duration) *SessionWindow {
	return &SessionWindow{sessions: sessions, idx: idx, grace: grace}
}

// Find returns the index (in sessions) of the first session containing
// t, or -1.
func (w *SessionWindow) Find(t time.Time) int {
	if t.Before(w.last) {
		for _, i := range w.idx {
			if w.sessions[i].Contains(t, w.grace) {
				return i
			}
		}
		return -1
	}
	w.last = t
	for w.hi < len(w.idx) && !w.sessions[w.idx[w.hi]].Start.Add(-w.grace).After(t) {
		w.alive = append(w.alive, w.idx[w.hi])
		w.hi++
	}
	found := -1
	n := 0
	for _, i := range w.alive {
		s := w.sessions[i]
		if found < 0 {
			if s.End.Add(w.grace).Before(t) {
				continue // ended before t: before every later time too
			}
			if s.Contains(t, w.grace) {
				found = i
			}
		}
		w.alive[n] = i
		n++
	}
	w.alive = w.alive[:n]
	return found
}
