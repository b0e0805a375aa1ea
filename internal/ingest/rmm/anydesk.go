package rmm

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// isLevel accepts AnyDesk's level column: a short lower-case word. The
// known ones are info, warning, error, explode and auth (the level of the
// "Authenticated by …" lines); newer versions may add more.
func isLevel(s string) bool {
	if len(s) < 3 || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// adLine is one parsed ad.trace / ad_svc.trace line:
// "<level> <date> <time> <component> <thread> <pid> <tid> [<fiber>] <logger> - <message>".
type adLine struct {
	level, date, clock, component, thread, pid, tid, fiber, logger, msg string
}

// parseADLine splits a trace line by hand: the columns are padded with a
// varying number of spaces and only the message may contain " - ".
func parseADLine(s string) (adLine, bool) {
	var l adLine
	i := strings.Index(s, " - ")
	msg := ""
	left := s
	if i >= 0 {
		left, msg = s[:i], s[i+3:]
	} else if strings.HasSuffix(s, " -") {
		left = s[:len(s)-2]
	} else {
		return l, false
	}
	f := strings.Fields(left)
	if len(f) != 8 && len(f) != 9 {
		return l, false
	}
	if !isLevel(f[0]) || len(f[1]) != 10 || f[1][4] != '-' || len(f[2]) < 8 || f[2][2] != ':' {
		return l, false
	}
	if !digits(f[5]) || !digits(f[6]) {
		return l, false
	}
	l = adLine{level: f[0], date: f[1], clock: f[2], component: f[3], thread: f[4], pid: f[5], tid: f[6], msg: strings.TrimRight(msg, " ")}
	if len(f) == 9 {
		if !digits(f[7]) {
			return adLine{}, false
		}
		l.fiber, l.logger = f[7], f[8]
	} else {
		l.logger = f[7]
	}
	return l, true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isBanner reports the "* * * * *" startup separator.
func isBanner(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= 3 && strings.Trim(s, "* ") == ""
}

type anydeskTrace struct{}

func (anydeskTrace) Name() string { return "anydesk-trace" }

func (anydeskTrace) Detect(in *input.Input) int {
	ok, other := countHead(in, func(s string) headLine {
		if isBanner(s) {
			return lineIgnore
		}
		if _, good := parseADLine(s); good {
			return lineMatch
		}
		return lineOther
	})
	switch {
	case ok >= 2 && ok >= other:
		return 85
	case ok == 1 && other == 0:
		return 60
	}
	return 0
}

// adSession is the incoming session a service trace is in, so that the
// login, transfer and end lines carry its id and operator.
type adSession struct {
	id, operator, srcIP string
}

func (p anydeskTrace) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	clk := newClock(in, p.Name(), st)
	var cur adSession
	return eachLine(ctx, in, st, func(n int64, s string) error {
		if isBanner(s) {
			st.Skip(reasonBanner, "")
			return nil
		}
		l, ok := parseADLine(s)
		if !ok {
			st.Skip(reasonUnknown, fmt.Sprintf("%s:%d: not an AnyDesk trace line: %.80q", in.Path, n, s))
			return nil
		}
		t, ok := clk.lineTime("2006-01-02 15:04:05.000", l.date+" "+l.clock, n, in.Path)
		if !ok {
			return nil
		}
		ev := base(in, p.Name(), n, s)
		ev.Time = t
		ev.Message = bound(l.msg)
		f := ordereddict.NewDict().
			Set("level", l.level).Set("date", l.date).Set("time", l.clock).
			Set("component", l.component).Set("thread", l.thread).
			Set("pid", l.pid).Set("tid", l.tid)
		if l.fiber != "" {
			f.Set("fiber", l.fiber)
		}
		f.Set("logger", l.logger).Set("message", l.msg)
		ev.Fields = f
		classifyAD(ev, &l, &cur, n)
		return emitOne(emit, st, ev)
	})
}

// classifyAD sets the action and session columns from the message; the
// strings are those forensic write-ups key on (FORMATS.md, AnyDesk).
func classifyAD(ev *event.Event, l *adLine, cur *adSession, n int64) {
	m := stripStep(l.msg)
	attach := func() {
		ev.SessionID, ev.Operator = cur.id, cur.operator
		if ev.SrcIP == "" {
			ev.SrcIP = cur.srcIP
		}
	}
	switch {
	case strings.HasPrefix(m, "Accept request from "):
		id := firstWord(strings.TrimPrefix(m, "Accept request from "))
		*cur = adSession{id: fmt.Sprintf("anydesk:%s:%d", id, n), operator: id}
		ev.Action = event.ActionSessionStart
		attach()
	case strings.HasPrefix(m, "Incoming session request: "):
		// "Incoming session request: <alias> (<id>)" in the user trace.
		rest := strings.TrimPrefix(m, "Incoming session request: ")
		id := rest
		if i := strings.LastIndexByte(rest, '('); i >= 0 {
			id = strings.TrimSuffix(strings.TrimSpace(rest[i+1:]), ")")
			ev.Fields.Set("alias", strings.TrimSpace(rest[:i]))
		}
		*cur = adSession{id: fmt.Sprintf("anydesk:%s:%d", id, n), operator: id}
		ev.Action = event.ActionSessionStart
		attach()
	case strings.Contains(m, "Logged in from ") || strings.Contains(m, "logged in from "):
		i := strings.Index(strings.ToLower(m), "logged in from ")
		ip := hostOnly(firstWord(m[i+len("logged in from "):]))
		ev.SrcIP = ip
		if cur.id != "" && cur.srcIP == "" {
			cur.srcIP = ip
		}
		ev.Action = event.ActionLogin
		attach()
		ev.SrcIP = ip
	case strings.HasPrefix(m, "Authenticated "):
		ev.Action = event.ActionLogin
		attach()
	case strings.Contains(m, "Authentication failed") || strings.Contains(m, "authentication failed") || strings.Contains(m, "Wrong password"):
		ev.Action = event.ActionLoginFailed
		attach()
	case strings.HasPrefix(m, "Client-ID: ") && cur.id != "":
		attach()
	case l.logger == "app.prepare_task" || strings.Contains(strings.ToLower(m), "file transfer"):
		ev.Action = event.ActionFileTransfer
		attach()
	case m == "Session stopped." || strings.HasPrefix(m, "Session closed"):
		ev.Action = event.ActionSessionEnd
		attach()
		*cur = adSession{}
	case strings.HasPrefix(m, "Connecting to ") && !strings.HasPrefix(m, "Connecting to relay") && strings.Contains(l.logger, "anynet"):
		// This host connects out; the relay still logs the peer's address,
		// so the following lines belong to this session.
		id := firstWord(strings.TrimPrefix(m, "Connecting to "))
		*cur = adSession{id: fmt.Sprintf("anydesk:%s:%d", id, n), operator: id}
		ev.Action = event.ActionOutgoingSession
		attach()
	}
}

// stripStep drops the session step counter AnyDesk puts before some
// messages ("3: Authenticated by local user.", "1 - Connecting to …").
func stripStep(m string) string {
	i := 0
	for i < len(m) && m[i] >= '0' && m[i] <= '9' {
		i++
	}
	if i == 0 || i > 4 {
		return m
	}
	switch {
	case strings.HasPrefix(m[i:], ": "):
		return m[i+2:]
	case strings.HasPrefix(m[i:], " - "):
		return m[i+3:]
	}
	return m
}

func firstWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimRight(s, ".,;:")
}

