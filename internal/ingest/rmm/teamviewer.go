package rmm

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

const tvConnLayout = "02-01-2006 15:04:05"

// tvConnRow is one Connections_incoming.txt row:
// ID \t name \t start \t end \t local user \t type \t {guid} [\t].
type tvConnRow struct {
	id, name, start, end, user, kind, guid string
}

func parseTVConn(s string) (tvConnRow, bool) {
	f := strings.Split(s, "\t")
	for len(f) > 7 && f[len(f)-1] == "" {
		f = f[:len(f)-1]
	}
	// Later TeamViewer versions (or a hand-edited export) may add fields
	// after the seventh: those are ignored, the row is still read.
	if len(f) < 7 {
		return tvConnRow{}, false
	}
	r := tvConnRow{id: strings.TrimSpace(f[0]), name: f[1], start: f[2], end: f[3], user: f[4], kind: f[5], guid: strings.TrimSpace(f[6])}
	if !digits(r.id) || !strings.HasPrefix(r.guid, "{") || !strings.HasSuffix(r.guid, "}") {
		return tvConnRow{}, false
	}
	if _, err := time.Parse(tvConnLayout, r.start); err != nil {
		return tvConnRow{}, false
	}
	return r, true
}

type tvConnections struct{}

func (tvConnections) Name() string { return "teamviewer-connections" }

func (tvConnections) Detect(in *input.Input) int {
	ok, other := countHead(in, func(s string) headLine {
		if _, good := parseTVConn(s); good {
			return lineMatch
		}
		return lineOther
	})
	switch {
	case ok >= 1 && other == 0:
		return 85
	case ok >= 2 && ok > other:
		// A vote, not a veto: one odd row must not hide the others.
		return 70
	}
	return 0
}

// Parse emits two events per row, the session's start and its end, so that
// both moments land on the timeline (an off-hours end matters as much as
// an off-hours start).
func (p tvConnections) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	clk := newClock(in, p.Name(), st)
	return eachLine(ctx, in, st, func(n int64, s string) error {
		r, ok := parseTVConn(s)
		if !ok {
			st.Skip(reasonUnknown, fmt.Sprintf("%s:%d: not a Connections_incoming row: %.80q", in.Path, n, s))
			return nil
		}
		start, ok := clk.parse(tvConnLayout, r.start, n, in.Path)
		if !ok {
			st.Skip(reasonTimestamp, fmt.Sprintf("%s:%d: bad start time %q", in.Path, n, r.start))
			return nil
		}
		fields := func() *ordereddict.Dict {
			return ordereddict.NewDict().Set("partner_id", r.id).Set("partner_name", r.name).
				Set("start", r.start).Set("end", r.end).Set("local_user", r.user).
				Set("connection_type", r.kind).Set("session_guid", r.guid)
		}
		mk := func(t time.Time, action string, seq int32) *event.Event {
			ev := base(in, p.Name(), n, s)
			ev.Seq = seq // the row's second event (its end): a key of its own
			ev.Message = bound(strings.TrimRight(s, "\t "))
			ev.Time = t
			ev.Action = action
			ev.Operator = r.id
			ev.User = r.user
			ev.SessionID = r.guid
			ev.Fields = fields()
			return ev
		}
		if err := emitOne(emit, st, mk(start, event.ActionSessionStart, 0)); err != nil {
			return err
		}
		end, ok := clk.parse(tvConnLayout, r.end, n, in.Path)
		if !ok {
			// The row's start stands; only the end is unreadable.
			st.Error(fmt.Sprintf("%s:%d: bad end time %q: no session_end event", in.Path, n, r.end))
			return nil
		}
		return emitOne(emit, st, mk(end, event.ActionSessionEnd, 1))
	})
}

// tvLine is one TeamViewer<NN>_Logfile.log line:
// "<YYYY/MM/DD> <HH:MM:SS.mmm> <pid> <tid> <tag> <message>".
type tvLine struct {
	date, clock, pid, tid, tag, msg string
}

func parseTVLine(s string) (tvLine, bool) {
	var l tvLine
	rest := s
	next := func() string {
		rest = strings.TrimLeft(rest, " \t")
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			w := rest
			rest = ""
			return w
		}
		w := rest[:i]
		rest = rest[i:]
		return w
	}
	l.date, l.clock, l.pid, l.tid, l.tag = next(), next(), next(), next(), next()
	if len(l.date) != 10 || l.date[4] != '/' || l.date[7] != '/' || len(l.clock) < 8 || l.clock[2] != ':' {
		return tvLine{}, false
	}
	if !digits(l.pid) || !digits(l.tid) || l.tag == "" {
		return tvLine{}, false
	}
	l.msg = strings.TrimSpace(rest)
	return l, true
}

