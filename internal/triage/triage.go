// Package triage judges every finding of a hunt (rule, Sigma or
// analyzer) in the case's context, after the scan and before incidents:
//
//   - inside an RMM session that is out of pattern (rmmsessions' verdict:
//     operator, hours, source, duration against the baseline) the finding
//     is kept, joined to the session, and raised from low to medium;
//   - inside an in-pattern provider session (known operator at a usual
//     hour from a known or no source), and done as an identity the
//     session acts as (system, machine, the operator, a provider
//     account), it is demoted, the session named;
//   - when the same rule fired on the same normalised shape (Shape), for
//     the same account, throughout the baseline period on several days or
//     hosts, it is demoted as routine, with the numbers.
//
// Demoted findings drop to info and keep their original severity and the
// reason, so nothing is deleted and an incident needs a finding that is
// medium or higher after triage. Judgement rests on context only — the
// sessions, the identities they act as, and the baseline — never on a
// host, user, path or tool name that happens to be in the evidence.
package triage

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/parallel"
)

// grace tolerates clock skew between the RMM log and Windows (as
// rmmsessions does).
const grace = 2 * time.Minute

// Baseline thresholds: a shape is routine when it was seen, leaving the
// judged finding itself out, on at least minDays days spread over at
// least minSpread (throughout the baseline, not one bad afternoon), or on
// at least minHosts hosts on at least two days (fleet-wide, not one push
// to many hosts at once, which is what a mass deployment looks like).
const (
	minHosts  = 3
	minDays   = 3
	minSpread = 7 * 24 * time.Hour
)

// minOperatorSessions is the baseline an operator of no configured
// provider needs before their sessions vouch for anything.
const minOperatorSessions = 3

// Sessions reads the RMM sessions of a hunt, built and judged once in ss
// (the set the analyzers share), with triage's reading of each.
func Sessions(cfg *caseconf.Config, ss *akit.SessionSet) []Session {
	if cfg == nil {
		cfg = caseconf.Default()
	}
	sessions, verdicts := ss.Built()
	out := make([]Session, len(sessions))
	for i, s := range sessions {
		out[i] = Session{S: s, V: verdicts[i], InPattern: InPattern(cfg, s, &verdicts[i])}
	}
	return out
}

// Session is an RMM session with rmmsessions' verdict and triage's
// reading of it.
type Session struct {
	S *akit.Session
	V akit.Verdict
	// InPattern: a provider's session at a usual hour by a known operator
	// from a known source (or none logged); see InPattern.
	InPattern bool
}

// InPattern says whether a session vouches for what happened in it: not
// out of pattern, of a configured provider or an operator with a
// baseline, whose operator had other baseline sessions near this hour
// (or it is in business hours), from a source known for the operator or
// in a provider network, or from no logged source.
func InPattern(cfg *caseconf.Config, s *akit.Session, v *akit.Verdict) bool {
	if v.Out || s.Operator == "" || v.OperatorSessions < 1 {
		return false
	}
	if v.Provider == "" && v.OperatorSessions < minOperatorSessions {
		return false
	}
	if v.Timing != "" && v.OperatorNearHour < 1 {
		return false
	}
	if s.SrcIP != "" && !v.KnownSourceForOper {
		if _, ok := cfg.ProviderIP(s.SrcIP); !ok {
			return false
		}
	}
	return true
}

// Stats counts what triage did.
type Stats struct {
	Judged          int // findings looked at (low and above)
	DemotedSession  int // demoted inside an in-pattern provider session
	DemotedBaseline int // demoted as routine in the baseline
	Joined          int // joined to an out-of-pattern session
	Raised          int // of those, raised from low to medium
	// Unusual counts findings inside an in-pattern provider session that
	// the provider's baseline sessions never showed: kept, with a note.
	Unusual int
}

// String is the one-line summary of Stats.
func (s Stats) String() string {
	return fmt.Sprintf("triage: %d findings judged, %d demoted in in-pattern provider sessions, %d demoted as baseline routine, %d joined to out-of-pattern sessions (%d raised), %d kept as unusual for in-pattern sessions",
		s.Judged, s.DemotedSession, s.DemotedBaseline, s.Joined, s.Raised, s.Unusual)
}

