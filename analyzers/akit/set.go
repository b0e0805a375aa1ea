package akit

import (
	"slices"
	"sync"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// SessionSet is the RMM sessions of one hunt, rebuilt from the RMM events
// once and judged once against the learned pattern, for every analyzer
// (and triage) that reads them: they then agree on what a session is and
// whether it is out of pattern, and the work is done once.
//
// It observes events like an analyzer (Name, Observe, Finish, Wants), so
// the hunt feeds it beside the analyzers; the sessions are built at the
// first call to Built, which must come after the last Observe (the hunt
// finishes nothing before the replay is over). Built may be called from
// several goroutines; the sessions and verdicts it returns are shared and
// must not be changed.
type SessionSet struct {
	cfg *caseconf.Config
	b   *Sessions

	once     sync.Once
	sessions []*Session
	verdicts []Verdict
}

// SessionSetName is the SessionSet's Name: it reports no findings.
const SessionSetName = "sessions"

// NewSessionSet returns an empty set for a case. Sessions keep their
// commands (rmmsessions reports them); nothing else reads them, so one
// set serves every reader.
func NewSessionSet(cfg *caseconf.Config) *SessionSet {
	if cfg == nil {
		cfg = caseconf.Default()
	}
	b := NewSessions()
	b.KeepCommands = true
	return &SessionSet{cfg: cfg, b: b}
}

// Name implements analyzers.Analyzer.
func (s *SessionSet) Name() string { return SessionSetName }

// Observe implements analyzers.Analyzer: it takes RMM events, and
// ignores the others.
func (s *SessionSet) Observe(ev *event.Event) {
	if s.b != nil { // nil once built: a late event changes nothing
		s.b.Observe(ev)
	}
}

// Finish implements analyzers.Analyzer: it builds the sessions (if no
// reader did yet) and reports no findings.
func (s *SessionSet) Finish() []event.Finding {
	s.Built()
	return nil
}

// Wants implements analyzers.Selective: RMM events, whole.
func (s *SessionSet) Wants() Wants { return Wants{{Source: event.SourceRMM}} }

// Built returns the sessions, ordered as Sessions.Build orders them, and
// each one's verdict (same index).
func (s *SessionSet) Built() ([]*Session, []Verdict) {
	s.once.Do(func() {
		s.sessions = s.b.Build()
		s.verdicts = Judge(s.cfg, s.sessions)
		s.b = nil // the builder's records are not needed any more
	})
	return s.sessions, s.verdicts
}

// SessionSource is where an analyzer reads the RMM sessions from: the
// hunt's shared set (analyzers.All), or a set of its own that its
// Observe feeds (New: tests, one analyzer alone).
type SessionSource struct {
	set *SessionSet
	own bool
}

// UseSessions returns the source of an analyzer reading ss; ss nil is a
// set of the analyzer's own.
func UseSessions(cfg *caseconf.Config, ss *SessionSet) SessionSource {
	if ss == nil {
		return SessionSource{set: NewSessionSet(cfg), own: true}
	}
	return SessionSource{set: ss}
}

// Feed gives ev to the set when it is the analyzer's own (the hunt feeds
// a shared one itself).
func (s SessionSource) Feed(ev *event.Event) {
	if s.own {
		s.set.Observe(ev)
	}
}

// Want is ws and, when the set is the analyzer's own, the RMM events
// that feed it.
func (s SessionSource) Want(ws Wants) Wants {
	if s.own {
		return append(slices.Clip(ws), s.set.Wants()...)
	}
	return ws
}

// Built is the set's sessions and verdicts (SessionSet.Built).
func (s SessionSource) Built() ([]*Session, []Verdict) { return s.set.Built() }
