// Package lateral judges interactive remote logons — RDP (Security 4624
// type 10, RemoteConnectionManager 1149, LocalSessionManager 21/25) —
// against each identity's own baseline, whether or not it is a provider
// identity: a first RDP logon of an account, to a host or from a source
// it never used, off its hours, from the internet, and RDP arriving from
// the host's own loopback address, which only a tunnel (plink, ngrok,
// chisel, an SSH port forward) produces; and DCOM lateral movement: a COM
// server started by the DCOM launcher with -Embedding or /automation in a
// logon session that arrived over the network from another machine. See
// README.md.
package lateral

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/internal/asciifold"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Name is the analyzer's name in findings.
const Name = "lateral"

const (
	// sameLogon joins the 1149, 4624 and 21 records of one RDP logon.
	sameLogon = 90 * time.Second
	maxLogons = 200_000
	// maxNet bounds the network logons and COM activations kept for the
	// DCOM join.
	maxNet = 500_000
)

// netLogon is a network logon (4624 type 3) from another machine.
type netLogon struct {
	src, user string
	ref       event.Ref
}

// comStart is a COM server started for an activation request.
type comStart struct {
	t                  time.Time
	host, hostKey      string
	logonID            string
	image, cmd, parent string
	user               string
	refs               []event.Ref
}

// reCOMServer: the switches the DCOM launcher passes to an out-of-process
// COM server it starts (mmc.exe -Embedding, EXCEL.EXE /automation
// -Embedding, explorer's and Office's servers alike).
var reCOMServer = regexp.MustCompile(`(?i)(?:^|\s)[-/](?:embedding|automation)\b`)

// comServer is reCOMServer's match, the regular expression run only on
// command lines that name one of its words (nearly none do). The words
// hold no letter that folds to a non-ASCII one, so an ASCII-folded
// search finds every line the expression can match.
func comServer(cmd string) bool {
	if !asciifold.Contains(cmd, "embedding") && !asciifold.Contains(cmd, "automation") {
		return false
	}
	return reCOMServer.MatchString(cmd)
}

type logon struct {
	t          time.Time
	host, user string // as written
	hostKey    string
	userKey    string
	src        string
	via        []string
	refs       []event.Ref
}

// Analyzer is the lateral analyzer; build it with New.
type Analyzer struct {
	cfg         *caseconf.Config
	logons      []*logon
	first, last time.Time
	dropped     int
	lower       *akit.Memo1
	in          akit.Interner
	// net: network logons by host and logon id; coms: COM servers
	// started in some logon session, joined with net in Finish (the
	// logon and the process may come from different files, in any order).
	net  map[string]netLogon
	coms map[string]*comStart
}

// New returns a lateral analyzer for a case.
func New(cfg *caseconf.Config) *Analyzer {
	return &Analyzer{cfg: cfg, lower: akit.NewMemo1(strings.ToLower), in: akit.Interner{}, net: map[string]netLogon{}, coms: map[string]*comStart{}}
}

// Name implements analyzers.Analyzer.
func (a *Analyzer) Name() string { return Name }

// kinds are the events lateral reads: logons, RDP connections and
// sessions, process creation. Observe reads nothing else.
var kinds = akit.Wants{
	{Source: event.SourceEVTX, Channel: "security", IDs: []int32{4624, 4688}},
	{Source: event.SourceEVTX, ChannelHas: "remoteconnectionmanager", IDs: []int32{1149}},
	{Source: event.SourceEVTX, ChannelHas: "localsessionmanager", IDs: []int32{21, 25}},
	{Source: event.SourceEVTX, ChannelHas: "sysmon", IDs: []int32{1}},
}

// Wants implements analyzers.Selective.
func (a *Analyzer) Wants() akit.Wants { return kinds }

