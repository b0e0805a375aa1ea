// Package fleet looks at many clients of one service provider at once:
// one spoor store per client, each hunted with its own case file, and
// across them the indicators that recur — the same operator, source
// address, RMM tool or command shape in out-of-pattern provider sessions
// at several clients — ordered by when the attacker first used them, so
// an MSP sees where the attacker went first and who else shows the same
// traces.
//
// The fleet view only reads what each client's hunt decided (its
// out-of-pattern RMM session findings and incidents) and the RMM events
// behind them; it never re-judges a session with another client's
// baseline.
package fleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/analyzers/rmmsessions"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

// Client is one client company: its store and its own case file.
type Client struct {
	Name     string // folder name, unique in the fleet
	Store    string // store directory
	CaseFile string // case.yaml; "" means defaults
	// Evidence is the evidence folder of a case folder (case.yaml beside
	// evidence/), which spoor fleet --run ingests into Store first.
	Evidence string
}

// Indicator kinds.
const (
	KindOperator = "operator"
	KindSourceIP = "source_ip"
	KindTool     = "tool"
	KindCommand  = "command"
)

// View is the fleet: every client, the clients the attacker reached in
// the order it reached them, and the indicators that recur across
// clients. Times are UTC; Zone fields say how each client shows them.
type View struct {
	Clients    []ClientView `json:"clients"`
	Touched    []Touch      `json:"touched"`
	Indicators []Indicator  `json:"indicators"`
}

// ClientView is what the fleet knows about one client.
type ClientView struct {
	Name     string `json:"name"`
	CaseName string `json:"case_name,omitempty"`
	Zone     string `json:"zone"`
	Store    string `json:"store"`
	// Error says why the client could not be read (the others still are).
	Error string `json:"error,omitempty"`
	// Hunted is false when the store holds no hunt results yet.
	Hunted    bool       `json:"hunted"`
	Events    int64      `json:"events"`
	Sessions  []Session  `json:"sessions"` // out-of-pattern provider sessions, in time order
	Operators []string   `json:"operators"`
	SourceIPs []string   `json:"source_ips"`
	First     *time.Time `json:"first,omitempty"` // first out-of-pattern session
	Last      *time.Time `json:"last,omitempty"`  // end of the last one
	Incidents []Incident `json:"incidents"`
	// AlsoSeen are sessions the client's hunt did not flag that came from
	// a source address that recurs in flagged sessions elsewhere.
	AlsoSeen []Session `json:"also_seen,omitempty"`
}

