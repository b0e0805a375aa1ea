// Package offhours flags provider identities (case config: account
// patterns, networks, RMM operators) logging on or opening RMM sessions
// outside business hours, on weekends and holidays (case time zone,
// DST-correct) and outside the identity's own pattern learned from the
// baseline period. Bursts of logons are grouped into one finding per
// session. See README.md.
package offhours

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Name is the analyzer's name in findings.
const Name = "offhours"

// SessionGap splits one identity's logons on one host into sessions.
const SessionGap = 30 * time.Minute

// bucket is the provider logons of one identity on one host within one
// SessionGap-long slot: logons are counted, not kept, so memory follows
// the number of sessions rather than the number of logons.
type bucket struct {
	identity, user, provider, host, hostKey, src string
	first, last                                  time.Time
	ok, failed                                   int32
	kinds                                        []kindCount
	refs                                         []event.Ref
}

type kindCount struct {
	kind string
	n    int32
}

type bucketKey struct {
	identity, hostKey string
	slot              int64
}

// maxBucketRefs bounds the references kept per bucket: enough to point at
// the session's logons, few enough that a provider account logging on
// everywhere all month stays small. Office-hours buckets keep one.
const maxBucketRefs = 3

// Analyzer is the offhours analyzer; build it with New.
type Analyzer struct {
	cfg      *caseconf.Config
	sessions akit.SessionSource
	buckets  map[bucketKey]*bucket
	in       akit.Interner
	lower    *akit.Memo1 // strings.ToLower of the last channel
	host     *akit.Memo1 // akit.NormHost of the last host
}

// New returns an offhours analyzer for a case that rebuilds the RMM sessions
// from the events it observes itself (tests, one analyzer alone).
func New(cfg *caseconf.Config) *Analyzer { return NewWith(cfg, nil) }

