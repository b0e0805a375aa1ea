// Package incident joins findings on the same host and identity, close in
// time, into incidents with a short narrative.
package incident

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Gap is how far apart two findings on one host may be and still belong
// to one story: an RMM session, the commands in it and what followed.
const Gap = time.Hour

// MinSeverity is the severity a group of joined findings needs to become
// an incident: low-level context alone is not an incident.
const MinSeverity = event.SevMedium

// Worthy says whether a group of joined findings (at least one of them
// medium) tells a story worth an incident: a high or critical finding; a
// medium one from an analyzer (analyzers judge against the case's
// baselines already) or tied to an RMM session; or medium findings of at
// least two different rules that corroborate each other. A lone medium
// rule, however often it fires on one host, is a lead listed with the
// findings, not an incident: single-event rules (Sigma's first) rate what
// an event looks like, not what happened.
func Worthy(findings []event.Finding, members []int) bool {
	rules := map[string]bool{}
	for _, i := range members {
		f := &findings[i]
		r := event.Rank(f.Severity)
		if r >= event.Rank(event.SevHigh) {
			return true
		}
		if r < event.Rank(MinSeverity) {
			continue
		}
		if f.SessionID != "" || f.Analyzer != "" && f.Analyzer != "rule" {
			return true
		}
		rules[f.RuleID] = true
	}
	return len(rules) >= 2
}

