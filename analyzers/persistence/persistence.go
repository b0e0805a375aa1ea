// Package persistence finds what an intruder leaves behind to run again
// or to run remotely: services installed (7045, 4697) — PsExec-style
// remote execution among them —, scheduled tasks created, changed and
// deleted (4698/4699/4702, TaskScheduler 106/140/141), autostart registry
// values (Sysmon 12/13/14) and WMI event subscriptions (Sysmon 19–21,
// WMI-Activity 5861). Each is judged by what it runs, where from, when,
// what it started and whether the same thing was installed before (the
// baseline); when nothing is of concern it says so, with the evidence it
// read. See README.md.
package persistence

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Name is the analyzer's name in findings.
const Name = "persistence"

// Tunables, documented in README.md.
const (
	// QuickDelete is how soon a deleted task counts as run-once remote
	// execution (atexec creates, runs and deletes within seconds).
	QuickDelete = 2 * time.Minute
	// fleetHosts is how many hosts the same local install must reach to
	// be judged a software deployment.
	fleetHosts = 3
	// spawnWindow is how long after a service install the processes its
	// binary starts are attributed to it.
	spawnWindow = 30 * time.Minute
	// dropWindow is how long before a service install a file written to
	// an admin share counts as its binary arriving.
	dropWindow = 10 * time.Minute
	// sessionGrace tolerates clock skew between RMM logs and Windows.
	sessionGrace = 2 * time.Minute
	// maxItems bounds what is kept (installs are rare; autorun writes by
	// installers are not).
	maxItems = 100_000
	maxProcs = 100_000
)

const (
	kService = "service"
	kTask    = "scheduled task"
	kAutorun = "autorun"
	kWMI     = "WMI subscription"
)

type item struct {
	kind       string
	t          time.Time
	host, user string
	name       string // service/task name, registry key, WMI consumer
	image      string // what it runs
	what       string // for autoruns: the kind of autostart
	tag        string
	op         string // created, updated, deleted
	sigs       []signal
	refs       []event.Ref
	sig        string // signature for the baseline
	deleted    time.Time
	logonID    string // the creator's logon session (4697, 4698, 4702)
}

type proc struct {
	t           time.Time
	parentBase  string
	cmd         string
	ref         event.Ref
	user        string
	parentImage string
}

type drop struct {
	t          time.Time
	base       string
	share, src string
	user       string
	ref        event.Ref
}

// Analyzer is the persistence analyzer; build it with New.
type Analyzer struct {
	cfg     *caseconf.Config
	items   []*item
	deletes map[string][]time.Time // host\x00task → deletion times
	delRefs map[string][]event.Ref
	procs   map[string][]proc // host → processes started by a binary in a suspicious place
	pids    map[string]string // host\x00pid → image, for 4688 without ParentProcessName
	// netLogons: host\x00logon id → source address of network logons.
	netLogons map[string]string
	places    map[string]bool // suspiciousPlace by image
	sessions  akit.SessionSource
	// inSession places a time on a host in an RMM session (set by Finish).
	inSession func(hostKey string, t time.Time) (*akit.Session, *akit.Verdict)
	drops     map[string][]drop // host → executables written to shares
	basis     map[string]*basisOf
	first     time.Time
	last      time.Time
	dropped   int
	fleet     map[string]map[string]bool // signature → hosts it was installed on (Finish)
	lower     *akit.Memo1
	in        akit.Interner
	// signals remembers imageSignals per command and weight: services,
	// tasks and run keys install the same commands on every host, and
	// judging one runs a dozen expressions.
	signals map[signalKey][]signal
}

type signalKey struct {
	cmd    string
	weight int
}

// maxSignals bounds the commands signals remembers.
const maxSignals = 1 << 14

// imageSignals is imageSignals, remembered; the caller owns the slice.
func (a *Analyzer) imageSignals(cmd string, weight int) []signal {
	k := signalKey{cmd, weight}
	out, ok := a.signals[k]
	if !ok {
		out = slices.Clip(imageSignals(cmd, weight))
		if a.signals == nil {
			a.signals = map[signalKey][]signal{}
		}
		if len(a.signals) < maxSignals {
			a.signals[signalKey{strings.Clone(cmd), weight}] = out
		}
	}
	return slices.Clone(out)
}

type basisOf struct {
	events      int
	hosts       map[string]bool
	first, last time.Time
}

// New returns a persistence analyzer for a case that rebuilds the RMM sessions
// from the events it observes itself (tests, one analyzer alone).
func New(cfg *caseconf.Config) *Analyzer { return NewWith(cfg, nil) }