// Apply judges findings in place (see the package comment). sessions
// come from a Collector over the same hunt; findings must be in a
// deterministic order (the result does not depend on it otherwise).
func Apply(cfg *caseconf.Config, findings []event.Finding, sessions []Session) Stats {
	if cfg == nil {
		cfg = caseconf.Default()
	}
	// Which session each finding falls in and the baseline are gathered
	// side by side: both only read the findings.
	var at []match
	var base *baseline
	parallel.Both(func() { at = sessionsAt(sessions, findings) }, func() { base = newBaseline(cfg, findings) })
	usual := sessionHabits(cfg, findings, sessions, at, base)
	desc := make([]string, len(sessions))
	for i := range sessions {
		desc[i] = describe(cfg, &sessions[i])
	}
	// Each finding is judged on its own against what was gathered above
	// (read only), so the judging is split across the cores.
	const chunk = 4096
	parts := make([]Stats, (len(findings)+chunk-1)/chunk)
	parallel.Chunks(len(findings), chunk, func(lo, hi int) {
		st := &parts[lo/chunk]
		for i := lo; i < hi; i++ {
			judge(cfg, &findings[i], at[i], sessions, desc, base, usual, st)
		}
	})
	var st Stats
	for _, p := range parts {
		st.Judged += p.Judged
		st.DemotedSession += p.DemotedSession
		st.DemotedBaseline += p.DemotedBaseline
		st.Joined += p.Joined
		st.Raised += p.Raised
		st.Unusual += p.Unusual
	}
	return st
}

// judge is Apply's verdict on one finding, counted in st; desc describes
// each session.
func judge(cfg *caseconf.Config, f *event.Finding, m match, sessions []Session, desc []string, base *baseline, usual habits, st *Stats) {
	if event.Rank(f.Severity) <= event.Rank(event.SevInfo) {
		return
	}
	st.Judged++
	var out, in *Session
	var outDesc, inDesc string
	if m.out >= 0 {
		out, outDesc = &sessions[m.out], desc[m.out]
	} else if m.in >= 0 {
		in, inDesc = &sessions[m.in], desc[m.in]
	}
	switch {
	case out != nil:
		st.Joined++
		f.SeverityOriginal = f.Severity
		verb := "kept"
		if f.Severity == event.SevLow {
			f.Severity = event.SevMedium
			verb = "raised"
			st.Raised++
		}
		if f.SessionID == "" {
			f.SessionID = out.S.ID
		}
		f.Triage = fmt.Sprintf("%s: inside out-of-pattern RMM session %s (%s)", verb, out.S.ID, outDesc)
	case in != nil && actsAs(cfg, in, f.User):
		if n := usual.others(f, m.in); n >= minSessionRepeats {
			st.DemotedSession++
			demote(f, fmt.Sprintf("demoted: inside in-pattern provider RMM session %s (%s); the same seen in %d of the provider's baseline sessions", in.S.ID, inDesc, n))
			break
		}
		if why := base.routine(f); why != "" {
			st.DemotedBaseline++
			demote(f, "demoted: "+why)
			break
		}
		st.Unusual++
		f.SeverityOriginal = f.Severity
		f.Triage = fmt.Sprintf("kept: inside in-pattern provider RMM session %s (%s), but none of the provider's baseline sessions did the same", in.S.ID, inDesc)
	default:
		if why := base.routine(f); why != "" {
			st.DemotedBaseline++
			demote(f, "demoted: "+why)
		}
	}
}

// minSessionRepeats is how many of the provider's other baseline
// sessions must show the same rule, shape and account before a session
// vouches for it: an in-pattern session explains the provider's habits,
// not a one-off (a compromised provider can work in office hours from
// its own network).
const minSessionRepeats = 2

// habits maps a baseline key to the in-pattern baseline sessions (by
// index) whose findings had it.
type habits map[baseKey]map[int]bool

// sessionHabits collects, for findings inside in-pattern sessions that
// started in the baseline period, which sessions showed which key.
func sessionHabits(cfg *caseconf.Config, findings []event.Finding, sessions []Session, at []match, b *baseline) habits {
	h := habits{}
	for i := range findings {
		j := at[i].in
		if j < 0 || at[i].out >= 0 {
			continue
		}
		s := &sessions[j]
		if s.S.Start.Before(b.from) || !s.S.Start.Before(b.to) || !actsAs(cfg, s, findings[i].User) {
			continue
		}
		k := key(&findings[i])
		if h[k] == nil {
			h[k] = map[int]bool{}
		}
		h[k][j] = true
	}
	return h
}