// hostOnly strips a port from "ip:port" / "[v6]:port".
func hostOnly(s string) string {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().String()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return s
}

type anydeskConnTrace struct{}

func (anydeskConnTrace) Name() string { return "anydesk-connection-trace" }

// parseConnTrace reads "Incoming  2014-11-26, 03:46  User  user1@ad 654321"
// (whitespace-padded; the alias may be missing or contain spaces).
func parseConnTrace(s string) (dir, date, clock, status, alias, id string, ok bool) {
	f := strings.Fields(s)
	if len(f) < 5 {
		return
	}
	dir = f[0]
	if dir != "Incoming" && dir != "Outgoing" {
		return
	}
	date = strings.TrimSuffix(f[1], ",")
	if len(date) != 10 || date[4] != '-' || !strings.HasSuffix(f[1], ",") {
		return
	}
	clock = f[2]
	status = f[3]
	id = f[len(f)-1]
	alias = strings.Join(f[4:len(f)-1], " ")
	return dir, date, clock, status, alias, id, true
}

func (anydeskConnTrace) Detect(in *input.Input) int {
	ok, other := countHead(in, func(s string) headLine {
		if _, _, _, _, _, _, good := parseConnTrace(s); good {
			return lineMatch
		}
		return lineOther
	})
	switch {
	case ok >= 1 && other == 0:
		return 80
	case ok >= 2 && ok > other:
		return 65 // a vote: one odd line must not hide the others
	}
	return 0
}

func (p anydeskConnTrace) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	clk := newClock(in, p.Name(), st)
	return eachLine(ctx, in, st, func(n int64, s string) error {
		dir, date, hm, status, alias, id, ok := parseConnTrace(s)
		if !ok {
			st.Skip(reasonUnknown, fmt.Sprintf("%s:%d: not a connection_trace line: %.80q", in.Path, n, s))
			return nil
		}
		layout := "2006-01-02 15:04"
		if strings.Count(hm, ":") == 2 {
			layout = "2006-01-02 15:04:05"
		}
		t, ok := clk.lineTime(layout, date+" "+hm, n, in.Path)
		if !ok {
			return nil
		}
		ev := base(in, p.Name(), n, s)
		ev.Time = t
		ev.Operator = id
		ev.Fields = ordereddict.NewDict().Set("direction", dir).Set("date", date).Set("time", hm).
			Set("status", status).Set("alias", alias).Set("anydesk_id", id)
		switch {
		case dir == "Outgoing":
			ev.Action = event.ActionOutgoingSession
		case strings.EqualFold(status, "REJECTED"):
			ev.Action = event.ActionLoginFailed
		default:
			ev.Action = event.ActionSessionStart
		}
		return emitOne(emit, st, ev)
	})
}