// NewWith returns a persistence analyzer that reads the RMM sessions of ss, fed
// by the hunt (analyzers.All shares one set among its analyzers); ss nil
// is New.
func NewWith(cfg *caseconf.Config, ss *akit.SessionSet) *Analyzer {
	return &Analyzer{cfg: cfg, deletes: map[string][]time.Time{}, delRefs: map[string][]event.Ref{}, procs: map[string][]proc{}, pids: map[string]string{},
		drops: map[string][]drop{}, basis: map[string]*basisOf{}, netLogons: map[string]string{}, places: map[string]bool{}, sessions: akit.UseSessions(cfg, ss), lower: akit.NewMemo1(strings.ToLower), in: akit.Interner{}}
}

// Name implements analyzers.Analyzer.
func (a *Analyzer) Name() string { return Name }

// kinds are the events persistence reads, each tagged with what it is
// (Observe dispatches on the tag): service installs, tasks, registry and
// file writes, WMI subscriptions, processes, share access, logons, and
// the service-state events that make the basis of what is usual.
var kinds = akit.Wants{
	{Source: event.SourceEVTX, Channel: "system", IDs: []int32{7045}, Tag: "svc"},
	{Source: event.SourceEVTX, Channel: "system", IDs: []int32{7036}, Tag: "basis"},
	{Source: event.SourceEVTX, Channel: "security", IDs: []int32{4697}, Tag: "svc"},
	{Source: event.SourceEVTX, Channel: "security", IDs: []int32{4698, 4702}, Tag: "task"},
	{Source: event.SourceEVTX, Channel: "security", IDs: []int32{4699}, Tag: "taskdel"},
	{Source: event.SourceEVTX, ChannelHas: "taskscheduler", IDs: []int32{106, 140}, Tag: "task"},
	{Source: event.SourceEVTX, ChannelHas: "taskscheduler", IDs: []int32{141}, Tag: "taskdel"},
	{Source: event.SourceEVTX, ChannelHas: "sysmon", IDs: []int32{12, 13, 14}, Tag: "reg"},
	{Source: event.SourceEVTX, ChannelHas: "sysmon", IDs: []int32{11}, Tag: "file"},
	{Source: event.SourceEVTX, ChannelHas: "sysmon", IDs: []int32{19, 20, 21}, Tag: "wmi"},
	{Source: event.SourceEVTX, ChannelHas: "wmi-activity", IDs: []int32{5861}, Tag: "wmi"},
	{Source: event.SourceEVTX, Channel: "security", IDs: []int32{4688}, Tag: "proc"},
	{Source: event.SourceEVTX, ChannelHas: "sysmon", IDs: []int32{1}, Tag: "proc"},
	{Source: event.SourceEVTX, Channel: "security", IDs: []int32{5145}, Tag: "share"},
	{Source: event.SourceEVTX, Channel: "security", IDs: []int32{4624}, Tag: "logon"},
}

// what is the tag of an event's kind, "" for events persistence does not
// read.
func what(source string, id int32, ch string) string {
	if k := kinds.Find(source, id, ch); k != nil {
		return k.Tag
	}
	return ""
}

// Wants implements analyzers.Selective: the kinds Observe reads, with
// every column, and the RMM events when it builds its own sessions.
func (a *Analyzer) Wants() akit.Wants {
	return a.sessions.Want(kinds)
}

// Observe implements analyzers.Analyzer.
func (a *Analyzer) Observe(ev *event.Event) {
	if ev.Source == event.SourceRMM {
		a.sessions.Feed(ev)
		return
	}
	ch := a.lower.Get(ev.Channel)
	w := what(ev.Source, ev.EventID, ch)
	if w == "" {
		return
	}
	if a.first.IsZero() || ev.Time.Before(a.first) {
		a.first = ev.Time
	}
	if ev.Time.After(a.last) {
		a.last = ev.Time
	}
	switch w {
	case "basis":
		a.count("services", ev)
	case "svc":
		a.count("services", ev)
		a.service(ev)
	case "task":
		a.count("scheduled tasks", ev)
		a.task(ev)
	case "taskdel":
		a.count("scheduled tasks", ev)
		name := taskName(ev)
		k := akit.NormHost(ev.Host) + "\x00" + strings.ToLower(name)
		if len(a.deletes) < maxItems {
			a.deletes[k] = append(a.deletes[k], ev.Time)
			a.delRefs[k] = append(a.delRefs[k], event.RefOf(ev))
		}
	case "reg":
		a.count("registry (Sysmon)", ev)
		a.registry(ev)
	case "wmi":
		a.count("WMI subscriptions", ev)
		a.wmi(ev)
	case "file":
		a.startup(ev)
	case "proc":
		a.process(ev)
	case "share":
		a.share(ev)
	case "logon":
		a.logon(ev)
	}
}