// Observe implements analyzers.Analyzer.
func (a *Analyzer) Observe(ev *event.Event) {
	ch := a.lower.Get(ev.Channel)
	if kinds.Find(ev.Source, ev.EventID, ch) == nil {
		return
	}
	var user, src, via string
	switch ev.EventID {
	case 1, 4688:
		a.process(ev)
		return
	case 4624:
		lt := ev.LogonType.V
		if lt == 0 {
			if n, err := strconv.Atoi(ev.Field("LogonType")); err == nil {
				lt = int32(n)
			}
		}
		if lt == 3 {
			a.network(ev)
			return
		}
		if lt != 10 {
			return
		}
		user = akit.ValueOr(ev, ev.User, "TargetUserName")
		src = akit.ValueOr(ev, ev.SrcIP, "IpAddress")
		via = "4624 type 10"
	case 1149:
		user = akit.ValueOr(ev, ev.User, "Param1")
		src = akit.ValueOr(ev, ev.SrcIP, "Param3")
		via = "1149"
	default:
		user = akit.ValueOr(ev, ev.User, "User")
		src = akit.ValueOr(ev, ev.SrcIP, "Address")
		via = fmt.Sprintf("LSM %d", ev.EventID)
		if strings.EqualFold(src, "LOCAL") {
			return // the console
		}
	}
	if user == "" {
		return
	}
	if a.first.IsZero() || ev.Time.Before(a.first) {
		a.first = ev.Time
	}
	if ev.Time.After(a.last) {
		a.last = ev.Time
	}
	if len(a.logons) >= maxLogons {
		a.dropped++
		return
	}
	a.logons = append(a.logons, &logon{t: ev.Time, host: a.in.Get(ev.Host), user: a.in.Get(user), hostKey: a.in.Get(akit.NormHost(ev.Host)),
		userKey: a.in.Get(akit.BareUser(user)), src: a.in.Get(src), via: []string{via}, refs: []event.Ref{event.RefOf(ev)}})
}

// network remembers a network logon from another machine by host and
// logon id.
func (a *Analyzer) network(ev *event.Event) {
	id := strings.ToLower(ev.Field("TargetLogonId"))
	src := akit.ValueOr(ev, ev.SrcIP, "IpAddress")
	if id == "" || id == "0x0" || src == "" || src == "-" || loopback(src) || len(a.net) >= maxNet {
		return
	}
	user := akit.ValueOr(ev, ev.User, "TargetUserName")
	if dom := ev.Field("TargetDomainName"); dom != "" && user != "" && !strings.Contains(user, `\`) {
		user = dom + `\` + user
	}
	a.net[a.in.Get(akit.NormHost(ev.Host))+"\x00"+id] = netLogon{src: a.in.Get(src), user: a.in.Get(user), ref: event.RefOf(ev)}
}

// process keeps COM servers started in a logon session: Sysmon 1 and
// 4688 of one process are one start.
func (a *Analyzer) process(ev *event.Event) {
	cmd := akit.TextOr(ev, ev.CommandLine, "CommandLine")
	if cmd == "" || !comServer(cmd) {
		return
	}
	img := akit.ValueOr(ev, ev.Process, "Image", "NewProcessName")
	switch baseName(img) {
	case "wmiprvse.exe", "wsmprovhost.exe":
		// WMI and WinRM hosts: remote execution of their own kind,
		// judged by psrecon from what they start
		return
	}
	parent := akit.ValueOr(ev, ev.ParentProcess, "ParentImage", "ParentProcessName")
	if parent != "" && baseName(parent) != "svchost.exe" {
		return // started by a program, not by the DCOM launcher
	}
	id := strings.ToLower(ev.Field("LogonId"))
	if ev.EventID == 4688 {
		id = strings.ToLower(ev.Field("TargetLogonId"))
	}
	if id == "" || id == "0x0" || id == "0x3e7" || id == "0x3e4" || id == "0x3e5" {
		return
	}
	hk := akit.NormHost(ev.Host)
	key := hk + "\x00" + id + "\x00" + strings.ToLower(baseName(img))
	if c := a.coms[key]; c != nil {
		if len(c.refs) < akit.MaxRefs {
			c.refs = append(c.refs, event.RefOf(ev))
		}
		if ev.Time.Before(c.t) {
			c.t = ev.Time
		}
		return
	}
	if len(a.coms) >= maxNet {
		a.dropped++
		return
	}
	a.coms[key] = &comStart{t: ev.Time, host: a.in.Get(ev.Host), hostKey: a.in.Get(hk), logonID: id, image: img, cmd: akit.Clip(cmd, 200), parent: parent,
		user: akit.ValueOr(ev, ev.User, "User", "TargetUserName"), refs: []event.Ref{event.RefOf(ev)}}
}

func baseName(p string) string {
	p = strings.Trim(strings.TrimSpace(p), `"`)
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		p = p[i+1:]
	}
	return strings.ToLower(p)
}