// others counts the baseline sessions other than own that showed f's key.
func (h habits) others(f *event.Finding, own int) int {
	m := h[key(f)]
	n := len(m)
	if m[own] {
		n--
	}
	return n
}

// actsAs says whether a finding's identity is one an RMM session acts
// as: none recorded, a system or machine account (the agent's service),
// the session's operator, or a provider identity. Another account's
// activity during a provider's session is not explained by it.
func actsAs(cfg *caseconf.Config, s *Session, user string) bool {
	u := strings.ToLower(strings.TrimSpace(user))
	if i := strings.LastIndexAny(u, `\`); i >= 0 {
		u = u[i+1:]
	}
	if j := strings.IndexByte(u, '@'); j > 0 {
		u = u[:j]
	}
	switch {
	case u == "" || u == "-" || u == "system" || u == "local service" || u == "network service" || strings.HasSuffix(u, "$"):
		return true
	case s.S.Operator != "" && strings.EqualFold(u, s.S.Operator):
		return true
	}
	if _, ok := cfg.Provider(user); ok {
		return true
	}
	_, ok := cfg.ProviderOperator(user)
	return ok
}

func demote(f *event.Finding, why string) {
	f.SeverityOriginal = f.Severity
	f.Severity = event.SevInfo
	f.Triage = why
}

// match is what sessionsAt found for one finding: indexes into the
// session list, -1 for none.
type match struct{ out, in int }

// sessionsAt finds, for every finding, the out-of-pattern and the
// in-pattern session (the first of each in the session list) on the
// finding's host whose span, with grace, contains the finding's time. A
// finding that names a session is judged by that session only, and never
// vouched for by it: an analyzer's finding about a session is a second
// opinion on it, not something it explains.
//
// Per host, findings are swept in time order past the sessions in start
// order, keeping those open around the current time: n log n for the
// sorts, plus the sessions open at each finding.
func sessionsAt(sessions []Session, findings []event.Finding) []match {
	res := make([]match, len(findings))
	byHost := map[string][]int{}
	byID := map[string][]int{}
	for i := range sessions {
		byHost[sessions[i].S.HostKey] = append(byHost[sessions[i].S.HostKey], i)
		byID[sessions[i].S.ID] = append(byID[sessions[i].S.ID], i)
	}
	fByHost := map[string][]int{}
	for i := range findings {
		res[i] = match{-1, -1}
		f := &findings[i]
		hk := akit.NormHost(f.Host)
		if f.SessionID != "" {
			for _, j := range byID[f.SessionID] {
				if s := &sessions[j]; s.S.HostKey == hk && s.V.Out && s.S.Contains(f.Time, grace) && (res[i].out < 0 || j < res[i].out) {
					res[i].out = j
				}
			}
			continue
		}
		if byHost[hk] != nil {
			fByHost[hk] = append(fByHost[hk], i)
		}
	}
	for hk, fi := range fByHost {
		si := byHost[hk]
		sort.SliceStable(si, func(a, b int) bool { return sessions[si[a]].S.Start.Before(sessions[si[b]].S.Start) })
		sort.SliceStable(fi, func(a, b int) bool { return findings[fi[a]].Time.Before(findings[fi[b]].Time) })
		next := 0
		var open []int
		for _, i := range fi {
			t := findings[i].Time
			for next < len(si) && !sessions[si[next]].S.Start.Add(-grace).After(t) {
				open = append(open, si[next])
				next++
			}
			n := 0
			for _, j := range open {
				s := &sessions[j]
				if s.S.End.Add(grace).Before(t) {
					continue // ended before t, so before every later finding too
				}
				open[n] = j
				n++
				if s.V.Out {
					if res[i].out < 0 || j < res[i].out {
						res[i].out = j
					}
				} else if s.InPattern && (res[i].in < 0 || j < res[i].in) {
					res[i].in = j
				}
			}
			open = open[:n]
		}
	}
	return res
}

func describe(cfg *caseconf.Config, s *Session) string {
	parts := []string{akit.OrDash(s.S.Tool), "operator " + akit.OrDash(s.S.Operator)}
	if s.S.SrcIP != "" {
		parts = append(parts, "from "+s.S.SrcIP)
	}
	parts = append(parts, fmt.Sprintf("%s – %s", cfg.Local(s.S.Start).Format("Mon 2006-01-02 15:04"), cfg.Local(s.S.End).Format("15:04 MST")))
	if s.V.Provider != "" {
		parts = append(parts, "provider "+s.V.Provider)
	}
	if s.V.Out {
		parts = append(parts, strings.Join(s.V.Reasons, "; "))
	} else {
		parts = append(parts, fmt.Sprintf("operator's baseline: %d sessions, %d near this hour", s.V.OperatorSessions, s.V.OperatorNearHour))
	}
	return strings.Join(parts, ", ")
}

// baseline counts, per rule and shape, the findings in the baseline
// period: how many, on which hosts, on which days.
type baseline struct {
	cfg    *caseconf.Config
	from   time.Time
	to     time.Time
	shapes map[baseKey]*shapeStat
}

type shapeStat struct {
	n           int
	hosts       map[string]int
	days        map[int]int // by day in the case zone (baseline.day)
	first, last time.Time
}

// key is what the baseline counts: the rule, the shape and the kind of
// identity that did it (the account, or "system" and "machine" for the
// accounts services and agents run as), so an admin's routine does not
// vouch for the same command run by another account. It is a struct,
// not the three joined: triage looks a key up two or three times for
// each of a hunt's findings, and joining them allocated every time.
func key(f *event.Finding) baseKey { return baseKey{f.RuleID, f.Shape, identity(f.User)} }

// baseKey is a baseline key (see key).
type baseKey struct{ rule, shape, who string }

// identity normalises an account for the baseline key.
func identity(user string) string {
	u := strings.ToLower(strings.TrimSpace(user))
	if i := strings.LastIndexAny(u, `\`); i >= 0 {
		u = u[i+1:]
	}
	switch {
	case u == "system" || u == "local service" || u == "network service":
		return "system"
	case strings.HasSuffix(u, "$"):
		return "machine"
	}
	return u
}

func newBaseline(cfg *caseconf.Config, findings []event.Finding) *baseline {
	b := &baseline{cfg: cfg, shapes: map[baseKey]*shapeStat{}}
	var first, last time.Time
	for i := range findings {
		t := findings[i].Time
		if t.IsZero() {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	var ok bool
	b.from, b.to, ok = akit.Baseline(cfg, first, last)
	if !ok {
		return b
	}
	for i := range findings {
		f := &findings[i]
		if !b.in(f) {
			continue
		}
		k := key(f)
		s := b.shapes[k]
		if s == nil {
			s = &shapeStat{hosts: map[string]int{}, days: map[int]int{}, first: f.Time, last: f.Time}
			b.shapes[k] = s
		}
		s.n++
		s.hosts[akit.NormHost(f.Host)]++
		s.days[b.day(f.Time)]++
		if f.Time.Before(s.first) {
			s.first = f.Time
		}
		if f.Time.After(s.last) {
			s.last = f.Time
		}
	}
	return b
}

// in says whether a finding counts for the baseline: a single-event
// rule's finding with a shape, in the baseline period.
func (b *baseline) in(f *event.Finding) bool {
	return f.Shape != "" && !f.Time.Before(b.from) && f.Time.Before(b.to)
}

// day numbers t's day in the case zone (year and day of the year: no
// formatting for every finding).
func (b *baseline) day(t time.Time) int {
	l := b.cfg.Local(t)
	return l.Year()*1000 + l.YearDay()
}

// routine says why a finding is routine in the baseline, or "". A finding
// in the baseline period is left out of its own counts.
func (b *baseline) routine(f *event.Finding) string {
	if f.Shape == "" {
		return ""
	}
	s := b.shapes[key(f)]
	if s == nil {
		return ""
	}
	n, hosts, days := s.n, len(s.hosts), len(s.days)
	if b.in(f) {
		n--
		if s.hosts[akit.NormHost(f.Host)] == 1 {
			hosts--
		}
		if s.days[b.day(f.Time)] == 1 {
			days--
		}
	}
	manyDays := days >= minDays && s.last.Sub(s.first) >= minSpread
	manyHosts := hosts >= minHosts && days >= 2
	if !manyDays && !manyHosts {
		return ""
	}
	return fmt.Sprintf("routine in the baseline: the same rule on the same normalised image, parent and command line, by the same account, was seen %d times in the baseline (%s – %s) on %d hosts over %d days",
		n, b.cfg.Local(b.from).Format("2006-01-02"), b.cfg.Local(b.to).Format("2006-01-02"), hosts, days)
}