// logon remembers network logons (type 3) by logon id: a task or service
// created in one was created from another machine.
func (a *Analyzer) logon(ev *event.Event) {
	lt := ev.LogonType.V
	if lt == 0 {
		n, _ := strconv.Atoi(ev.Field("LogonType"))
		lt = int32(n)
	}
	if lt != 3 || len(a.netLogons) >= maxProcs*5 {
		return
	}
	id := strings.ToLower(akit.ValueOr(ev, "", "TargetLogonId"))
	src := akit.ValueOr(ev, ev.SrcIP, "IpAddress")
	if id == "" || src == "" || loopbackOrLocal(src) {
		return
	}
	a.netLogons[a.in.Get(akit.NormHost(ev.Host))+"\x00"+id] = a.in.Get(src)
}

func loopbackOrLocal(ip string) bool {
	return ip == "-" || ip == "127.0.0.1" || ip == "::1" || ip == "0.0.0.0"
}

func (a *Analyzer) count(what string, ev *event.Event) {
	b := a.basis[what]
	if b == nil {
		b = &basisOf{hosts: map[string]bool{}}
		a.basis[what] = b
	}
	b.events++
	b.hosts[a.in.Get(akit.NormHost(ev.Host))] = true
	if b.first.IsZero() || ev.Time.Before(b.first) {
		b.first = ev.Time
	}
	if ev.Time.After(b.last) {
		b.last = ev.Time
	}
}

func (a *Analyzer) add(it *item, ev *event.Event) {
	if len(a.items) >= maxItems {
		a.dropped++
		return
	}
	it.t = ev.Time
	it.host = a.in.Get(ev.Host)
	it.refs = []event.Ref{event.RefOf(ev)}
	a.items = append(a.items, it)
}