// dcom joins the COM servers with the network logons they ran in: a COM
// object activated from another machine (MMC20.Application, ShellWindows,
// Excel.Application …), the way DCOM lateral movement runs code. Remote
// administration rarely activates an application's COM server in the
// caller's own session, so one is medium by itself and high off hours.
func (a *Analyzer) dcom() []event.Finding {
	keys := make([]string, 0, len(a.coms))
	for k := range a.coms {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []event.Finding
	for _, k := range keys {
		c := a.coms[k]
		n, ok := a.net[c.hostKey+"\x00"+c.logonID]
		if !ok {
			continue
		}
		why := []string{fmt.Sprintf("%s was started as a COM server (%s) by the DCOM launcher", baseName(c.image), c.cmd),
			fmt.Sprintf("in logon session %s, a network logon (4624 type 3) of %s from %s: the object was activated from that machine", c.logonID, akit.OrDash(n.user), n.src)}
		sev, title := event.SevMedium, "COM object activated from another machine (DCOM lateral movement)"
		if timing := akit.Timing(a.cfg, c.t); timing != "" {
			sev = event.SevHigh
			title += " (" + timing + ")"
			why = append(why, timing+": "+akit.When(a.cfg, c.t))
		}
		user := c.user
		if user == "" {
			user = n.user
		}
		refs := akit.CapRefs(akit.SortRefs(append([]event.Ref{n.ref}, c.refs...)), akit.MaxRefs)
		out = append(out, event.Finding{
			Time: c.t, End: refs[len(refs)-1].Time, RuleID: "lateral.dcom", Title: title, Severity: sev,
			Tags: []string{"attack.lateral_movement", "attack.t1021.003"}, Host: c.host, User: user,
			Summary:  fmt.Sprintf("%s started on %s for %s from %s at %s", baseName(c.image), c.host, akit.OrDash(n.user), n.src, akit.When(a.cfg, c.t)),
			Reason:   strings.Join(why, "; "),
			Analyzer: Name,
			Details:  akit.Details("source", n.src, "image", c.image, "logon_id", c.logonID),
			Refs:     refs,
		})
	}
	return out
}

// merge joins the records of one logon (same host, identity and source,
// within sameLogon), keeping the earliest time.
func merge(ls []*logon) []*logon {
	sort.SliceStable(ls, func(i, j int) bool {
		a, b := ls[i], ls[j]
		if a.hostKey != b.hostKey {
			return a.hostKey < b.hostKey
		}
		if a.userKey != b.userKey {
			return a.userKey < b.userKey
		}
		return a.t.Before(b.t)
	})
	var out []*logon
	for _, l := range ls {
		if n := len(out); n > 0 {
			p := out[n-1]
			if p.hostKey == l.hostKey && p.userKey == l.userKey && l.t.Sub(p.t) <= sameLogon && (p.src == l.src || p.src == "" || l.src == "") {
				if p.src == "" {
					p.src = l.src
				}
				if !slices.Contains(p.via, l.via[0]) {
					p.via = append(p.via, l.via[0])
				}
				p.refs = append(p.refs, l.refs...)
				continue
			}
		}
		c := *l
		out = append(out, &c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].t.Before(out[j].t) })
	return out
}

type base struct {
	hosts, srcs map[string]bool
	week        akit.Week
	n           int
}

// Finish implements analyzers.Analyzer.
func (a *Analyzer) Finish() []event.Finding {
	cfg := a.cfg
	ls := merge(a.logons)
	bf, bt, ok := akit.Baseline(cfg, a.first, a.last)
	bases := map[string]*base{}
	if ok {
		for _, l := range ls {
			if l.t.Before(bf) || !l.t.Before(bt) {
				continue
			}
			b := bases[l.userKey]
			if b == nil {
				b = &base{hosts: map[string]bool{}, srcs: map[string]bool{}}
				bases[l.userKey] = b
			}
			b.hosts[l.hostKey] = true
			if l.src != "" {
				b.srcs[l.src] = true
			}
			b.week.Add(cfg, l.t)
			b.n++
		}
	}
	var out []event.Finding
	for _, l := range ls {
		inBase := ok && !l.t.Before(bf) && l.t.Before(bt)
		loop := loopback(l.src)
		if inBase && !loop {
			continue
		}
		if f, ok := a.judge(l, bases[l.userKey], loop, bf, bt); ok {
			out = append(out, f)
		}
	}
	out = append(out, a.dcom()...)
	if a.dropped > 0 {
		out = append(out, event.Finding{RuleID: "lateral.capacity", Title: "lateral kept only part of the remote logons", Severity: event.SevInfo, Analyzer: Name,
			Summary: fmt.Sprintf("%d remote logons were not judged (memory bound of %d)", a.dropped, maxLogons), Reason: "bounded memory", Details: akit.Details("dropped", a.dropped)})
	}
	akit.Sort(out)
	return out
}

