// Package psrecon finds PowerShell and command-line reconnaissance: script
// blocks (4104, multi-part blocks reassembled), module logging (4103),
// classic engine events (400/800), process creation (4688, Sysmon 1) and
// RMM command logs, decoded (-EncodedCommand and common obfuscation),
// mapped to ATT&CK discovery techniques and scored by breadth, tempo,
// timing and context. See README.md.
package psrecon

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/analyzers/recon"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Name is the analyzer's name in findings.
const Name = "psrecon"

// Tunables, documented in README.md.
const (
	// BurstGap splits a host's commands into bursts.
	BurstGap = 15 * time.Minute
	// HighBreadth is the number of distinct discovery kinds that makes a
	// burst a reconnaissance sweep rather than an admin's lookup.
	HighBreadth = recon.HighBreadth
	// sessionGrace tolerates clock skew between RMM logs and Windows.
	sessionGrace = 2 * time.Minute
	// maxPending bounds the bytes of incomplete multi-part script blocks.
	maxPending = 64 << 20
	// maxCache bounds the classification cache (normal life repeats the
	// same commands).
	maxCache = 50000
	// maxHits bounds the commands kept; past half of it only commands
	// with context (off hours, RMM session or agent) are kept, since only
	// those can make a burst high.
	maxHits = 200_000
)

type hit struct {
	t          time.Time
	host, user string
	hostKey    string
	via        string // 4104, 4688, sysmon1, rmm, …
	text       string // as logged, clipped
	decoded    string // decoded, clipped ("" when the same)
	kinds      []string
	tags       []string
	disc       int
	weight     int
	obfuscated bool
	rmmParent  string   // RMM tool that launched the process
	sessionID  string   // RMM session named by the event itself
	launch     launcher // who started it, when that says something
	shell      bool     // a shell started by a launcher (no discovery needed)
	ref        event.Ref
}

type part struct {
	total int
	texts map[int]string
	size  int
	t     time.Time
	ref   event.Ref
	host  string
	user  string
}

// Analyzer is the psrecon analyzer; build it with New.
type Analyzer struct {
	cfg      *caseconf.Config
	sessions akit.SessionSource
	hits     []hit
	in       akit.Interner
	cache    map[string]*recon.Hit
	parts    map[string]*part
	pending  int
	dedup    map[string]time.Time // host+text → last time, drops 400/4688 echoes
	dropped  int                  // hits not kept (caps)
	pipes    map[string]*pipeRun  // host+source → IPC$ pipe opens
	roots    map[string]bool      // parent image → binary in %SystemRoot%'s root
	lower    *akit.Memo1          // strings.ToLower of the last channel
}

// New returns a psrecon analyzer for a case that rebuilds the RMM sessions
// from the events it observes itself (tests, one analyzer alone).
func New(cfg *caseconf.Config) *Analyzer { return NewWith(cfg, nil) }

// NewWith returns a psrecon analyzer that reads the RMM sessions of ss, fed
// by the hunt (analyzers.All shares one set among its analyzers); ss nil
// is New.
func NewWith(cfg *caseconf.Config, ss *akit.SessionSet) *Analyzer {
	return &Analyzer{lower: akit.NewMemo1(strings.ToLower), cfg: cfg, sessions: akit.UseSessions(cfg, ss), in: akit.Interner{}, cache: map[string]*recon.Hit{}, parts: map[string]*part{}, dedup: map[string]time.Time{}, pipes: map[string]*pipeRun{}, roots: map[string]bool{}}
}

// Name implements analyzers.Analyzer.
func (a *Analyzer) Name() string { return Name }

var reHostApp = regexp.MustCompile(`(?i)HostApplication=([^\r\n]*)`)