func (a *Analyzer) service(ev *event.Event) {
	name := akit.ValueOr(ev, "", "ServiceName")
	img := akit.ValueOr(ev, "", "ImagePath", "ServiceFileName")
	if img == "" {
		img = ev.Process
	}
	user := akit.ValueOr(ev, ev.SubjectUser, "SubjectUserName")
	if dom := ev.Field("SubjectDomainName"); dom != "" && user != "" && !strings.Contains(user, `\`) {
		user = dom + `\` + user
	}
	if user == "" {
		user = akit.ValueOr(ev, "", "AccountName", "ServiceAccount")
	}
	sigs := a.imageSignals(img, 3)
	if randomName(name) {
		sigs = append(sigs, signal{"random-looking service name " + strconv.Quote(name), 1, false})
	}
	a.add(&item{kind: kService, name: name, image: img, user: user, op: "installed", tag: "attack.t1543.003", sigs: sigs,
		sig: kService + "\x00" + imageDir(img), logonID: strings.ToLower(ev.Field("SubjectLogonId"))}, ev)
}

func taskName(ev *event.Event) string {
	return akit.ValueOr(ev, "", "TaskName")
}

func (a *Analyzer) task(ev *event.Event) {
	name := taskName(ev)
	xml := akit.TextOr(ev, "", "TaskContent", "TaskContentNew")
	cmd, hidden, runAs := taskCommand(xml)
	user := akit.ValueOr(ev, ev.SubjectUser, "SubjectUserName", "UserContext", "UserName")
	if dom := ev.Field("SubjectDomainName"); dom != "" && user != "" && !strings.Contains(user, `\`) {
		user = dom + `\` + user
	}
	op := "created"
	if ev.EventID == 4702 || ev.EventID == 140 {
		op = "updated"
	}
	// A command interpreter in a task is ordinary admin work; it weighs
	// only together with what it runs and where from.
	sigs := a.imageSignals(cmd, 1)
	// Hidden and oddly named tasks are what agents and updaters create
	// too; they weigh beside a sign in what the task runs.
	if len(sigs) > 0 {
		if hidden {
			sigs = append(sigs, signal{"hidden task", 1, false})
		}
		if leaf := path.Base(strings.ReplaceAll(name, `\`, "/")); randomName(leaf) {
			sigs = append(sigs, signal{"random-looking task name", 1, false})
		}
	}
	// Windows registers its own tasks (\Microsoft\Windows\…) as the
	// system; a user account putting one there is dressing it up.
	if creator := akit.ValueOr(ev, "", "SubjectUserName"); creator != "" && !systemAccount(creator, ev.Field("SubjectUserSid")) {
		if strings.HasPrefix(strings.ToLower(name), `\microsoft\windows\`) {
			sigs = append(sigs, signal{"registered in Windows' own task folder by the user account " + creator, 2, false})
		}
		if len(sigs) > 0 && systemAccount(runAs, runAs) {
			sigs = append(sigs, signal{"runs as SYSTEM, registered by the user account " + creator, 1, false})
		}
	}
	a.add(&item{kind: kTask, name: name, image: cmd, user: user, op: op, tag: "attack.t1053.005", sigs: sigs,
		sig: kTask + "\x00" + sigNorm(name) + "\x00" + imageDir(cmd), logonID: strings.ToLower(ev.Field("SubjectLogonId"))}, ev)
}

func (a *Analyzer) registry(ev *event.Event) {
	key := akit.ValueOr(ev, "", "TargetObject")
	ak, ok := autorunKey(key)
	if !ok {
		return
	}
	if et := strings.ToLower(ev.Field("EventType")); et != "" && et != "setvalue" {
		return
	}
	writer := akit.ValueOr(ev, ev.Process, "Image")
	wl := strings.ToLower(writer)
	val := akit.ValueOr(ev, "", "Details")
	sigs := a.imageSignals(val, 3)
	if perUser(key) {
		// Per-user applications install and autostart from the user's
		// own AppData; only the user's own logon runs them.
		for i := range sigs {
			if sigs[i].why == "runs from a user-writable folder" {
				sigs[i].weight = 1
			}
		}
	}
	if ak.what == "service image written to the registry" && strings.HasSuffix(wl, `\services.exe`) {
		// The service control manager writing a service's key is an
		// install that 7045 reports; on hosts whose System log is gone it
		// is the only trace, so keep it when what it runs is damning.
		sticky := false
		for _, s := range sigs {
			sticky = sticky || s.sticky
		}
		if !sticky {
			return
		}
	}
	if ak.base > 0 {
		sigs = append(sigs, signal{ak.what + " set", ak.base, true})
	}
	if ak.what == "service image written to the registry" && !strings.HasSuffix(wl, `\services.exe`) {
		sigs = append(sigs, signal{"service created by writing the registry (by " + path.Base(strings.ReplaceAll(writer, `\`, "/")) + "), not through the service manager", 2, true})
	}
	user := akit.ValueOr(ev, ev.User, "User")
	a.add(&item{kind: kAutorun, what: ak.what, name: key, image: val, user: user, op: "set", tag: ak.tag, sigs: sigs,
		sig: kAutorun + "\x00" + sigNorm(key) + "\x00" + imageDir(val)}, ev)
}

func (a *Analyzer) wmi(ev *event.Event) {
	var name, dest, typ string
	switch ev.EventID {
	case 5861:
		name = akit.ValueOr(ev, "", "CONSUMER")
		typ = name
		dest = akit.TextOr(ev, "", "PossibleCause")
	case 20:
		name = akit.ValueOr(ev, "", "Name")
		typ = akit.ValueOr(ev, "", "Type")
		dest = akit.TextOr(ev, "", "Destination")
	case 21:
		// The binding names the consumer's class.
		name = akit.ValueOr(ev, "", "Consumer")
		typ = name
	case 19:
		// A filter alone runs nothing.
		name = akit.ValueOr(ev, "", "Name")
		typ = "filter"
	}
	if name == "" && ev.EventID == 5861 {
		// Collectors that keep only the rendered message.
		if i := strings.Index(ev.Message, "Consumer = "); i >= 0 {
			name = ev.Message[i+len("Consumer = "):]
			if j := strings.IndexByte(name, ';'); j >= 0 {
				name = name[:j]
			}
			typ, dest = name, ev.Message
		}
	}
	var sigs []signal
	tl := strings.ToLower(typ)
	switch {
	case strings.Contains(tl, "commandline") || strings.Contains(tl, "command line"):
		sigs = append(sigs, signal{"WMI consumer runs a command line", 3, true})
	case strings.Contains(tl, "activescript") || tl == "script":
		sigs = append(sigs, signal{"WMI consumer runs a script", 3, true})
	}
	if len(sigs) > 0 {
		for _, s := range imageSignals(commandOf(dest), 0) {
			if s.weight > 0 {
				sigs = append(sigs, s)
			}
		}
	}
	user := akit.ValueOr(ev, ev.User, "User")
	a.add(&item{kind: kWMI, name: name, image: akit.Clip(commandOf(dest), 300), user: user, op: "bound", tag: "attack.t1546.003", sigs: sigs,
		sig: kWMI + "\x00" + sigNorm(name)}, ev)
}

// startup: a file created in a Startup folder (Sysmon 11) runs at the
// next logon. Installers put shortcuts there; scripts and programs
// dropped there, above all by a shell, are an intruder's.
func (a *Analyzer) startup(ev *event.Event) {
	file := akit.ValueOr(ev, "", "TargetFilename")
	if !strings.Contains(strings.ToLower(file), `\start menu\programs\startup\`) {
		return
	}
	a.count("Startup folders (Sysmon)", ev)
	var sigs []signal
	switch ext := extOf(file); {
	case reScript.MatchString(ext):
		sigs = append(sigs, signal{"a script dropped in a Startup folder", 3, true})
	case ext == ".exe" || ext == ".dll" || ext == ".scr":
		sigs = append(sigs, signal{"a program dropped in a Startup folder", 2, false})
	default:
		sigs = append(sigs, signal{"a shortcut or file in a Startup folder", 1, false})
	}
	writer := akit.ValueOr(ev, ev.Process, "Image")
	if reInterp.MatchString(writer) {
		sigs = append(sigs, signal{"written by " + baseName(writer), 1, true})
	}
	a.add(&item{kind: kAutorun, what: "Startup folder", name: file, image: file, user: akit.ValueOr(ev, ev.User, "User"), op: "set", tag: "attack.t1547.001", sigs: sigs,
		sig: kAutorun + "\x00" + imageDir(file)}, ev)
}

// commandOf finds the command of a CommandLineEventConsumer in a 5861
// description, or returns the text.
func commandOf(s string) string {
	for _, k := range []string{"CommandLineTemplate = \"", "ExecutablePath = \"", "ScriptText = \""} {
		if i := strings.Index(s, k); i >= 0 {
			r := s[i+len(k):]
			if j := strings.Index(r, "\";"); j >= 0 {
				r = r[:j]
			}
			return strings.ReplaceAll(r, `\\`, `\`)
		}
	}
	return s
}

// process keeps processes started by a binary in the root of
// %SystemRoot%, a user folder or a share: the places a remotely
// installed service runs from.
func (a *Analyzer) process(ev *event.Event) {
	parent := akit.ValueOr(ev, ev.ParentProcess, "ParentProcessName", "ParentImage")
	hk := akit.NormHost(ev.Host)
	if parent == "" && ev.EventID == 4688 {
		// Windows 7's 4688 names no parent: join by process id, which
		// needs the images of suspicious processes by id.
		if img := akit.ValueOr(ev, ev.Process, "NewProcessName"); suspiciousPlace(img) {
			if pid := ev.Field("NewProcessId"); pid != "" && len(a.pids) < maxProcs {
				a.pids[a.in.Get(hk)+"\x00"+pid] = a.in.Get(img)
			}
		}
		if pid := ev.Field("ProcessId"); pid != "" {
			parent = a.pids[hk+"\x00"+pid]
		}
	}
	if parent == "" || !a.suspicious(parent) {
		return
	}
	img := akit.ValueOr(ev, ev.Process, "NewProcessName", "Image")
	if len(a.procs[hk]) >= 1000 {
		return
	}
	cmd := akit.TextOr(ev, ev.CommandLine, "CommandLine")
	if cmd == "" {
		cmd = img
	}
	a.procs[a.in.Get(hk)] = append(a.procs[hk], proc{t: ev.Time, parentBase: baseName(parent), parentImage: a.in.Get(parent), cmd: akit.Clip(cmd, 200), ref: event.RefOf(ev),
		user: akit.ValueOr(ev, ev.User, "SubjectUserName", "User")})
}

// suspicious is suspiciousPlace remembered per image: parents repeat
// (explorer, services, svchost) and the regexps are the cost.
func (a *Analyzer) suspicious(img string) bool {
	if v, ok := a.places[img]; ok {
		return v
	}
	if len(a.places) >= 10000 {
		clear(a.places)
	}
	v := suspiciousPlace(img)
	a.places[strings.Clone(img)] = v
	return v
}

func suspiciousPlace(img string) bool {
	return reWinRoot.MatchString(img) && !osRootBinary(baseName(img)) || reUserDir.MatchString(img) || reUNC.MatchString(img)
}

// osRootBinary: the programs Windows itself keeps in %SystemRoot%.
func osRootBinary(b string) bool {
	switch b {
	case "explorer.exe", "regedit.exe", "notepad.exe", "hh.exe", "write.exe", "bfsvc.exe", "splwow64.exe", "winhlp32.exe", "helppane.exe", "twain_32.dll":
		return true
	}
	return false
}

func baseName(p string) string {
	p = strings.Trim(strings.TrimSpace(p), `"`)
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		p = p[i+1:]
	}
	if i := strings.IndexByte(p, ' '); i >= 0 && strings.Contains(strings.ToLower(p[:i]), ".") {
		p = p[:i]
	}
	return strings.ToLower(p)
}