func loopback(ip string) bool {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	return err == nil && a.Unmap().IsLoopback()
}

func (a *Analyzer) judge(l *logon, b *base, loop bool, bf, bt time.Time) (event.Finding, bool) {
	cfg := a.cfg
	score := 0
	var why []string
	tags := []string{"attack.lateral_movement", "attack.t1021.001"}
	if loop {
		score += 3
		why = append(why, "RDP arrived from the loopback address "+l.src+": a tunnel on the host carries it (port forward, plink, ngrok, chisel)")
		tags = append(tags, "attack.command_and_control", "attack.t1572")
	}
	if l.src != "" && !loop && !cfg.Internal(l.src) {
		if a, err := netip.ParseAddr(l.src); err == nil && !a.IsPrivate() && !a.IsLinkLocalUnicast() {
			if _, prov := cfg.ProviderIP(l.src); !prov {
				score += 2
				why = append(why, "from an internet address "+l.src+" that is neither internal nor a provider network")
				tags = append(tags, "attack.initial_access", "attack.t1133")
			}
		}
	}
	span := fmt.Sprintf("baseline %s – %s", cfg.Local(bf).Format("2006-01-02"), cfg.Local(bt).Format("2006-01-02"))
	switch {
	case b == nil:
		score++
		why = append(why, "no RDP logon of this identity in the baseline ("+span+")")
	default:
		if !b.hosts[l.hostKey] {
			score++
			why = append(why, fmt.Sprintf("first RDP logon of this identity to %s (%s to %d other hosts in the baseline)", l.host, akit.Plural(b.n, "logon"), len(b.hosts)))
		}
		if l.src != "" && !b.srcs[l.src] && !loop {
			score++
			why = append(why, fmt.Sprintf("from %s, a source this identity did not use in the baseline (%d known)", l.src, len(b.srcs)))
		}
	}
	timing := akit.Timing(cfg, l.t)
	if timing != "" && (b == nil || b.week.Near(cfg, l.t) == 0) && score >= 1 {
		score++
		why = append(why, timing+", outside the identity's own hours: "+akit.When(cfg, l.t))
	}
	if p, ok := cfg.Provider(l.user); ok {
		why = append(why, fmt.Sprintf("provider identity (%s)", p.Name))
	}
	if score == 0 {
		return event.Finding{}, false
	}
	sev := event.SevLow
	switch {
	case score >= 3:
		sev = event.SevHigh
	case score == 2:
		sev = event.SevMedium
	}
	rule, title := "lateral.rdp", "RDP logon outside the identity's pattern"
	if loop {
		rule, title = "lateral.rdp_tunnel", "RDP through a tunnel (from loopback)"
	}
	if timing != "" {
		title += " (" + timing + ")"
	}
	refs := akit.CapRefs(akit.SortRefs(append([]event.Ref(nil), l.refs...)), akit.MaxRefs)
	return event.Finding{
		Time: l.t, End: refs[len(refs)-1].Time, RuleID: rule, Title: title, Severity: sev, Tags: tags,
		Host: l.host, User: l.user,
		Summary:  fmt.Sprintf("%s logged on to %s over RDP from %s at %s [%s]", l.user, l.host, akit.OrDash(l.src), akit.When(cfg, l.t), strings.Join(l.via, ", ")),
		Reason:   strings.Join(why, "; ") + fmt.Sprintf("; score %d", score),
		Analyzer: Name,
		Details:  akit.Details("source", l.src, "loopback", akit.B2I(loop), "score", score, "baseline_logons", baseN(b)),
		Refs:     refs,
	}, true
}

func baseN(b *base) int {
	if b == nil {
		return 0
	}
	return b.n
}
