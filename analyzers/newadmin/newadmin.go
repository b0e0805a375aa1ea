// Package newadmin follows account changes in the Security log: accounts
// created (4720) and then added to privileged groups (4728/4732/4756, 5136
// member changes), existing accounts newly made privileged, dormant
// accounts enabled or reset (4722/4724), risky 4738 changes and local
// accounts created on member servers — naming the actor and flagging
// provider actors. See README.md.
package newadmin

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Name is the analyzer's name in findings.
const Name = "newadmin"

// Dormant is how long an account must have gone without a logon for its
// enabling or reset to count as a dormant account brought back.
const Dormant = 30 * 24 * time.Hour

type action struct {
	t        time.Time
	what     string // created, enabled, reset, added to X, changed: …
	actor    string
	provider string // provider of the actor, if any
	host     string
	group    string
	priv     bool
	ref      event.Ref
}

type account struct {
	key, name, sid, domain string
	created                *action
	enabled, reset         []action
	groups                 []action
	risky                  []action
}

// Analyzer is the newadmin analyzer; build it with New.
type Analyzer struct {
	cfg      *caseconf.Config
	accounts map[string]*account
	names    map[string]string  // sid → name
	logons   map[string][]int32 // bare name → days (unix/86400) with a logon
	first    time.Time
	in       akit.Interner
	lower    *akit.Memo1 // strings.ToLower of the last channel
}

// New returns a newadmin analyzer for a case.
func New(cfg *caseconf.Config) *Analyzer {
	return &Analyzer{lower: akit.NewMemo1(strings.ToLower), cfg: cfg, accounts: map[string]*account{}, names: map[string]string{}, logons: map[string][]int32{}, in: akit.Interner{}}
}

// Name implements analyzers.Analyzer.
func (a *Analyzer) Name() string { return Name }

func f(ev *event.Event, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(ev.Field(n)); v != "" && v != "-" {
			return v
		}
	}
	return ""
}