// share keeps executables written to a file share (5145 with write
// access): how a PsExec-style tool delivers its service binary.
func (a *Analyzer) share(ev *event.Event) {
	rel := akit.ValueOr(ev, "", "RelativeTargetName")
	if rel == "" || !strings.Contains("|.exe|.dll|.bat|.ps1|.cmd|.vbs|.sys|", "|"+extOf(rel)+"|") {
		return
	}
	acc := strings.ToLower(akit.ValueOr(ev, "", "AccessMask") + " " + ev.Field("AccessList"))
	// WriteData (0x2), AppendData (0x4) or %%4417/%%4418.
	if !(strings.Contains(acc, "%%4417") || strings.Contains(acc, "%%4418") || writeMask(acc)) {
		return
	}
	hk := akit.NormHost(ev.Host)
	if len(a.drops[hk]) >= 1000 {
		return
	}
	user := akit.ValueOr(ev, ev.SubjectUser, "SubjectUserName")
	a.drops[a.in.Get(hk)] = append(a.drops[hk], drop{t: ev.Time, base: baseName(rel), share: akit.ValueOr(ev, "", "ShareName"), src: akit.ValueOr(ev, ev.SrcIP, "IpAddress"), user: user, ref: event.RefOf(ev)})
}

func writeMask(acc string) bool {
	f := strings.Fields(acc)
	if len(f) == 0 {
		return false
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 32)
	return err == nil && v&0x6 != 0
}