// Correlate sets IncidentID on the findings that belong to an incident
// and returns the incidents, ordered by start time. findings must already
// carry their IDs and be in a deterministic order.
//
// Two findings are joined when they name the same RMM session, or when
// they are on the same host, within Gap of each other, and their users
// are compatible (equal, one unknown or a system account, or both
// provider identities). Joins are transitive. A group becomes an incident
// when its highest severity is at least MinSeverity and it is Worthy.
func Correlate(cfg *caseconf.Config, findings []event.Finding) []event.Incident {
	if cfg == nil {
		cfg = caseconf.Default()
	}
	var idx []int
	for i := range findings {
		f := &findings[i]
		if event.Rank(f.Severity) >= event.Rank(event.SevLow) || f.SessionID != "" {
			idx = append(idx, i)
		}
	}
	parent := make([]int, len(findings))
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	union := func(a, b int) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		if ra > rb {
			ra, rb = rb, ra
		}
		parent[rb] = ra
	}
	for _, i := range idx {
		parent[i] = i
	}
	bySession := map[string]int{}
	byHost := map[string][]int{}
	norm := map[string]string{} // normHost of the few host names findings carry
	hostOf := func(h string) string {
		n, ok := norm[h]
		if !ok {
			n = normHost(h)
			norm[h] = n
		}
		return n
	}
	for _, i := range idx {
		f := &findings[i]
		if f.SessionID != "" {
			if j, ok := bySession[f.SessionID]; ok {
				union(i, j)
			} else {
				bySession[f.SessionID] = i
			}
		}
		if h := hostOf(f.Host); h != "" {
			byHost[h] = append(byHost[h], i)
		}
	}
	hosts := make([]string, 0, len(byHost))
	for h := range byHost {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	cls := make([]userClass, len(findings))
	classes := map[string]userClass{} // findings repeat a few accounts
	for _, i := range idx {
		u := findings[i].User
		c, ok := classes[u]
		if !ok {
			c = classify(cfg, u)
			classes[u] = c
		}
		cls[i] = c
	}
	for _, h := range hosts {
		l := byHost[h]
		// By time, then index: the stable order, by an n log n sort.
		sortMembers(findings, l, func(a, b int) int {
			if c := findings[a].Time.Compare(findings[b].Time); c != 0 {
				return c
			}
			return a - b
		})
		joinHost(findings, l, cls, union)
	}
	groups := map[int][]int{}
	for _, i := range idx {
		r := find(i)
		groups[r] = append(groups[r], i)
	}
	var out []event.Incident
	for _, members := range groups {
		top := ""
		for _, i := range members {
			if event.Rank(findings[i].Severity) > event.Rank(top) {
				top = findings[i].Severity
			}
		}
		if event.Rank(top) < event.Rank(MinSeverity) || !Worthy(findings, members) {
			continue
		}
		byTimeID := func(a, b int) int {
			if c := findings[a].Time.Compare(findings[b].Time); c != 0 {
				return c
			}
			if c := strings.Compare(findings[a].ID, findings[b].ID); c != 0 {
				return c
			}
			return a - b
		}
		sortMembers(findings, members, byTimeID)
		out = append(out, build(cfg, findings, members, top))
	}
	slices.SortFunc(out, func(a, b event.Incident) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// sortMembers sorts members (indexes of findings) by cmp, which orders
// by time first. A hunt's findings come sorted by time, so members
// mostly are already in cmp's order, which one pass tells, or in time
// order: then only each run of one time is sorted (a brute force's
// hundred thousand findings fall a few to a second).
func sortMembers(findings []event.Finding, members []int, cmp func(a, b int) int) {
	if slices.IsSortedFunc(members, cmp) {
		return
	}
	if !slices.IsSortedFunc(members, func(a, b int) int { return findings[a].Time.Compare(findings[b].Time) }) {
		slices.SortFunc(members, cmp)
		return
	}
	for lo := 0; lo < len(members); {
		hi := lo + 1
		for hi < len(members) && findings[members[hi]].Time.Equal(findings[members[lo]].Time) {
			hi++
		}
		if hi-lo > 1 {
			slices.SortFunc(members[lo:hi], cmp)
		}
		lo = hi
	}
}

// userClass is what compatible reads of a finding's user: a wildcard
// (unknown or a system account: compatible with everyone), else the bare
// name (equal names are compatible) and whether it is a provider
// identity (providers are compatible with each other).
type userClass struct {
	wild     bool
	bare     string
	provider bool
}

func classify(cfg *caseconf.Config, u string) userClass {
	b := bare(u)
	if b == "" || system(b) {
		return userClass{wild: true}
	}
	_, p := cfg.Provider(u)
	if !p {
		_, p = cfg.ProviderOperator(u)
	}
	return userClass{bare: b, provider: p}
}

// reach is the finding with the latest end among some findings seen.
type reach struct {
	end time.Time
	i   int
	ok  bool
}

func (r reach) with(findings []event.Finding, i int) reach {
	if e := end(&findings[i]); !r.ok || e.After(r.end) {
		return reach{e, i, true}
	}
	return r
}

// joinHost joins the findings of one host, l in time order, in one pass.
//
// The compatible users form cliques: for each bare name, its findings
// with the wildcards; and the provider identities with the wildcards.
// Within a clique, a finding x needs joining only to the earlier member
// that ends last, if it ends within Gap before x: every other earlier
// member within reach is already joined to that one (by induction, the
// later-processed of the two was joined to a member ending no earlier).
// So the pass keeps, per clique part, the member ending last. A wildcard
// is in every clique; rather than visiting every name's part for each
// wildcard, it visits the parts that changed since the previous wildcard,
// and the previous wildcard's component stands for the rest (all of
// their members within reach of it were joined to it, and a member out
// of its reach is out of reach of later findings too).
func joinHost(findings []event.Finding, l []int, cls []userClass, union func(a, b int)) {
	var wild, prov reach
	byName := map[string]reach{}
	var dirty []string
	inDirty := map[string]bool{}
	lastWild := -1
	var lastReach time.Time // latest end joined to lastWild's component by the time it was processed
	near := func(x int, r reach) bool { return r.ok && findings[x].Time.Sub(r.end) <= Gap }
	for _, x := range l {
		c := cls[x]
		if !c.wild {
			if r := byName[c.bare]; near(x, r) {
				union(x, r.i)
			}
			if near(x, wild) {
				union(x, wild.i)
			}
			if c.provider {
				if near(x, prov) {
					union(x, prov.i)
				}
				prov = prov.with(findings, x)
			}
			byName[c.bare] = byName[c.bare].with(findings, x)
			if !inDirty[c.bare] {
				inDirty[c.bare] = true
				dirty = append(dirty, c.bare)
			}
			continue
		}
		r := reach{}.with(findings, x)
		join := func(o reach) {
			if near(x, o) {
				union(x, o.i)
				if o.end.After(r.end) {
					r.end = o.end
				}
			}
		}
		join(wild)
		join(prov)
		if lastWild >= 0 {
			join(reach{lastReach, lastWild, true})
		}
		for _, b := range dirty {
			join(byName[b])
			delete(inDirty, b)
		}
		dirty = dirty[:0]
		lastWild, lastReach = x, r.end
		wild = wild.with(findings, x)
	}
}

func end(f *event.Finding) time.Time {
	if f.End.After(f.Time) {
		return f.End
	}
	return f.Time
}

func build(cfg *caseconf.Config, findings []event.Finding, members []int, top string) event.Incident {
	h := sha256.New()
	inc := event.Incident{Severity: top}
	var hosts, users []string
	seenUser := map[string]bool{}
	var lead *event.Finding
	leadPhase := 0
	sessionRank := -1
	// Each member's phase, worked out once: the lead and the narrative
	// both ask (a brute force's incident has a hundred thousand members).
	phases := make([]int8, len(members))
	lastHost := ""
	for k, i := range members {
		f := &findings[i]
		phases[k] = int8(phase(f))
		key := f.ID
		if key == "" {
			key = fmt.Sprintf("%s|%s|%s|%d", f.RuleID, f.Host, f.User, f.Time.UnixNano())
		}
		h.Write([]byte(key))
		h.Write([]byte{0})
		inc.Findings = append(inc.Findings, f.ID)
		if inc.Start.IsZero() || f.Time.Before(inc.Start) {
			inc.Start = f.Time
		}
		if e := end(f); e.After(inc.End) {
			inc.End = e
		}
		if f.Host != "" && f.Host != lastHost {
			lastHost = f.Host
			// One name per machine: the short one when logs disagree
			// (EVTX writes the FQDN, RMM logs the short name).
			nh := normHost(f.Host)
			k := slices.IndexFunc(hosts, func(h string) bool { return h == f.Host || normHost(h) == nh })
			switch {
			case k < 0:
				hosts = append(hosts, f.Host)
			case len(f.Host) < len(hosts[k]):
				hosts[k] = f.Host
			}
		}
		if f.User != "" && !seenUser[f.User] {
			seenUser[f.User] = true
			users = append(users, f.User)
		}
		if f.SessionID != "" && event.Rank(f.Severity) > sessionRank {
			inc.SessionID, sessionRank = f.SessionID, event.Rank(f.Severity)
		}
		if lead == nil || event.Rank(f.Severity) > event.Rank(lead.Severity) || event.Rank(f.Severity) == event.Rank(lead.Severity) && int(phases[k]) < leadPhase {
			lead, leadPhase = f, int(phases[k])
		}
	}
	slices.Sort(hosts)
	slices.Sort(users)
	inc.Hosts, inc.Users = hosts, users
	inc.ID = "INC-" + strings.ToUpper(hex.EncodeToString(h.Sum(nil))[:10])
	for _, i := range members {
		findings[i].IncidentID = inc.ID
	}
	inc.Title = fmt.Sprintf("%s on %s", lead.Title, strings.Join(hosts, ", "))
	if len(members) > 1 {
		inc.Title += fmt.Sprintf(" (%d findings)", len(members))
	}
	inc.Narrative = narrative(cfg, findings, members, phases, hosts)
	return inc
}

// phase places a finding in the story: 0 session (how they got in),
// 1 commands (what they did), 2 effects (what changed or left).
func phase(f *event.Finding) int {
	switch f.Analyzer {
	case "offhours", "rmmsessions":
		return 0
	case "psrecon":
		return 1
	case "newadmin", "outbound", "coverage":
		return 2
	}
	for _, t := range f.Tags {
		switch {
		case strings.HasPrefix(t, "attack.t1078"), strings.HasPrefix(t, "attack.t1133"), strings.HasPrefix(t, "attack.t1219"), t == "attack.initial_access":
			return 0
		case strings.HasPrefix(t, "attack.t1136"), strings.HasPrefix(t, "attack.t1098"), strings.HasPrefix(t, "attack.t1048"), strings.HasPrefix(t, "attack.t1041"), strings.HasPrefix(t, "attack.t1070"), t == "attack.exfiltration", t == "attack.persistence":
			return 2
		}
	}
	return 1
}

// narrative tells an incident's story; phases are its members' phases.
func narrative(cfg *caseconf.Config, findings []event.Finding, members []int, phases []int8, hosts []string) string {
	// Per phase the most severe findings (four at most), told in time order.
	var byPhase [3][]int
	for k, i := range members {
		byPhase[phases[k]] = append(byPhase[phases[k]], i)
	}
	var parts [3][]string
	for p, l := range byPhase {
		// The four most severe, the earlier member first among equals
		// (what a stable sort by severity would put first), kept in one
		// pass.
		top := make([]int, 0, 4)
		for _, i := range l {
			r := event.Rank(findings[i].Severity)
			at := len(top)
			for at > 0 && event.Rank(findings[top[at-1]].Severity) < r {
				at--
			}
			if at == 4 {
				continue
			}
			if len(top) < 4 {
				top = append(top, 0)
			}
			copy(top[at+1:], top[at:len(top)-1])
			top[at] = i
		}
		more := len(l) > 4
		slices.SortStableFunc(top, func(a, b int) int { return findings[a].Time.Compare(findings[b].Time) })
		for _, i := range top {
			f := &findings[i]
			parts[p] = append(parts[p], fmt.Sprintf("[%s] %s — %s", f.Severity, f.Title, clip(f.Summary, 240)))
		}
		if more {
			parts[p] = append(parts[p], fmt.Sprintf("and %d more", len(l)-4))
		}
	}
	loc := cfg.Location()
	var b strings.Builder
	fmt.Fprintf(&b, "%s – %s on %s. ", findings[members[0]].Time.In(loc).Format("Mon 2006-01-02 15:04"), latest(findings, members).In(loc).Format("Mon 2006-01-02 15:04 MST"), strings.Join(hosts, ", "))
	labels := [3]string{"Session", "Commands", "Effects"}
	empty := [3]string{
		"no session or logon finding joined (how access was gained is not shown by these findings)",
		"no command finding joined",
		"no account change, outbound anomaly or log tampering joined to this incident",
	}
	for p := 0; p < 3; p++ {
		if p > 0 {
			b.WriteString(" → ")
		}
		b.WriteString(labels[p])
		b.WriteString(": ")
		if len(parts[p]) == 0 {
			b.WriteString(empty[p])
		} else {
			b.WriteString(strings.Join(parts[p], "; "))
		}
		b.WriteString(".")
	}
	return b.String()
}

func latest(findings []event.Finding, members []int) time.Time {
	var t time.Time
	for _, i := range members {
		if e := end(&findings[i]); e.After(t) {
			t = e
		}
	}
	return t
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// compatible reports whether two findings' users may be the same actor:
// equal after normalisation, one unknown or a system account (RMM agents
// run as SYSTEM), or both provider identities.
func compatible(cfg *caseconf.Config, a, b string) bool {
	na, nb := bare(a), bare(b)
	if na == "" || nb == "" || na == nb || system(na) || system(nb) {
		return true
	}
	_, pa := cfg.Provider(a)
	if !pa {
		_, pa = cfg.ProviderOperator(a)
	}
	_, pb := cfg.Provider(b)
	if !pb {
		_, pb = cfg.ProviderOperator(b)
	}
	return pa && pb
}

func system(u string) bool {
	switch u {
	case "system", "local service", "network service", "-", "(unknown user)":
		return true
	}
	return strings.HasSuffix(u, "$")
}

func bare(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	if i := strings.LastIndexByte(u, '\\'); i >= 0 {
		u = u[i+1:]
	}
	return u
}

func normHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.IndexByte(h, '.'); i > 0 && (h[0] < '0' || h[0] > '9') {
		h = h[:i]
	}
	return h
}