// Observe implements analyzers.Analyzer.
func (a *Analyzer) Observe(ev *event.Event) {
	if ev.Source == event.SourceRMM {
		a.sessions.Feed(ev)
		if strings.EqualFold(ev.Action, event.ActionCommand) && ev.CommandLine != "" {
			a.consider(ev, ev.CommandLine, "rmm command", "", ev.SessionID)
		}
		return
	}
	if ev.Source != event.SourceEVTX {
		return
	}
	ch := a.lower.Get(ev.Channel)
	switch {
	case ev.EventID == 4104 && strings.Contains(ch, "powershell"):
		a.scriptBlock(ev)
	case ev.EventID == 4103 && strings.Contains(ch, "powershell"):
		text := first(firstOf(ev, ev.ScriptText, "Payload"), ev.CommandLine)
		a.consider(ev, text, "4103 module log", "", "")
	case (ev.EventID == 400 || ev.EventID == 800) && strings.Contains(ch, "powershell"):
		text := ev.CommandLine
		if text == "" {
			if m := reHostApp.FindStringSubmatch(allText(ev)); m != nil {
				text = m[1]
			}
		}
		if ev.EventID == 800 && ev.ScriptText != "" {
			text = ev.ScriptText
		}
		a.consider(ev, text, strconv.Itoa(int(ev.EventID))+" engine", "", "")
	case ev.EventID == 4688 && strings.Contains(ch, "security"):
		a.process(ev, "4688 process")
	case ev.EventID == 1 && strings.Contains(ch, "sysmon"):
		a.process(ev, "sysmon 1 process")
	case ev.EventID == 10 && strings.Contains(ch, "sysmon"):
		a.lsassAccess(ev)
	case (ev.EventID == 4798 || ev.EventID == 4799) && strings.Contains(ch, "security"):
		a.enumeration(ev)
	case ev.EventID == 5145 && strings.Contains(ch, "security"):
		a.pipe(ev)
	}
}

// enumPipes are the RPC pipes enumeration tools (net view, NetExec,
// SharpHound's session and local-group collection, remote registry)
// open on a remote host, with the discovery they serve.
var enumPipes = map[string]struct{ kind, tag string }{
	"samr":   {"accounts", "attack.t1087.002"},
	"lsarpc": {"accounts", "attack.t1087.002"},
	"srvsvc": {"shares", "attack.t1135"},
	"wkssvc": {"network_connections", "attack.t1049"},
	"winreg": {"system", "attack.t1012"},
}

// pipeWindow is how close together one source's pipe opens must be.
const pipeWindow = 2 * time.Minute

type pipeRun struct {
	first time.Time
	pipes map[string]event.Ref
	done  bool
}