// Finish implements analyzers.Analyzer.
func (a *Analyzer) Finish() []event.Finding {
	cfg := a.cfg
	bf, bt, haveBase := akit.Baseline(cfg, a.first, a.last)
	// Signatures of what was installed during the baseline, with the
	// first time each was seen: the same software installed again is an
	// update or a deployment, not an intrusion.
	seen := map[string]time.Time{}
	sort.SliceStable(a.items, func(i, j int) bool { return a.items[i].t.Before(a.items[j].t) })
	for _, it := range a.items {
		if haveBase && !it.t.Before(bf) && it.t.Before(bt) {
			if _, ok := seen[it.sig]; !ok {
				seen[it.sig] = it.t
			}
		}
	}
	// Hosts each signature was installed on: the same service, task or
	// autorun set up on many hosts is a software deployment.
	fleet := map[string]map[string]bool{}
	for _, it := range a.items {
		if fleet[it.sig] == nil {
			fleet[it.sig] = map[string]bool{}
		}
		fleet[it.sig][akit.NormHost(it.host)] = true
	}
	a.fleet = fleet
	sessions, verdicts := a.sessions.Built()
	byHost := map[string][]int{}
	for i, s := range sessions {
		byHost[s.HostKey] = append(byHost[s.HostKey], i)
	}
	a.inSession = func(hk string, t time.Time) (*akit.Session, *akit.Verdict) {
		for _, i := range byHost[hk] {
			if sessions[i].Contains(t, sessionGrace) {
				return sessions[i], &verdicts[i]
			}
		}
		return nil, nil
	}
	var out []event.Finding
	concern := 0
	for _, it := range a.items {
		f, ok := a.judge(it, seen)
		if !ok {
			continue
		}
		if event.Rank(f.Severity) >= event.Rank(event.SevMedium) {
			concern++
		}
		out = append(out, f)
	}
	if concern == 0 {
		out = append(out, a.none())
	}
	if a.dropped > 0 {
		out = append(out, event.Finding{RuleID: "persistence.capacity", Title: "persistence kept only part of the installs", Severity: event.SevInfo, Analyzer: Name,
			Summary: fmt.Sprintf("%d installs, tasks or autorun writes were not judged (memory bound of %d)", a.dropped, maxItems),
			Reason:  "bounded memory over very large stores", Details: akit.Details("dropped", a.dropped)})
	}
	akit.Sort(out)
	return out
}