// NewWith returns an offhours analyzer that reads the RMM sessions of ss, fed
// by the hunt (analyzers.All shares one set among its analyzers); ss nil
// is New.
func NewWith(cfg *caseconf.Config, ss *akit.SessionSet) *Analyzer {
	return &Analyzer{lower: akit.NewMemo1(strings.ToLower), host: akit.NewMemo1(akit.NormHost), cfg: cfg, sessions: akit.UseSessions(cfg, ss), buckets: map[bucketKey]*bucket{}, in: akit.Interner{}}
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
	var usr, src, kind string
	failed := false
	switch {
	case strings.Contains(ch, "security") && (ev.EventID == 4624 || ev.EventID == 4625):
		usr = firstOf(ev, ev.User, "TargetUserName")
		src = firstOf(ev, ev.SrcIP, "IpAddress")
		lt := ev.LogonType.V
		kind = fmt.Sprintf("%d type %d", ev.EventID, lt)
		failed = ev.EventID == 4625
	case strings.Contains(ch, "security") && ev.EventID == 4648:
		usr = firstOf(ev, ev.User, "TargetUserName")
		src = firstOf(ev, ev.SrcIP, "IpAddress")
		kind = "4648 explicit credentials"
	case strings.Contains(ch, "security") && ev.EventID == 4778:
		usr = firstOf(ev, ev.User, "AccountName")
		src = firstOf(ev, ev.SrcIP, "ClientAddress")
		kind = "4778 reconnect"
	case ev.EventID == 1149 && strings.Contains(ch, "terminalservices"):
		usr = firstOf(ev, ev.User, "Param1")
		src = firstOf(ev, ev.SrcIP, "Param3")
		kind = "1149 RDP authentication"
	case (ev.EventID == 21 || ev.EventID == 25) && strings.Contains(ch, "terminalservices"):
		usr = firstOf(ev, ev.User, "User")
		src = firstOf(ev, ev.SrcIP, "Address")
		kind = fmt.Sprintf("%d RDP session", ev.EventID)
	default:
		return
	}
	if usr == "" || usr == "-" || strings.HasSuffix(usr, "$") {
		return
	}
	p, ok := a.cfg.Provider(usr)
	if !ok {
		if dom := firstOf(ev, ev.UserDomain, "TargetDomainName"); dom != "" {
			p, ok = a.cfg.Provider(dom + `\` + usr)
		}
	}
	if !ok {
		p, ok = a.cfg.ProviderIP(src)
		if ok && isBuiltin(usr) {
			ok = false
		}
	}
	if !ok {
		return
	}
	id := akit.BareUser(usr)
	hk := a.host.Get(ev.Host)
	k := bucketKey{id, hk, ev.Time.UnixNano() / int64(SessionGap)}
	b := a.buckets[k]
	if b == nil {
		b = &bucket{identity: a.in.Get(id), user: a.in.Get(usr), provider: a.in.Get(p.Name), host: a.in.Get(ev.Host), hostKey: a.in.Get(hk),
			src: a.in.Get(src), first: ev.Time, last: ev.Time}
		k.identity, k.hostKey = b.identity, b.hostKey
		a.buckets[k] = b
	}
	if ev.Time.Before(b.first) {
		b.first = ev.Time
	}
	if ev.Time.After(b.last) {
		b.last = ev.Time
	}
	if failed {
		b.failed++
	} else {
		b.ok++
	}
	found := false
	for i := range b.kinds {
		if b.kinds[i].kind == kind {
			b.kinds[i].n++
			found = true
			break
		}
	}
	if !found {
		b.kinds = append(b.kinds, kindCount{a.in.Get(kind), 1})
	}
	if n := len(b.refs); n < maxBucketRefs && (n == 0 || !a.cfg.InBusinessHours(ev.Time)) {
		b.refs = append(b.refs, event.RefOf(ev))
	}
}

func isBuiltin(u string) bool {
	switch akit.BareUser(u) {
	case "system", "anonymous logon", "local service", "network service", "dwm-1", "umfd-0", "umfd-1":
		return true
	}
	return false
}

// group is one session of one identity: a burst of logons or an RMM
// session.
type group struct {
	identity, user, provider, host, src string
	start, end                          time.Time
	buckets                             []*bucket
	rmm                                 *akit.Session
}

// Finish implements analyzers.Analyzer.
func (a *Analyzer) Finish() []event.Finding {
	bs := make([]*bucket, 0, len(a.buckets))
	for _, b := range a.buckets {
		bs = append(bs, b)
	}
	slices.SortFunc(bs, func(x, y *bucket) int {
		if c := strings.Compare(x.identity, y.identity); c != 0 {
			return c
		}
		if c := strings.Compare(x.hostKey, y.hostKey); c != 0 {
			return c
		}
		return x.first.Compare(y.first)
	})
	var groups []*group
	var cur *group
	for _, b := range bs {
		if cur == nil || cur.identity != b.identity || akit.NormHost(cur.host) != b.hostKey || b.first.Sub(cur.end) > SessionGap {
			cur = &group{identity: b.identity, user: b.user, provider: b.provider, host: b.host, src: b.src, start: b.first, end: b.last}
			groups = append(groups, cur)
		}
		if b.last.After(cur.end) {
			cur.end = b.last
		}
		if cur.src == "" {
			cur.src = b.src
		}
		cur.buckets = append(cur.buckets, b)
	}
	sessions, _ := a.sessions.Built()
	for _, s := range sessions {
		pname := akit.SessionProvider(a.cfg, s)
		if pname == "" && len(a.cfg.Providers) == 0 && s.Operator != "" {
			// Without a case file every RMM operator is external: the
			// RMM tool is how a provider reaches the company.
			pname = "RMM operator"
		}
		if pname == "" {
			continue
		}
		groups = append(groups, &group{identity: "rmm:" + strings.ToLower(s.Operator), user: s.Operator, provider: pname, host: s.Host, src: s.SrcIP, start: s.Start, end: s.End, rmm: s})
	}
	if len(groups) == 0 {
		return nil
	}
	first, last := groups[0].start, groups[0].start
	for _, g := range groups {
		if g.start.Before(first) {
			first = g.start
		}
		if g.start.After(last) {
			last = g.start
		}
	}
	bf, bt, _ := akit.Baseline(a.cfg, first, last)
	inBase := func(g *group) bool { return !g.start.Before(bf) && g.start.Before(bt) }
	weeks := map[string]*akit.Week{}
	counts := map[string]int{}
	for _, g := range groups {
		if !inBase(g) {
			continue
		}
		w := weeks[g.identity]
		if w == nil {
			w = &akit.Week{}
			weeks[g.identity] = w
		}
		w.Add(a.cfg, g.start)
		counts[g.identity]++
	}
	var out []event.Finding
	for _, g := range groups {
		if f, ok := a.finding(g, weeks[g.identity], counts[g.identity], inBase(g), bf, bt); ok {
			out = append(out, f)
		}
	}
	akit.Sort(out)
	return out
}

func (a *Analyzer) finding(g *group, w *akit.Week, n int, self bool, bf, bt time.Time) (event.Finding, bool) {
	cfg := a.cfg
	timing := akit.Timing(cfg, g.start)
	near := 0
	if w != nil {
		near = w.Near(cfg, g.start)
	}
	if self {
		n--
		near--
	}
	outside := near <= 0
	if timing == "" && (!outside || n < 5) {
		// In business hours and either usual for this identity or too
		// little history to call anything unusual.
		return event.Finding{}, false
	}
	failed, ok := 0, 0
	kinds := map[string]int{}
	var refs []event.Ref
	for _, b := range g.buckets {
		failed += int(b.failed)
		ok += int(b.ok)
		for _, kc := range b.kinds {
			kinds[kc.kind] += int(kc.n)
		}
		refs = append(refs, b.refs...)
	}
	if g.rmm != nil {
		refs = append(refs, g.rmm.Refs...)
	}
	sev := event.SevLow
	switch {
	case timing != "" && outside && ok == 0 && g.rmm == nil:
		sev = event.SevMedium // only failures: tried, did not get in
	case timing != "" && outside:
		sev = event.SevHigh
	case timing == "" && outside:
		sev = event.SevLow
	case timing != "":
		// Off hours, but this identity works then: part of the provider
		// access picture, not a lead.
		sev = event.SevInfo
	}
	dayKind := "business days"
	if cfg.Weekend(g.start) || cfg.Holiday(g.start) {
		dayKind = "non-business days"
	}
	var why []string
	if timing != "" {
		why = append(why, fmt.Sprintf("%s: %s, business hours %s %s–%s (%s)", timing, akit.When(cfg, g.start), strings.Join(cfg.BusinessHours.Days, ","), cfg.BusinessHours.Start, cfg.BusinessHours.End, cfg.Location()))
	}
	why = append(why, fmt.Sprintf("%d of the identity's %d baseline sessions started within ±1 h of %s on %s (baseline %s – %s)",
		max(near, 0), max(n, 0), cfg.Local(g.start).Format("15:04"), dayKind, cfg.Local(bf).Format("2006-01-02"), cfg.Local(bt).Format("2006-01-02")))
	rule, title, what := "offhours.provider_logon", "Provider logon", ""
	if g.rmm != nil {
		rule, title = "offhours.provider_rmm_session", "Provider RMM session"
		what = fmt.Sprintf("%s session %s on %s by operator %s from %s, %s – %s", akit.OrDash(g.rmm.Tool), g.rmm.ID, g.host, g.user, akit.OrDash(g.src),
			cfg.Local(g.start).Format("Mon 2006-01-02 15:04"), cfg.Local(g.end).Format("15:04 MST"))
	} else {
		var ks []string
		for k, c := range kinds {
			ks = append(ks, fmt.Sprintf("%s ×%d", k, c))
		}
		sort.Strings(ks)
		what = fmt.Sprintf("%s (%s) on %s: %s (%d failed) from %s, %s – %s [%s]", g.user, g.provider, g.host, akit.Plural(ok+failed, "logon"), failed, akit.OrDash(g.src),
			cfg.Local(g.start).Format("Mon 2006-01-02 15:04"), cfg.Local(g.end).Format("15:04 MST"), strings.Join(ks, ", "))
	}
	switch {
	case timing != "" && outside:
		title += " outside business hours and outside the identity's pattern"
	case timing != "":
		title += " outside business hours (usual for this identity)"
	default:
		title += " at an hour unusual for this identity"
	}
	if timing != "" {
		title += " (" + timing + ")"
	}
	refs = akit.CapRefs(akit.SortRefs(refs), akit.MaxRefs)
	f := event.Finding{
		Time: g.start, End: g.end, RuleID: rule, Title: title, Severity: sev, Tags: []string{"attack.t1078", "attack.t1133"},
		Host: g.host, User: g.user, Summary: what, Reason: strings.Join(why, "; "), Analyzer: Name,
		Details: akit.Details("logons", ok, "failed", failed, "baseline_sessions", max(n, 0), "baseline_near_hour", max(near, 0),
			"weekend", akit.B2I(timing == "weekend"), "holiday", akit.B2I(timing == "holiday"), "off_hours", akit.B2I(timing != ""), "duration_min", akit.Round1(g.end.Sub(g.start).Minutes())),
		Refs: refs,
	}
	if g.rmm != nil {
		f.SessionID = g.rmm.ID
		f.Tags = []string{"attack.t1133", "attack.t1219"}
	}
	return f, true
}

// Wants implements analyzers.Selective: the logon kinds Observe counts,
// with every column, and the RMM events when it builds its own sessions.
func (a *Analyzer) Wants() akit.Wants {
	return a.sessions.Want(akit.Wants{
		{Source: event.SourceEVTX, ChannelHas: "security", IDs: []int32{4624, 4625, 4648, 4778}},
		{Source: event.SourceEVTX, ChannelHas: "terminalservices", IDs: []int32{1149, 21, 25}},
	})
}

// firstOf reads values the Windows way (trimmed, "-" is none).
var firstOf = akit.ValueOr