// Session is one RMM session as the fleet shows it.
type Session struct {
	ID        string    `json:"id"`
	Host      string    `json:"host"`
	Tool      string    `json:"tool"`
	Operator  string    `json:"operator"`
	SourceIP  string    `json:"source_ip"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Severity  string    `json:"severity,omitempty"`
	Title     string    `json:"title,omitempty"`
	FindingID string    `json:"finding_id,omitempty"`
	Incident  string    `json:"incident,omitempty"`
	// Commands are the normalised shapes of the commands run in the
	// session (RMM log and the host events the finding points at).
	Commands []string `json:"commands,omitempty"`
}

// Incident is a client's incident, briefly.
type Incident struct {
	ID       string    `json:"id"`
	Severity string    `json:"severity"`
	Title    string    `json:"title"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// Touch is one client the attacker reached.
type Touch struct {
	Order    int       `json:"order"` // 1 = reached first
	Client   string    `json:"client"`
	First    time.Time `json:"first"`
	Sessions int       `json:"sessions"`
	// Shared counts the recurring indicators seen at this client.
	Shared int `json:"shared_indicators"`
}

// Indicator is a value seen in flagged sessions at two or more clients.
type Indicator struct {
	Kind    string     `json:"kind"`
	Value   string     `json:"value"`
	First   time.Time  `json:"first"`
	Clients []Sighting `json:"clients"` // by first sighting
}

// Sighting is an indicator at one client.
type Sighting struct {
	Client   string    `json:"client"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	Sessions int       `json:"sessions"`
}

// Discover turns paths into clients. A path is a case folder (case.yaml
// beside evidence/; its store is store/ inside), a client folder (store/
// and case.yaml inside), a client store (it holds manifest.json; its case
// file is case.yaml inside it or beside it), or a folder whose subfolders
// are any of these. Clients are returned by name; two of the
// same name are an error.
func Discover(paths []string) ([]Client, error) {
	var out []Client
	for _, p := range paths {
		if c, ok := clientAt(p); ok {
			out = append(out, c)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			if c, ok := clientAt(filepath.Join(p, e.Name())); ok {
				out = append(out, c)
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: no client store in it (a store holds manifest.json; a client folder holds store/)", p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return nil, fmt.Errorf("two clients named %s: %s and %s", out[i].Name, out[i-1].Store, out[i].Store)
		}
	}
	return out, nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// clientAt recognises a client store or client folder at dir.
func clientAt(dir string) (Client, bool) {
	dir = filepath.Clean(dir)
	caseIn := func(dirs ...string) string {
		for _, d := range dirs {
			if p := filepath.Join(d, "case.yaml"); exists(p) {
				return p
			}
		}
		return ""
	}
	if st, err := os.Stat(filepath.Join(dir, "evidence")); err == nil && st.IsDir() && exists(filepath.Join(dir, "case.yaml")) {
		return Client{Name: filepath.Base(dir), Store: filepath.Join(dir, "store"), CaseFile: filepath.Join(dir, "case.yaml"), Evidence: filepath.Join(dir, "evidence")}, true
	}
	if exists(filepath.Join(dir, "store", "manifest.json")) {
		return Client{Name: filepath.Base(dir), Store: filepath.Join(dir, "store"), CaseFile: caseIn(dir, filepath.Join(dir, "store"))}, true
	}
	if exists(filepath.Join(dir, "manifest.json")) {
		name := filepath.Base(dir)
		if name == "store" {
			name = filepath.Base(filepath.Dir(dir))
		}
		return Client{Name: name, Store: dir, CaseFile: caseIn(dir, filepath.Dir(dir))}, true
	}
	return Client{}, false
}

// Build reads every client and joins them into the fleet view. A client
// that cannot be read gets its Error and the rest go on; the error
// returned is only the context's.
func Build(ctx context.Context, clients []Client) (*View, error) {
	v := &View{}
	for _, c := range clients {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cv, err := readClient(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			cv.Error = err.Error()
		}
		v.Clients = append(v.Clients, cv)
	}
	v.join()
	return v, nil
}

// readClient reads one client's flagged sessions, incidents and the RMM
// events behind them.
func readClient(ctx context.Context, c Client) (ClientView, error) {
	cv := ClientView{Name: c.Name, Store: c.Store, Zone: "UTC", Sessions: []Session{}, Operators: []string{}, SourceIPs: []string{}, Incidents: []Incident{}}
	cfg := caseconf.Default()
	if c.CaseFile != "" {
		var err error
		if cfg, err = caseconf.Load(c.CaseFile); err != nil {
			return cv, err
		}
	}
	cv.CaseName, cv.Zone = cfg.Name, cfg.Location().String()
	st, err := store.OpenExisting(c.Store)
	if err != nil {
		return cv, err
	}
	cv.Events = st.Manifest().TotalRecords()
	cv.Hunted = exists(filepath.Join(c.Store, "findings"))
	findings, err := st.Findings()
	if err != nil {
		return cv, err
	}
	incs, err := st.Incidents()
	if err != nil {
		return cv, err
	}
	for _, in := range incs {
		cv.Incidents = append(cv.Incidents, Incident{ID: in.ID, Severity: in.Severity, Title: in.Title, Start: in.Start.UTC(), End: in.End.UTC()})
	}
	var flagged []event.Finding
	for _, f := range findings {
		if f.Analyzer == rmmsessions.Name && f.SessionID != "" && f.RuleID == rmmsessions.Name+".out_of_pattern" {
			flagged = append(flagged, f)
		}
	}
	// Every RMM session of the client, rebuilt the way the analyzer
	// rebuilt them, so operator, address and tool come from the events.
	ss := akit.NewSessions()
	ss.KeepCommands = true
	if err := st.Scan(ctx, store.ScanOptions{Sources: []string{event.SourceRMM}}, func(ev *event.Event) error {
		ss.Observe(ev)
		return nil
	}); err != nil {
		return cv, err
	}
	all := ss.Build()
	byKey := make(map[string]*akit.Session, len(all))
	for _, s := range all {
		byKey[s.HostKey+"\x00"+s.ID] = s
	}
	hostCmds, err := refCommands(ctx, st, flagged)
	if err != nil {
		return cv, err
	}
	used := map[string]bool{}
	for _, f := range flagged {
		s := Session{ID: f.SessionID, Host: f.Host, Operator: f.User, Start: f.Time.UTC(), End: f.End.UTC(),
			Severity: f.Severity, Title: f.Title, FindingID: f.ID, Incident: f.IncidentID}
		key := akit.NormHost(f.Host) + "\x00" + f.SessionID
		if rs := byKey[key]; rs != nil {
			used[key] = true
			s.Tool, s.SourceIP = rs.Tool, rs.SrcIP
			if s.Operator == "" {
				s.Operator = rs.Operator
			}
			for _, cmd := range rs.Commands {
				s.Commands = append(s.Commands, Shape(cmd.Text))
			}
		}
		for _, r := range f.Refs {
			if t, ok := hostCmds[r.Key()]; ok {
				s.Commands = append(s.Commands, Shape(t))
			}
		}
		s.Commands = uniqSorted(s.Commands)
		cv.Sessions = append(cv.Sessions, s)
	}
	sort.SliceStable(cv.Sessions, func(i, j int) bool { return sessionLess(cv.Sessions[i], cv.Sessions[j]) })
	for _, s := range cv.Sessions {
		cv.Operators = appendNonEmpty(cv.Operators, s.Operator)
		cv.SourceIPs = appendNonEmpty(cv.SourceIPs, s.SourceIP)
		if cv.First == nil || s.Start.Before(*cv.First) {
			t := s.Start
			cv.First = &t
		}
		if cv.Last == nil || s.End.After(*cv.Last) {
			t := s.End
			cv.Last = &t
		}
	}
	cv.Operators, cv.SourceIPs = uniqSorted(cv.Operators), uniqSorted(cv.SourceIPs)
	// Unflagged sessions are kept aside for the cross-client check.
	for _, s := range all {
		if used[s.HostKey+"\x00"+s.ID] || s.SrcIP == "" {
			continue
		}
		cv.AlsoSeen = append(cv.AlsoSeen, Session{ID: s.ID, Host: s.Host, Tool: s.Tool, Operator: s.Operator, SourceIP: s.SrcIP, Start: s.Start.UTC(), End: s.End.UTC()})
	}
	return cv, nil
}

// refCommands returns the command lines and script text of the host
// events the flagged findings point at (commands the agent launched).
func refCommands(ctx context.Context, st *store.Store, flagged []event.Finding) (map[event.Key]string, error) {
	want := map[event.Key]bool{}
	for _, f := range flagged {
		for _, r := range f.Refs {
			want[r.Key()] = true
		}
	}
	out := map[event.Key]string{}
	if len(want) == 0 {
		return out, nil
	}
	err := st.Scan(ctx, store.ScanOptions{Sources: []string{event.SourceEVTX}, Columns: []string{"command_line", "script_text"}}, func(ev *event.Event) error {
		k := event.KeyOf(ev)
		if !want[k] {
			return nil
		}
		if t := ev.CommandLine; t != "" {
			out[k] = t
		} else if t := ev.ScriptText; t != "" {
			out[k] = t
		}
		return nil
	})
	return out, err
}

func sessionLess(a, b Session) bool {
	if !a.Start.Equal(b.Start) {
		return a.Start.Before(b.Start)
	}
	if a.Host != b.Host {
		return a.Host < b.Host
	}
	return a.ID < b.ID
}

func appendNonEmpty(l []string, s string) []string {
	if s == "" {
		return l
	}
	return append(l, s)
}

func uniqSorted(l []string) []string {
	if len(l) == 0 {
		return l
	}
	sort.Strings(l)
	out := l[:1]
	for _, s := range l[1:] {
		if s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}

// join computes the touched clients and the recurring indicators, and
// keeps of each client's unflagged sessions only those from a recurring
// source address.
func (v *View) join() {
	type key struct{ kind, value string }
	sight := map[key]map[string]*Sighting{}
	add := func(k key, client string, s Session) {
		if k.value == "" {
			return
		}
		m := sight[k]
		if m == nil {
			m = map[string]*Sighting{}
			sight[k] = m
		}
		g := m[client]
		if g == nil {
			g = &Sighting{Client: client, First: s.Start, Last: s.End}
			m[client] = g
		}
		g.Sessions++
		if s.Start.Before(g.First) {
			g.First = s.Start
		}
		if s.End.After(g.Last) {
			g.Last = s.End
		}
	}
	for _, c := range v.Clients {
		for _, s := range c.Sessions {
			add(key{KindOperator, strings.ToLower(s.Operator)}, c.Name, s)
			add(key{KindSourceIP, s.SourceIP}, c.Name, s)
			add(key{KindTool, s.Tool}, c.Name, s)
			for _, cmd := range s.Commands {
				add(key{KindCommand, cmd}, c.Name, s)
			}
		}
	}
	v.Indicators = []Indicator{}
	shared := map[string]int{}
	recurringIP := map[string]bool{}
	for k, m := range sight {
		if len(m) < 2 {
			continue
		}
		in := Indicator{Kind: k.kind, Value: k.value}
		for _, g := range m {
			in.Clients = append(in.Clients, *g)
			shared[g.Client]++
		}
		sort.Slice(in.Clients, func(i, j int) bool {
			a, b := in.Clients[i], in.Clients[j]
			if !a.First.Equal(b.First) {
				return a.First.Before(b.First)
			}
			return a.Client < b.Client
		})
		in.First = in.Clients[0].First
		if k.kind == KindSourceIP {
			recurringIP[k.value] = true
		}
		v.Indicators = append(v.Indicators, in)
	}
	kindRank := map[string]int{KindOperator: 0, KindSourceIP: 1, KindTool: 2, KindCommand: 3}
	sort.Slice(v.Indicators, func(i, j int) bool {
		a, b := v.Indicators[i], v.Indicators[j]
		if !a.First.Equal(b.First) {
			return a.First.Before(b.First)
		}
		if a.Kind != b.Kind {
			return kindRank[a.Kind] < kindRank[b.Kind]
		}
		return a.Value < b.Value
	})
	v.Touched = []Touch{}
	for i := range v.Clients {
		c := &v.Clients[i]
		var keep []Session
		for _, s := range c.AlsoSeen {
			if recurringIP[s.SourceIP] {
				keep = append(keep, s)
			}
		}
		sort.SliceStable(keep, func(i, j int) bool { return sessionLess(keep[i], keep[j]) })
		c.AlsoSeen = keep
		if c.First != nil {
			v.Touched = append(v.Touched, Touch{Client: c.Name, First: *c.First, Sessions: len(c.Sessions), Shared: shared[c.Name]})
		}
	}
	sort.SliceStable(v.Touched, func(i, j int) bool {
		if !v.Touched[i].First.Equal(v.Touched[j].First) {
			return v.Touched[i].First.Before(v.Touched[j].First)
		}
		return v.Touched[i].Client < v.Touched[j].Client
	})
	for i := range v.Touched {
		v.Touched[i].Order = i + 1
	}
}

var (
	guidRE   = regexp.MustCompile(`\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?`)
	ipRE     = regexp.MustCompile(`\b\d{1,3}(\.\d{1,3}){3}\b`)
	uncRE    = regexp.MustCompile(`\\\\[^\\\s'"]+`)
	numRE    = regexp.MustCompile(`\b\d+\b`)
	hexRE    = regexp.MustCompile(`\b0x[0-9a-f]+\b`)
	spaceRE  = regexp.MustCompile(`\s+`)
	maxShape = 200
)

// Shape normalises a command so the same command run at two clients
// compares equal: case and spacing folded, and what differs from one
// company to the next (UNC host names, addresses, GUIDs, numbers)
// replaced by placeholders. A multi-line script is shaped by its first
// line that is neither blank nor a comment.
func Shape(cmd string) string {
	s := cmd
	if strings.ContainsAny(s, "\r\n") {
		s = ""
		for _, l := range strings.FieldsFunc(cmd, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				s = l
				break
			}
		}
	}
	s = strings.ToLower(strings.TrimSpace(s))
	s = guidRE.ReplaceAllString(s, "<guid>")
	s = uncRE.ReplaceAllString(s, `\\<host>`)
	s = ipRE.ReplaceAllString(s, "<ip>")
	s = hexRE.ReplaceAllString(s, "<hex>")
	s = numRE.ReplaceAllString(s, "<n>")
	s = spaceRE.ReplaceAllString(s, " ")
	if len(s) > maxShape {
		s = akit.Clip(s, maxShape)
	}
	return s
}