func (a *Analyzer) judge(it *item, seen map[string]time.Time) (event.Finding, bool) {
	cfg := a.cfg
	sigs := append([]signal(nil), it.sigs...)
	refs := append([]event.Ref(nil), it.refs...)
	hk := akit.NormHost(it.host)
	var extra []string
	if it.kind == kTask && it.op == "created" {
		k := hk + "\x00" + strings.ToLower(it.name)
		for i, dt := range a.deletes[k] {
			if !dt.Before(it.t) && dt.Sub(it.t) <= QuickDelete {
				it.deleted = dt
				refs = append(refs, a.delRefs[k][i])
				// Agents run jobs through throw-away tasks too; a
				// throw-away task running a shell or from a temp folder
				// is atexec.
				w := 1
				if len(sigs) > 0 {
					w = 3
				}
				sigs = append(sigs, signal{fmt.Sprintf("deleted %.0f s after it was created (run-once remote execution)", dt.Sub(it.t).Seconds()), w, w == 3})
				break
			}
		}
	}
	remote := false // arrived over the network: never a deployment's benefit of the doubt
	// Arriving over the network and starting processes is what
	// deployment tools do as well: it aggravates other signs only.
	if it.kind == kService && len(sigs) > 0 {
		b := baseName(it.image)
		var kids []string
		for _, p := range a.procs[hk] {
			if p.parentBase == b && !p.t.Before(it.t.Add(-time.Minute)) && p.t.Sub(it.t) <= spawnWindow {
				refs = append(refs, p.ref)
				if len(kids) < 3 {
					kids = append(kids, p.cmd)
				}
			}
		}
		if len(kids) > 0 {
			sigs = append(sigs, signal{"its binary started processes: " + strings.Join(kids, " | "), 1, false})
		}
		for _, d := range a.drops[hk] {
			if d.base == b && !d.t.After(it.t.Add(time.Minute)) && it.t.Sub(d.t) <= dropWindow {
				remote = true
				refs = append(refs, d.ref)
				sigs = append(sigs, signal{fmt.Sprintf("its binary was written to %s over the network from %s by %s", akit.OrDash(d.share), akit.OrDash(d.src), akit.OrDash(d.user)), 1, false})
				break
			}
		}
	}
	if it.logonID != "" && it.logonID != "0x3e7" && (it.kind == kTask || it.kind == kService) {
		if src := a.netLogons[hk+"\x00"+it.logonID]; src != "" {
			// Created over the network (svcctl, atsvc): remote execution
			// by itself, though admins and deployment tools do it too.
			remote = true
			sigs = append(sigs, signal{"created from a network logon from " + src, 1, false})
		}
	}
	// Inside an RMM session on the host: the session is who did it; one
	// out of the provider's pattern makes the install a sign by itself.
	sess, verdict := a.inSession(hk, it.t)
	if sess != nil && verdict.Out {
		remote = true
		sigs = append(sigs, signal{fmt.Sprintf("during RMM session %s (%s, operator %q), out of the provider's pattern (session score %d)", sess.ID, sess.Tool, sess.Operator, verdict.Score), 1, false})
	}
	score := 0
	for _, s := range sigs {
		score += s.weight
	}
	if score == 0 {
		return event.Finding{}, false
	}
	// Installed before, in the baseline: lower what is not sticky.
	if t0, ok := seen[it.sig]; ok && it.t.Sub(t0) > time.Hour {
		loose := 0
		for _, s := range sigs {
			if !s.sticky {
				loose += s.weight
			}
		}
		cut := min(loose, 2)
		score -= cut
		extra = append(extra, fmt.Sprintf("the same %s was installed from the same place before, in the baseline (first %s)", it.kind, akit.When(cfg, t0)))
	}
	// The same thing installed locally on many hosts: a software
	// deployment (an agent's service in %SystemRoot%, say). Only what is
	// not sticky is lowered, and not when any install came over the
	// network or in an out-of-pattern session.
	if n := len(a.fleet[it.sig]); n >= fleetHosts && !remote && len(extra) == 0 {
		loose := 0
		for _, s := range sigs {
			if !s.sticky {
				loose += s.weight
			}
		}
		score -= min(loose, 2)
		extra = append(extra, fmt.Sprintf("the same %s was installed the same way on %d hosts (a software deployment)", it.kind, n))
	}
	timing := akit.Timing(cfg, it.t)
	// Off hours weighs only beside two independent signs: an admin
	// installing one odd thing at night is common, an intruder's install
	// shows several.
	if timing != "" && score >= 2 && len(sigs) >= 2 {
		score++
		extra = append(extra, timing+": "+akit.When(cfg, it.t))
	}
	if p, ok := cfg.Provider(it.user); ok && score >= 1 {
		extra = append(extra, fmt.Sprintf("by provider identity %s (%s)", it.user, p.Name))
	}
	sev := event.SevInfo
	switch {
	case score >= 3:
		sev = event.SevHigh
	case score == 2:
		sev = event.SevMedium
	case score == 1:
		sev = event.SevLow
	}
	if score <= 0 {
		return event.Finding{}, false
	}
	var why []string
	for _, s := range sigs {
		why = append(why, s.why)
	}
	why = append(why, extra...)
	tags := []string{"attack.persistence", it.tag}
	// Remote execution: a service that runs a command line or a pipe, or
	// whose binary sits in ADMIN$'s root beside another sign (Sysmon and
	// a few installers put themselves there too); a throw-away task.
	lateral := false
	for _, s := range sigs {
		switch {
		case it.kind == kService && strings.HasPrefix(s.why, "runs a command interpreter"),
			strings.Contains(s.why, "named pipe"), strings.Contains(s.why, "run-once remote") && s.weight >= 3,
			strings.Contains(s.why, "ADMIN$") && len(sigs) >= 2,
			strings.HasPrefix(s.why, "created from a network logon") && len(sigs) >= 2:
			lateral = true
		}
	}
	rule := "persistence." + strings.ReplaceAll(strings.ToLower(it.kind), " ", "_")
	title := strings.ToUpper(it.kind[:1]) + it.kind[1:] + " " + it.op
	if it.kind == kAutorun {
		title = "Autostart " + it.op + ": " + it.what
	}
	if lateral {
		switch it.kind {
		case kService:
			tags = append(tags, "attack.t1569.002", "attack.t1021.002", "attack.lateral_movement")
			rule, title = "persistence.remote_service", "Remote execution through a service (PsExec-style)"
		case kTask:
			tags = append(tags, "attack.t1021.002", "attack.lateral_movement")
			rule, title = "persistence.remote_task", "Remote execution through a scheduled task"
		}
	}
	if timing != "" {
		title += " (" + timing + ")"
	}
	summary := fmt.Sprintf("%s %s on %s by %s: %s → %s", it.kind, it.op, it.host, akit.OrDash(it.user), akit.Clip(it.name, 120), akit.Clip(it.image, 200))
	end := it.t
	if !it.deleted.IsZero() {
		end = it.deleted
	}
	refs = akit.CapRefs(akit.SortRefs(refs), akit.MaxRefs)
	if last := refs[len(refs)-1].Time; last.After(end) {
		end = last
	}
	f := event.Finding{
		Time: it.t, End: end, RuleID: rule, Title: title, Severity: sev, Tags: tags,
		Host: it.host, User: it.user, Summary: summary,
		Reason:   strings.Join(why, "; ") + fmt.Sprintf("; score %d", score),
		Analyzer: Name,
		Details:  akit.Details("kind", it.kind, "name", it.name, "image", it.image, "score", score, "lateral", akit.B2I(lateral)),
		Refs:     refs,
	}
	if sess != nil {
		f.SessionID = sess.ID
	}
	return f, true
}