// pipe: 5145 on IPC$. Clients open lsarpc, samr and netlogon on a DC at
// every logon, and srvsvc when they browse shares; one source opening
// three or more of the enumeration pipes within two minutes, one of them
// beyond the logon pair, is a tool enumerating the host. Each open then
// becomes a command of the burst, with the discovery its pipe serves.
func (a *Analyzer) pipe(ev *event.Event) {
	if !strings.HasSuffix(strings.ToUpper(ev.Field("ShareName")), `\IPC$`) {
		return
	}
	name := strings.ToLower(strings.TrimPrefix(ev.Field("RelativeTargetName"), `\`))
	if _, ok := enumPipes[name]; !ok {
		return
	}
	src := akit.ValueOr(ev, ev.SrcIP, "IpAddress")
	if src == "" || src == "127.0.0.1" || src == "::1" {
		return
	}
	key := akit.NormHost(ev.Host) + "\x00" + src
	r := a.pipes[key]
	if r == nil || ev.Time.Sub(r.first) > pipeWindow || ev.Time.Before(r.first) {
		if len(a.pipes) >= maxCache {
			clear(a.pipes)
		}
		r = &pipeRun{first: ev.Time, pipes: map[string]event.Ref{}}
		a.pipes[key] = r
	}
	if _, seen := r.pipes[name]; r.done || seen {
		return
	}
	r.pipes[name] = event.RefOf(ev)
	_, srv := r.pipes["srvsvc"]
	_, reg := r.pipes["winreg"]
	_, wks := r.pipes["wkssvc"]
	if len(r.pipes) < 3 || !(srv || reg || wks) {
		return
	}
	r.done = true
	usr := akit.ValueOr(ev, ev.SubjectUser, "SubjectUserName")
	for _, p := range []string{"lsarpc", "samr", "srvsvc", "winreg", "wkssvc"} {
		ref, ok := r.pipes[p]
		if !ok {
			continue
		}
		k := enumPipes[p]
		h := &recon.Hit{Kinds: []string{k.kind}, Tags: []string{k.tag}, Discovery: 1}
		text := fmt.Sprintf("%s opened the %s pipe over IPC$ (%d enumeration pipes within %.0f s)", src, p, len(r.pipes), ev.Time.Sub(r.first).Seconds())
		a.recordHit(ref.Time, ev.Host, usr, text, "5145 remote pipe enumeration", "", "", ref, launcher{}, false, h)
	}
}

// lsassAccess: a process that opens LSASS with the right to read its
// memory (PROCESS_VM_READ, 0x10) is dumping credentials unless it is part
// of Windows or installed software; shells, rundll32 (comsvcs MiniDump),
// Task Manager and anything from a user folder or the root of a drive are
// not.
func (a *Analyzer) lsassAccess(ev *event.Event) {
	if !strings.HasSuffix(strings.ToLower(ev.Field("TargetImage")), `\lsass.exe`) {
		return
	}
	acc, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(ev.Field("GrantedAccess"))), "0x"), 16, 32)
	if err != nil || acc&0x10 == 0 {
		return
	}
	src := ev.Field("SourceImage")
	if !dumperImage(src) {
		return
	}
	h := &recon.Hit{Kinds: []string{"credential_access"}, Tags: []string{"attack.t1003.001"}, Weight: recon.KindByName("credential_access").Weight}
	text := fmt.Sprintf("%s opened lsass.exe with access %s", src, ev.Field("GrantedAccess"))
	a.recordHit(ev.Time, ev.Host, akit.ValueOr(ev, "", "SourceUser"), text, "sysmon 10 process access", "", "", event.RefOf(ev), launcher{}, false, h)
}

// dumperImage says whether a process opening LSASS for reading is not
// one of the system's or installed software's own.
func dumperImage(img string) bool {
	l := strings.ToLower(strings.TrimSpace(img))
	b := baseName(l)
	switch b {
	case "rundll32.exe", "powershell.exe", "pwsh.exe", "cmd.exe", "taskmgr.exe", "procdump.exe", "procdump64.exe", "sqldumper.exe", "wmic.exe":
		return true
	}
	if strings.Contains(l, `\windows\system32\`) || strings.Contains(l, `\windows\syswow64\`) || strings.Contains(l, `\program files`) ||
		strings.Contains(l, `\programdata\microsoft\windows defender\`) || strings.Contains(l, `\windows\winsxs\`) {
		return false
	}
	return l != ""
}

// enumeration: 4798/4799 (a user's local groups, a group's members
// enumerated) by a command-line tool or script; the consoles (mmc,
// explorer) and system processes do this all day.
func (a *Analyzer) enumeration(ev *event.Event) {
	caller := ev.Field("CallerProcessName")
	b := baseName(caller)
	switch b {
	case "net.exe", "net1.exe", "powershell.exe", "pwsh.exe", "cmd.exe", "wmic.exe", "dsquery.exe", "rundll32.exe":
	default:
		// Agents installed in their own folders (cloud, backup,
		// monitoring) enumerate groups all day; a tool dropped in a user
		// or temp folder or in the root of %SystemRoot% does not.
		if b == "" || !(reUserPlace.MatchString(caller) || reWinRoot.MatchString(caller) && !osRootBinary(b)) {
			return
		}
	}
	kind, tag, what := "accounts", "attack.t1087.001", "local groups of user"
	if ev.EventID == 4799 {
		kind, tag, what = "groups", "attack.t1069.001", "members of group"
	}
	text := fmt.Sprintf("%s enumerated the %s %s (%d)", caller, what, akit.ValueOr(ev, ev.User, "TargetUserName"), ev.EventID)
	h := &recon.Hit{Kinds: []string{kind}, Tags: []string{tag}, Discovery: 1}
	usr := akit.ValueOr(ev, ev.SubjectUser, "SubjectUserName")
	a.recordHit(ev.Time, ev.Host, usr, text, strconv.Itoa(int(ev.EventID))+" enumeration", "", "", event.RefOf(ev), launcher{}, false, h)
}

func (a *Analyzer) process(ev *event.Event, via string) {
	cmd := firstOf(ev, ev.CommandLine, "CommandLine", "ProcessCommandLine")
	parent := firstOf(ev, ev.ParentProcess, "ParentProcessName", "ParentImage")
	tool, _ := akit.RMMAgent(parent)
	if strings.TrimSpace(cmd) == "" {
		return
	}
	l, ok := a.launcherOf(ev, parent)
	shell := ok && reShell.MatchString(strings.TrimSpace(firstOf(ev, ev.Process, "NewProcessName", "Image")))
	a.record(ev.Time, ev.Host, user(ev), cmd, via, tool, "", event.RefOf(ev), l, shell)
}

func (a *Analyzer) scriptBlock(ev *event.Event) {
	text := firstOf(ev, ev.ScriptText, "ScriptBlockText")
	total, _ := strconv.Atoi(ev.Field("MessageTotal"))
	n, _ := strconv.Atoi(ev.Field("MessageNumber"))
	id := ev.Field("ScriptBlockId")
	if total <= 1 || id == "" || n < 1 || n > total {
		a.consider(ev, text, "4104 script block", "", "")
		return
	}
	key := akit.NormHost(ev.Host) + "\x00" + id
	p := a.parts[key]
	if p == nil {
		if a.pending+len(text) > maxPending {
			a.consider(ev, text, "4104 script block (part)", "", "")
			return
		}
		p = &part{total: total, texts: map[int]string{}, t: ev.Time, ref: event.RefOf(ev), host: a.in.Get(ev.Host), user: a.in.Get(user(ev))}
		a.parts[key] = p
	}
	if _, dup := p.texts[n]; !dup && a.pending+len(text) <= maxPending {
		p.texts[n] = strings.Clone(text)
		p.size += len(text)
		a.pending += len(text)
	}
	if n == 1 || ev.Time.Before(p.t) {
		p.t, p.ref = ev.Time, event.RefOf(ev)
	}
	if len(p.texts) == p.total {
		a.flushPart(key, p)
	}
}

func (a *Analyzer) flushPart(key string, p *part) {
	delete(a.parts, key)
	a.pending -= p.size
	nums := make([]int, 0, len(p.texts))
	for n := range p.texts {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	var b strings.Builder
	for _, n := range nums {
		b.WriteString(p.texts[n])
	}
	via := fmt.Sprintf("4104 script block (%d parts)", p.total)
	if len(nums) < p.total {
		via = fmt.Sprintf("4104 script block (%d of %d parts)", len(nums), p.total)
	}
	a.record(p.t, p.host, p.user, b.String(), via, "", "", p.ref, launcher{}, false)
}

func (a *Analyzer) consider(ev *event.Event, text, via, rmmParent, sessionID string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	a.record(ev.Time, ev.Host, user(ev), text, via, rmmParent, sessionID, event.RefOf(ev), launcher{}, false)
}

func (a *Analyzer) record(t time.Time, host, usr, text, via, rmmParent, sessionID string, ref event.Ref, l launcher, shell bool) {
	h, ok := a.cache[text]
	if !ok {
		c := recon.Classify(text)
		h = &c
		if len(a.cache) >= maxCache {
			clear(a.cache)
		}
		a.cache[strings.Clone(text)] = h
	}
	a.recordHit(t, host, usr, text, via, rmmParent, sessionID, ref, l, shell, h)
}

func (a *Analyzer) recordHit(t time.Time, host, usr, text, via, rmmParent, sessionID string, ref event.Ref, l launcher, shell bool, h *recon.Hit) {
	if h.Discovery == 0 && h.Weight < 2 && !shell {
		return
	}
	if n := len(a.hits); n >= maxHits/2 {
		if n >= maxHits || (a.cfg.InBusinessHours(t) && rmmParent == "" && sessionID == "" && l.Level == 0) {
			a.dropped++
			return
		}
	}
	// The same command line reaches the log several times (4688, Sysmon 1,
	// 400): count it once per host and second.
	dk := akit.NormHost(host) + "\x00" + text
	if last, ok := a.dedup[dk]; ok && t.Sub(last).Abs() < 2*time.Second {
		return
	}
	if len(a.dedup) > maxCache {
		clear(a.dedup)
	}
	a.dedup[dk] = t
	dec := ""
	if h.Obfuscated {
		dec = akit.Clip(h.Decoded.Text, 400)
	}
	a.hits = append(a.hits, hit{t: t, host: a.in.Get(host), hostKey: a.in.Get(akit.NormHost(host)), user: a.in.Get(usr), via: a.in.Get(via), text: a.in.Get(akit.Clip(text, 300)), decoded: dec,
		kinds: h.Kinds, tags: h.Tags, disc: h.Discovery, weight: h.Weight, obfuscated: h.Obfuscated, rmmParent: rmmParent, sessionID: a.in.Get(sessionID), ref: ref,
		launch: l, shell: shell})
}

func user(ev *event.Event) string {
	return firstOf(ev, first(ev.SubjectUser, ev.User, ev.Operator), "SubjectUserName", "User")
}

// allText joins an event's raw string fields: classic PowerShell events
// keep HostApplication inside an unnamed data string.
func allText(ev *event.Event) string {
	d := ev.FieldDict()
	if d == nil {
		return ev.Message
	}
	var b strings.Builder
	b.WriteString(ev.Message)
	for _, it := range d.Items() {
		if s, ok := it.Value.(string); ok {
			b.WriteByte('\n')
			b.WriteString(s)
		}
	}
	return b.String()
}

// Finish implements analyzers.Analyzer.
func (a *Analyzer) Finish() []event.Finding {
	keys := make([]string, 0, len(a.parts))
	for k := range a.parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a.flushPart(k, a.parts[k])
	}
	sessions, verdicts := a.sessions.Built()
	// Sort in place (no copy: hits can be many) and walk each host's run.
	slices.SortStableFunc(a.hits, func(x, y hit) int {
		if c := strings.Compare(x.hostKey, y.hostKey); c != 0 {
			return c
		}
		if c := x.t.Compare(y.t); c != 0 {
			return c
		}
		return strings.Compare(x.text, y.text)
	})
	hostSessions := map[string][]int{}
	for i, s := range sessions {
		hostSessions[s.HostKey] = append(hostSessions[s.HostKey], i)
	}
	var out []event.Finding
	for lo := 0; lo < len(a.hits); {
		hk := a.hits[lo].hostKey
		hi := lo
		for hi < len(a.hits) && a.hits[hi].hostKey == hk {
			hi++
		}
		hs := a.hits[lo:hi]
		lo = hi
		// A hit names its session, or falls in the first one (by start)
		// containing it; hits come in time order, so a window over the
		// host's sessions finds it without walking them all.
		win := akit.NewSessionWindow(sessions, hostSessions[hk], sessionGrace)
		sessOf := func(h *hit) int {
			if h.sessionID == "" {
				return win.Find(h.t)
			}
			for _, i := range hostSessions[hk] {
				if sessions[i].ID == h.sessionID {
					return i
				}
			}
			return -1
		}
		start, bs := 0, -2
		flush := func(end int) {
			if end > start {
				var s *akit.Session
				var v *akit.Verdict
				if bs >= 0 {
					s, v = sessions[bs], &verdicts[bs]
				}
				out = append(out, a.finding(hs[start:end], s, v))
			}
			start = end
		}
		for i := range hs {
			si := sessOf(&hs[i])
			if i > start && (si != bs || (si < 0 && hs[i].t.Sub(hs[i-1].t) > BurstGap)) {
				flush(i)
			}
			bs = si
		}
		flush(len(hs))
	}
	if a.dropped > 0 {
		out = append(out, capacityFinding(a.dropped))
	}
	akit.Sort(out)
	return out
}

func (a *Analyzer) finding(burst []hit, s *akit.Session, v *akit.Verdict) event.Finding {
	cfg := a.cfg
	kinds := map[string]bool{}
	tags := map[string]bool{"attack.discovery": false}
	examples := map[string]string{}
	weight, obf := 0, false
	var decoded []string
	rmmParent := ""
	var launch launcher
	shells := 0
	users := map[string]int{}
	var refs []event.Ref
	var firstDisc, lastDisc time.Time
	timing := ""
	for _, h := range burst {
		for _, kn := range h.kinds {
			if !kinds[kn] {
				kinds[kn] = true
				examples[kn] = h.text
				if kd := recon.KindByName(kn); kd != nil {
					weight += kd.Weight
				}
			}
		}
		for _, t := range h.tags {
			tags[t] = true
		}
		if h.disc > 0 {
			tags["attack.discovery"] = true
			if firstDisc.IsZero() {
				firstDisc = h.t
			}
			lastDisc = h.t
		}
		if h.obfuscated {
			obf = true
			if len(decoded) < 3 && !slices.Contains(decoded, h.decoded) {
				decoded = append(decoded, h.decoded)
			}
		}
		if h.rmmParent != "" {
			rmmParent = h.rmmParent
		}
		if h.launch.Level > launch.Level {
			launch = h.launch
		}
		if h.shell {
			shells++
			if _, ok := examples["shell"]; !ok {
				examples["shell"] = h.text
			}
		}
		if h.user != "" {
			users[h.user]++
		}
		refs = append(refs, h.ref)
		if tm := akit.Timing(cfg, h.t); tm != "" && timing == "" {
			timing = tm
		}
	}
	var disc []string
	var other []string
	for _, kd := range recon.Kinds {
		if kinds[kd.Name] {
			if kd.Discovery {
				disc = append(disc, kd.Name)
			} else {
				other = append(other, kd.Name)
			}
		}
	}
	if obf {
		other = append(other, "obfuscation")
		weight += 2
	}
	breadth := len(disc)
	tempo := lastDisc.Sub(firstDisc).Minutes()
	provUser := ""
	usr := topKey(users)
	if s != nil && s.Operator != "" && (usr == "" || systemUser(usr)) {
		// Commands run through the RMM agent run as SYSTEM; the person
		// behind them is the session's operator.
		usr = s.Operator
	}
	if p, ok := cfg.Provider(usr); ok {
		provUser = p.Name
	}
	inSession := s != nil
	outSession := v != nil && v.Out
	offHours := timing != ""

	score := breadth + weight
	var why []string
	why = append(why, fmt.Sprintf("%d distinct discovery kinds (a sweep from %d)", breadth, HighBreadth))
	if breadth >= 2 {
		why = append(why, fmt.Sprintf("within %.0f min", tempo))
		if tempo <= 10 && breadth >= HighBreadth {
			score++
		}
	}
	switch timing {
	case "weekend", "holiday":
		score += 3
		why = append(why, "on a "+timing+": "+akit.When(cfg, burst[0].t))
	case "off-hours":
		score += 2
		why = append(why, "outside business hours: "+akit.When(cfg, burst[0].t))
	}
	if inSession {
		score += 2
		st := "in pattern"
		if outSession {
			score += 2
			st = fmt.Sprintf("out of pattern, session score %d", v.Score)
		}
		why = append(why, fmt.Sprintf("inside RMM session %s (%s, operator %q, %s)", s.ID, s.Tool, s.Operator, st))
	}
	if rmmParent != "" {
		score += 2
		why = append(why, "launched by the "+rmmParent+" agent")
	}
	if provUser != "" {
		score++
		why = append(why, fmt.Sprintf("by provider identity %s (%s)", usr, provUser))
	}
	if len(other) > 0 {
		why = append(why, "also: "+strings.Join(other, ", "))
	}
	if launch.Level > 0 {
		score += 2 * launch.Level
		why = append(why, "started by "+launch.What)
		tags[launch.Tag] = true
	}
	if kinds["remote_output"] {
		why = append(why, "output redirected to an administrative share on the host itself (wmiexec/smbexec shape)")
	}

	// Several discovery kinds off hours or in an out-of-pattern session is
	// the recon sweep the brief describes; in office hours, or inside an
	// ordinary maintenance session, the same breadth is an admin at work
	// until shown otherwise.
	context := offHours || outSession
	sev := event.SevInfo
	switch {
	case breadth >= 2 && context:
		sev = event.SevHigh
	case breadth >= HighBreadth:
		sev = event.SevMedium
	case breadth == 2:
		sev = event.SevLow
	case breadth == 1 && (offHours || inSession || rmmParent != ""):
		sev = event.SevLow
	}
	if kinds["credential_access"] || kinds["ad_collector"] {
		sev = akit.MaxSev(sev, event.SevHigh)
		if context || inSession {
			sev = event.SevCritical
		}
	}
	// Who started it: a web server, document or accessibility binary
	// running a shell or a discovery command is an intruder's; a
	// remote-execution host (WMI, WinRM, DCOM, a service binary dropped
	// in ADMIN$) running discovery is remote reconnaissance, running a
	// bare shell is worth a look.
	switch {
	case launch.Level >= 2 && (breadth >= 1 || shells > 0),
		launch.Level == 1 && breadth >= 1,
		kinds["remote_output"]:
		sev = akit.MaxSev(sev, event.SevHigh)
	case launch.Level == 1 && shells > 0:
		sev = akit.MaxSev(sev, event.SevMedium)
	}
	if obf && (kinds["download"] || kinds["execute_string"]) {
		sev = akit.MaxSev(sev, event.SevHigh)
	} else if kinds["download"] {
		sev = akit.MaxSev(sev, event.SevMedium)
	}

	rule := "psrecon.command"
	title := "Discovery command"
	switch {
	case launch.Level > 0 || kinds["remote_output"]:
		rule = "psrecon.remote_exec"
		title = "Commands started by " + akit.OrDash(strings.SplitN(launch.What, " (", 2)[0])
		if launch.Level == 0 {
			title = "Remote command execution (output to an admin share)"
		}
	case breadth >= 2:
		rule = "psrecon.burst"
		title = fmt.Sprintf("Reconnaissance burst: %d discovery kinds in %.0f min", breadth, tempo)
	case kinds["credential_access"]:
		rule, title = "psrecon.credential_access", "Credential-theft tooling in PowerShell"
	case obf:
		rule, title = "psrecon.obfuscated", "Obfuscated PowerShell decoded"
	case kinds["download"]:
		rule, title = "psrecon.download", "PowerShell download cradle"
	}
	if timing != "" {
		title += " (" + timing + ")"
	}
	if inSession {
		title += " in RMM session"
	}
	var ex []string
	if e, ok := examples["shell"]; ok && len(disc) == 0 {
		ex = append(ex, "shell: "+akit.Clip(e, 120))
	}
	for _, kn := range append(append([]string{}, disc...), other...) {
		if e, ok := examples[kn]; ok {
			ex = append(ex, fmt.Sprintf("%s: %s", kn, akit.Clip(e, 120)))
		}
	}
	summary := fmt.Sprintf("%s on %s ran %s between %s and %s: %s", orUnknown(usr), burst[0].host, akit.Plural(len(burst), "command"),
		cfg.Local(burst[0].t).Format("2006-01-02 15:04:05"), cfg.Local(burst[len(burst)-1].t).Format("15:04:05 MST"), strings.Join(ex, "; "))
	if len(decoded) > 0 {
		summary += ". Decoded: " + strings.Join(decoded, " | ")
	}
	var tagList []string
	for t, on := range tags {
		if on {
			tagList = append(tagList, t)
		}
	}
	sort.Strings(tagList)
	refs = akit.CapRefs(akit.SortRefs(refs), akit.MaxRefs)
	f := event.Finding{
		Time: burst[0].t, End: burst[len(burst)-1].t, RuleID: rule, Title: title, Severity: sev, Tags: tagList,
		Host: burst[0].host, User: usr, Summary: summary,
		Reason:   strings.Join(why, "; ") + fmt.Sprintf("; score %d", score),
		Analyzer: Name,
		Details: akit.Details("commands", len(burst), "breadth", breadth, "kinds", strings.Join(append(append([]string{}, disc...), other...), ","),
			"tempo_min", akit.Round1(tempo), "off_hours", akit.B2I(offHours), "in_rmm_session", akit.B2I(inSession), "session_out_of_pattern", akit.B2I(outSession),
			"rmm_agent_parent", akit.B2I(rmmParent != ""), "launcher_level", launch.Level, "provider_user", akit.B2I(provUser != ""), "obfuscated", akit.B2I(obf), "score", score),
		Refs: refs,
	}
	if s != nil {
		f.SessionID = s.ID
	}
	return f
}

func systemUser(u string) bool {
	u = strings.ToLower(u)
	if i := strings.LastIndexByte(u, '\\'); i >= 0 {
		u = u[i+1:]
	}
	return u == "system" || u == "local service" || u == "network service" || strings.HasSuffix(u, "$")
}

// capacityFinding says that the memory bound cut the evidence: a report
// must not claim completeness it does not have.
func capacityFinding(dropped int) event.Finding {
	return event.Finding{RuleID: "psrecon.capacity", Title: "psrecon kept only part of the commands", Severity: event.SevInfo, Analyzer: Name,
		Summary: fmt.Sprintf("%d discovery-like commands in office hours without RMM context were not kept (memory bound of %d commands)", dropped, maxHits),
		Reason:  "bounded memory over very large stores; commands off hours or in RMM context are always kept up to the bound",
		Details: akit.Details("dropped", dropped, "max_hits", maxHits)}
}

func topKey(m map[string]int) string {
	best, bn := "", -1
	for k, n := range m {
		if n > bn || n == bn && k < best {
			best, bn = k, n
		}
	}
	return best
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown user)"
	}
	return s
}

// Wants implements analyzers.Selective: RMM events (their commands, and
// the sessions when it builds its own) and the PowerShell, process,
// enumeration, share and process-access events Observe reads, with
// every column.
func (a *Analyzer) Wants() akit.Wants {
	return akit.Wants{
		{Source: event.SourceRMM},
		{Source: event.SourceEVTX, ChannelHas: "powershell", IDs: []int32{4104, 4103, 400, 800}},
		{Source: event.SourceEVTX, ChannelHas: "security", IDs: []int32{4688, 4798, 4799, 5145}},
		{Source: event.SourceEVTX, ChannelHas: "sysmon", IDs: []int32{1, 10}},
	}
}

// first and firstOf read text as it is (commands, scripts).
var (
	first   = akit.FirstText
	firstOf = akit.TextOr
)