func (a *Analyzer) acct(sid, name, domain string) *account {
	key := strings.ToLower(sid)
	if key == "" || key == "s-1-0-0" {
		key = strings.ToLower(domain + `\` + name)
	}
	ac := a.accounts[key]
	if ac == nil {
		ac = &account{key: key}
		a.accounts[key] = ac
	}
	if ac.name == "" && name != "" {
		ac.name, ac.domain = a.in.Get(name), a.in.Get(domain)
	}
	if ac.sid == "" && sid != "" {
		ac.sid = a.in.Get(sid)
	}
	return ac
}

func (a *Analyzer) actor(ev *event.Event) (string, string) {
	name := f(ev, "SubjectUserName")
	dom := f(ev, "SubjectDomainName")
	actor := name
	if dom != "" && name != "" {
		actor = dom + `\` + name
	}
	if actor == "" {
		actor = ev.SubjectUser
	}
	prov := ""
	if p, ok := a.cfg.Provider(actor); ok {
		prov = p.Name
	}
	return a.in.Get(actor), a.in.Get(prov)
}

var reCN = regexp.MustCompile(`(?i)^cn=((?:\\,|[^,])+)`)

// Observe implements analyzers.Analyzer.
func (a *Analyzer) Observe(ev *event.Event) {
	if ev.Source != event.SourceEVTX || !strings.Contains(a.lower.Get(ev.Channel), "security") {
		return
	}
	if a.first.IsZero() || ev.Time.Before(a.first) {
		a.first = ev.Time
	}
	switch ev.EventID {
	case 4624:
		u := akit.BareUser(first(f(ev, "TargetUserName"), ev.User))
		if u == "" || strings.HasSuffix(u, "$") {
			return
		}
		d := int32(ev.Time.Unix() / 86400)
		days := a.logons[u]
		if n := len(days); n == 0 || days[n-1] != d {
			if i, found := slices.BinarySearch(days, d); !found {
				a.logons[a.in.Get(u)] = slices.Insert(days, i, d)
			}
		}
		return
	case 4720, 4722, 4724, 4738:
	case 4728, 4732, 4756:
	case 5136:
	default:
		return
	}
	actor, prov := a.actor(ev)
	base := action{t: ev.Time, actor: actor, provider: prov, host: a.in.Get(ev.Host), ref: event.RefOf(ev)}
	switch ev.EventID {
	case 4720, 4722, 4724, 4738:
		name := first(f(ev, "TargetUserName", "SamAccountName"), ev.User)
		ac := a.acct(first(f(ev, "TargetSid"), ev.UserSID), name, first(f(ev, "TargetDomainName"), ev.UserDomain))
		if ac.sid != "" && ac.name != "" {
			a.names[strings.ToLower(ac.sid)] = ac.name
		}
		switch ev.EventID {
		case 4720:
			base.what = "created"
			if ac.created == nil || ev.Time.Before(ac.created.t) {
				ac.created = &base
			}
		case 4722:
			base.what = "enabled"
			ac.enabled = append(ac.enabled, base)
		case 4724:
			base.what = "password reset"
			ac.reset = append(ac.reset, base)
		case 4738:
			if r := risky(ev); r != "" {
				base.what = "changed: " + r
				ac.risky = append(ac.risky, base)
			}
		}
	case 4728, 4732, 4756:
		group := first(f(ev, "TargetUserName", "GroupName"), ev.Field("Group"))
		gsid := f(ev, "TargetSid")
		member := f(ev, "MemberName")
		msid := f(ev, "MemberSid")
		mname := member
		if m := reCN.FindStringSubmatch(member); m != nil {
			mname = strings.ReplaceAll(m[1], `\,`, ",")
		}
		ac := a.acct(msid, mname, "")
		base.group = a.in.Get(group)
		base.priv = a.cfg.Privileged(group) || a.cfg.Privileged(gsid)
		base.what = "added to " + group
		ac.groups = append(ac.groups, base)
	case 5136:
		if !strings.EqualFold(f(ev, "AttributeLDAPDisplayName"), "member") {
			return
		}
		op := f(ev, "OperationType")
		if op != "%%14674" && !strings.Contains(strings.ToLower(op), "added") {
			return
		}
		group := f(ev, "ObjectDN")
		if m := reCN.FindStringSubmatch(group); m != nil {
			group = m[1]
		}
		mname := f(ev, "AttributeValue")
		if m := reCN.FindStringSubmatch(mname); m != nil {
			mname = strings.ReplaceAll(m[1], `\,`, ",")
		}
		ac := a.acct("", mname, "")
		base.group = a.in.Get(group)
		base.priv = a.cfg.Privileged(group)
		base.what = "added to " + group + " (5136 directory change)"
		ac.groups = append(ac.groups, base)
	}
}

// riskyUAC are the 4738 UserAccountControl changes that weaken an account
// or hand it delegation rights (message-table ids and their English text).
var riskyUAC = []struct{ id, text string }{
	{"%%2082", "'Password Not Required' - Enabled"},
	{"%%2089", "'Don't Expire Password' - Enabled"},
	{"%%2094", "'Trusted For Delegation' - Enabled"},
	{"%%2096", "'Don't Require Preauth' - Enabled"},
	{"%%2098", "'Trusted To Authenticate For Delegation' - Enabled"},
	{"%%2091", "'Encrypted Text Password Allowed' - Enabled"},
}

func risky(ev *event.Event) string {
	var out []string
	uac := ev.Field("UserAccountControl")
	for _, r := range riskyUAC {
		if strings.Contains(uac, r.id) || strings.Contains(uac, r.text) {
			out = append(out, r.text)
		}
	}
	if v := f(ev, "SidHistory"); v != "" && v != "%%1793" {
		out = append(out, "SidHistory="+v)
	}
	if v := f(ev, "AllowedToDelegateTo"); v != "" && v != "%%1793" {
		out = append(out, "AllowedToDelegateTo="+v)
	}
	if v := f(ev, "PrimaryGroupId"); v == "512" || v == "518" || v == "519" || v == "544" {
		out = append(out, "PrimaryGroupId="+v)
	}
	return strings.Join(out, ", ")
}

// Finish implements analyzers.Analyzer.
func (a *Analyzer) Finish() []event.Finding {
	keys := make([]string, 0, len(a.accounts))
	for k := range a.accounts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// Group additions by SID name a member only by SID; merge name-keyed
	// records (5136) into the SID-keyed account of the same name.
	byName := map[string]*account{}
	for _, k := range keys {
		ac := a.accounts[k]
		if ac.name == "" && ac.sid != "" {
			ac.name = a.names[strings.ToLower(ac.sid)]
		}
		if ac.sid != "" && ac.name != "" {
			byName[strings.ToLower(ac.name)] = ac
		}
	}
	var out []event.Finding
	for _, k := range keys {
		ac := a.accounts[k]
		if ac.sid == "" && ac.name != "" {
			if t := byName[strings.ToLower(ac.name)]; t != nil && t != ac {
				t.groups = append(t.groups, ac.groups...)
				t.enabled = append(t.enabled, ac.enabled...)
				t.reset = append(t.reset, ac.reset...)
				t.risky = append(t.risky, ac.risky...)
				if t.created == nil {
					t.created = ac.created
				}
				continue
			}
		}
		out = append(out, a.findings(ac)...)
	}
	akit.Sort(out)
	return out
}

func (a *Analyzer) findings(ac *account) []event.Finding {
	cfg := a.cfg
	for _, l := range [][]action{ac.groups, ac.enabled, ac.reset, ac.risky} {
		slices.SortStableFunc(l, func(x, y action) int { return x.t.Compare(y.t) })
	}
	var privAdds []action
	for _, g := range ac.groups {
		if g.priv {
			privAdds = append(privAdds, g)
		}
	}
	who := ac.name
	if who == "" {
		who = ac.sid
	}
	if ac.sid != "" && ac.name != "" {
		who = fmt.Sprintf("%s (%s)", ac.name, ac.sid)
	}
	var out []event.Finding
	mk := func(rule, title, sev string, acts []action, summary string, why []string, tags ...string) {
		slices.SortStableFunc(acts, func(x, y action) int { return x.t.Compare(y.t) })
		var refs []event.Ref
		var actors []string
		provActor := ""
		timing := ""
		for _, x := range acts {
			refs = append(refs, x.ref)
			if x.actor != "" && !slices.Contains(actors, x.actor) {
				actors = append(actors, x.actor)
			}
			if x.provider != "" {
				provActor = x.provider
			}
			if tm := akit.Timing(cfg, x.t); tm != "" && timing == "" {
				timing = tm
			}
		}
		if provActor != "" {
			why = append(why, "done by a provider identity ("+provActor+")")
			sev = akit.MaxSev(sev, akit.BumpSev(sev, 1))
		}
		if timing != "" {
			why = append(why, fmt.Sprintf("%s: %s", timing, akit.When(cfg, acts[0].t)))
		}
		if ac.created != nil && strings.HasSuffix(ac.name, "$") {
			// A user account named like a computer account: net user and
			// most consoles do not list it.
			why = append(why, "the name ends in $, which hides a user account from net user and most consoles")
			sev = akit.MaxSev(sev, event.SevMedium)
			tags = append(tags, "attack.t1564.002")
		}
		var steps []string
		for _, x := range acts {
			steps = append(steps, fmt.Sprintf("%s %s by %s on %s", cfg.Local(x.t).Format("2006-01-02 15:04:05"), x.what, akit.OrDash(x.actor), x.host))
		}
		usr := ac.name
		if usr == "" {
			usr = ac.sid
		}
		out = append(out, event.Finding{
			Time: acts[0].t, End: acts[len(acts)-1].t, RuleID: rule, Title: title, Severity: sev, Tags: tags,
			Host: acts[0].host, User: usr, Summary: summary + ": " + strings.Join(steps, "; "), Reason: strings.Join(why, "; "), Analyzer: Name,
			Details: akit.Details("privileged_additions", len(privAdds), "group_additions", len(ac.groups), "created", akit.B2I(ac.created != nil),
				"enabled", len(ac.enabled), "resets", len(ac.reset), "risky_changes", len(ac.risky), "provider_actor", akit.B2I(provActor != ""), "off_hours", akit.B2I(timing != "")),
			Refs: akit.CapRefs(akit.SortRefs(refs), akit.MaxRefs),
		})
		out[len(out)-1].Details.Set("actors", strings.Join(actors, ","))
	}
	groupNames := func(acts []action) string {
		var g []string
		for _, x := range acts {
			if !slices.Contains(g, x.group) {
				g = append(g, x.group)
			}
		}
		return strings.Join(g, ", ")
	}
	switch {
	case ac.created != nil && len(privAdds) > 0:
		acts := append([]action{*ac.created}, ac.groups...)
		gap := privAdds[0].t.Sub(ac.created.t)
		mk("newadmin.created_privileged", "New account made privileged", event.SevHigh, acts,
			fmt.Sprintf("account %s created and added to privileged group(s) %s", who, groupNames(privAdds)),
			[]string{fmt.Sprintf("creation → privileged group in %s (%d privileged of %d group additions)", gap.Round(time.Second), len(privAdds), len(ac.groups))},
			"attack.t1136", "attack.t1098", "attack.t1078")
	case len(privAdds) > 0:
		mk("newadmin.made_privileged", "Existing account added to a privileged group", event.SevMedium, privAdds,
			fmt.Sprintf("account %s added to privileged group(s) %s", who, groupNames(privAdds)),
			[]string{fmt.Sprintf("%d privileged group additions for an account not created in the evidence", len(privAdds))},
			"attack.t1098")
	case ac.created != nil:
		local := ac.domain != "" && strings.EqualFold(ac.domain, akit.NormHost(ac.created.host))
		if local && cfg.IsServer(ac.created.host) {
			mk("newadmin.local_account_server", "Local account created on a member server", event.SevMedium, append([]action{*ac.created}, ac.groups...),
				fmt.Sprintf("local account %s created on server %s", who, ac.created.host), []string{"local accounts on servers bypass domain account management"}, "attack.t1136.001")
		} else {
			mk("newadmin.account_created", "Account created", event.SevLow, append([]action{*ac.created}, ac.groups...),
				fmt.Sprintf("account %s created (no privileged group)", who), []string{fmt.Sprintf("%d group additions, none privileged", len(ac.groups))}, "attack.t1136")
		}
	}
	// Dormant accounts brought back: enabled or reset after 30 days (or
	// more) without a logon, judged only where the logs reach that far.
	for _, x := range append(append([]action{}, ac.enabled...), ac.reset...) {
		if x.t.Sub(a.first) < Dormant || ac.created != nil {
			continue
		}
		days := a.logons[akit.BareUser(ac.name)]
		d := int32(x.t.Unix() / 86400)
		i, _ := slices.BinarySearch(days, d)
		lastTxt := "no logon in the evidence before it"
		if i > 0 {
			last := time.Unix(int64(days[i-1])*86400, 0)
			if x.t.Sub(last) < Dormant {
				continue
			}
			lastTxt = fmt.Sprintf("last logon %s, %.0f days before", cfg.Local(last).Format("2006-01-02"), x.t.Sub(last).Hours()/24)
		}
		sev := event.SevMedium
		if len(privAdds) > 0 {
			sev = event.SevHigh
		}
		mk("newadmin.dormant_reactivated", "Dormant account "+x.what, sev, []action{x},
			fmt.Sprintf("account %s %s", who, x.what), []string{lastTxt, fmt.Sprintf("dormant from %.0f days without a logon", Dormant.Hours()/24)}, "attack.t1078", "attack.t1098")
		break
	}
	for _, x := range ac.risky {
		mk("newadmin.risky_change", "Risky account change", event.SevMedium, []action{x},
			fmt.Sprintf("account %s %s", who, x.what), []string{"the change weakens authentication or grants delegation or SID history"}, "attack.t1098")
	}
	return out
}

// timeOnly is what newadmin reads of the Security events it does not
// act on: their time, for the start of the evidence.
var timeOnly = []string{"time", "channel"}

// Wants implements analyzers.Selective: every Security event (the
// first one's time is the start of the baseline), whole for the kinds
// Observe acts on.
func (a *Analyzer) Wants() akit.Wants {
	return akit.Wants{
		{Source: event.SourceEVTX, ChannelHas: "security", IDs: []int32{4624, 4720, 4722, 4724, 4738, 4728, 4732, 4756, 5136}},
		{Source: event.SourceEVTX, ChannelHas: "security", Columns: timeOnly},
	}
}

// first reads values the Windows way (trimmed, "-" is none).
var first = akit.FirstValue