// none is the negative finding: nothing of concern, and what was read to
// say so.
func (a *Analyzer) none() event.Finding {
	keys := make([]string, 0, len(a.basis))
	for k := range a.basis {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	var first, last time.Time
	for _, k := range keys {
		b := a.basis[k]
		parts = append(parts, fmt.Sprintf("%s: %d events on %d hosts", k, b.events, len(b.hosts)))
		if first.IsZero() || b.first.Before(first) {
			first = b.first
		}
		if b.last.After(last) {
			last = b.last
		}
	}
	basis := "no service, scheduled-task, autorun or WMI events were in the evidence: the absence of findings says nothing"
	if len(parts) > 0 {
		basis = "read " + strings.Join(parts, "; ")
	}
	return event.Finding{Time: first, End: last, RuleID: "persistence.none", Title: "No new services, scheduled tasks, autoruns or WMI subscriptions of concern",
		Severity: event.SevInfo, Analyzer: Name, Tags: []string{"attack.persistence"},
		Summary: "No service, scheduled task, autostart value or WMI subscription looked like an intruder's (" + akit.Plural(len(a.items), "install") + " judged)",
		Reason:  basis, Details: akit.Details("judged", len(a.items))}
}

// perUser: a value in a user's hive (HKCU, HKU\<sid>).
func perUser(key string) bool {
	k := strings.ToUpper(key)
	return strings.HasPrefix(k, `HKCU\`) || strings.HasPrefix(k, `HKU\`) || strings.HasPrefix(k, `\REGISTRY\USER\`) || strings.HasPrefix(k, `HKEY_CURRENT_USER\`) || strings.HasPrefix(k, `HKEY_USERS\`)
}

// systemAccount: the local system, service accounts and machine
// accounts, by name or SID.
func systemAccount(name, sid string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if i := strings.LastIndexByte(n, '\\'); i >= 0 {
		n = n[i+1:]
	}
	switch strings.ToUpper(strings.TrimSpace(sid)) {
	case "S-1-5-18", "S-1-5-19", "S-1-5-20":
		return true
	}
	return n == "system" || n == "local service" || n == "network service" || n == "localsystem" || strings.HasSuffix(n, "$") && n != "$"
}