type tvLogfile struct{}

func (tvLogfile) Name() string { return "teamviewer-logfile" }

func (tvLogfile) Detect(in *input.Input) int {
	tv := false
	ok, other := countHead(in, func(s string) headLine {
		if strings.Contains(s, "TeamViewer") {
			tv = true
		}
		if pl, good := parseTVLine(s); good && tvTag(pl.tag) {
			return lineMatch
		}
		if tvHeader(s) {
			return lineIgnore
		}
		return lineOther
	})
	switch {
	case ok >= 1 && ok >= other && tv:
		return 85
	case ok >= 2 && other <= ok/4:
		return 70
	}
	return 0
}

// tvHeader reports the "Key:   value" lines a log starts with (Start,
// Version, ID, License, Server, CPU, OS, IP, AppPath, UserAccount, …).
func tvHeader(s string) bool {
	i := strings.IndexByte(s, ':')
	if i <= 0 || i > 20 {
		return false
	}
	for _, r := range s[:i] {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' || r == ' ') {
			return false
		}
	}
	return s[0] >= 'A' && s[0] <= 'Z'
}

// tvTag reports TeamViewer's process tags: a letter and a digit or an
// exclamation mark ("S0", "G1", "D1", "S0!!!").
func tvTag(t string) bool {
	t = strings.TrimRight(t, "!")
	return len(t) == 2 && t[0] >= 'A' && t[0] <= 'Z' && t[1] >= '0' && t[1] <= '9'
}

func (p tvLogfile) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	clk := newClock(in, p.Name(), st)
	return eachLine(ctx, in, st, func(n int64, s string) error {
		l, ok := parseTVLine(s)
		if !ok && tvHeader(s) {
			st.Skip(reasonHeader, "")
			return nil
		}
		if !ok {
			st.Skip(reasonUnknown, fmt.Sprintf("%s:%d: not a TeamViewer log line: %.80q", in.Path, n, s))
			return nil
		}
		layout := "2006/01/02 15:04:05.000"
		if len(l.clock) == 8 {
			layout = "2006/01/02 15:04:05"
		}
		t, ok := clk.lineTime(layout, l.date+" "+l.clock, n, in.Path)
		if !ok {
			return nil
		}
		ev := base(in, p.Name(), n, s)
		ev.Time = t
		ev.Message = bound(l.msg)
		ev.Fields = ordereddict.NewDict().Set("date", l.date).Set("time", l.clock).Set("pid", l.pid).
			Set("tid", l.tid).Set("tag", l.tag).Set("message", l.msg)
		classifyTV(ev, l.msg)
		return emitOne(emit, st, ev)
	})
}

// classifyTV maps the strings write-ups use (FORMATS.md, TeamViewer).
func classifyTV(ev *event.Event, m string) {
	switch {
	case strings.HasPrefix(m, "Write file "):
		ev.Action = event.ActionFileTransfer
		ev.Fields.Set("direction", "in").Set("file", strings.TrimPrefix(m, "Write file "))
	case strings.HasPrefix(m, "Download from "):
		ev.Action = event.ActionFileTransfer
		ev.Fields.Set("direction", "in")
	case strings.HasPrefix(m, "Send file "):
		ev.Action = event.ActionFileTransfer
		ev.Fields.Set("direction", "out").Set("file", strings.TrimPrefix(m, "Send file "))
	case strings.Contains(m, "punch received a="):
		i := strings.Index(m, "punch received a=")
		ev.SrcIP = hostOnly(firstWord(m[i+len("punch received a="):]))
		ev.Action = event.ActionConnect
	case strings.Contains(m, "::AddParticipants"):
		ev.Action = event.ActionSessionStart
		ev.Operator = tvParticipant(m)
	case strings.Contains(m, "::ReceivedEndSession"):
		ev.Action = event.ActionSessionEnd
	case strings.Contains(m, "::RemoveParticipant"):
		ev.Operator = tvParticipant(m)
	case strings.Contains(m, "Authentication successful") || strings.Contains(m, "authentication successful"):
		ev.Action = event.ActionLogin
	case strings.Contains(m, "Authentication failed") || strings.Contains(m, "authentication failed") || strings.Contains(m, "AuthenticationBlocker"):
		ev.Action = event.ActionLoginFailed
	}
}

// tvParticipant takes the TeamViewer ID from "[565963039,-2008752223]".
func tvParticipant(m string) string {
	i := strings.IndexByte(m, '[')
	if i < 0 {
		return ""
	}
	rest := m[i+1:]
	if j := strings.IndexAny(rest, ",]"); j >= 0 {
		rest = rest[:j]
	}
	if digits(rest) {
		return rest
	}
	return ""
}
