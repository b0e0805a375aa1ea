// Package coverage says what the evidence covers, so "nothing found" can
// say what it is based on: per host and channel the time range actually
// present, event counts, record-id gaps inside each evidence file, and
// cleared or stopped logs (1102, 104, 1100). See README.md.
package coverage

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
const Name = "coverage"

// What the report reads back: the rule of the per-host-and-log coverage
// findings, the start of their title (the log follows), and the host
// they name for a firewall log that names none.
const (
	RangeRule    = "coverage.range"
	RangeTitle   = "Log coverage: "
	FirewallHost = "(firewall)"
)

// maxRanges bounds the record-id ranges kept per file: a file with more
// holes than this is reported as fragmented without listing them all.
const maxRanges = 4096

type span struct{ lo, hi int64 }

type stream struct {
	host, channel, source string
	first, last           time.Time
	firstRef, lastRef     event.Ref
	count                 int64
	files                 map[string]*file
}

type file struct {
	ranges   []span // sorted, disjoint, merged when adjacent
	overflow bool
}

func (f *file) add(id int64) {
	r := f.ranges
	n := len(r)
	if n > 0 && id == r[n-1].hi+1 { // the common case: in order
		r[n-1].hi = id
		return
	}
	i := sort.Search(n, func(i int) bool { return r[i].hi >= id-1 })
	if i < n && r[i].lo <= id+1 {
		if id < r[i].lo {
			r[i].lo = id
		}
		if id > r[i].hi {
			r[i].hi = id
			if i+1 < n && r[i+1].lo <= id+1 {
				r[i].hi = r[i+1].hi
				f.ranges = slices.Delete(r, i+1, i+2)
			}
		}
		return
	}
	if n >= maxRanges {
		f.overflow = true
		return
	}
	f.ranges = slices.Insert(r, i, span{id, id})
}

type tamper struct {
	t          time.Time
	host, what string
	rule, sev  string
	user       string
	ref        event.Ref
}

// Analyzer is the coverage analyzer; build it with New.
type Analyzer struct {
	cfg     *caseconf.Config
	streams map[string]*stream
	tampers []tamper
	in      akit.Interner
	lower   *akit.Memo1 // strings.ToLower of the last channel
	host    *akit.Memo1 // akit.NormHost of the last host
	// the stream and file of the last event (see Observe)
	lastStream                *stream
	lastSrc, lastHost, lastCh string
	lastFile                  *file
	lastEvidence              string
}

// New returns a coverage analyzer for a case.
func New(cfg *caseconf.Config) *Analyzer {
	return &Analyzer{lower: akit.NewMemo1(strings.ToLower), host: akit.NewMemo1(akit.NormHost), cfg: cfg, streams: map[string]*stream{}, in: akit.Interner{}}
}

// Name implements analyzers.Analyzer.
func (a *Analyzer) Name() string { return Name }

// Observe implements analyzers.Analyzer.
func (a *Analyzer) Observe(ev *event.Event) {
	ch := ev.Channel
	if ch == "" {
		ch = ev.Format
	}
	host := ev.Host
	if host == "" && ev.Source == event.SourceFirewall {
		host = FirewallHost
	}
	// Events come in runs of one stream and file: the last ones found
	// are kept, so most events need no key built and no map looked up.
	s := a.lastStream
	if s == nil || ev.Source != a.lastSrc || host != a.lastHost || ch != a.lastCh {
		key := ev.Source + "\x00" + akit.NormHost(host) + "\x00" + strings.ToLower(ch)
		s = a.streams[key]
		if s == nil {
			s = &stream{host: a.in.Get(host), channel: a.in.Get(ch), source: a.in.Get(ev.Source), first: ev.Time, last: ev.Time, firstRef: event.RefOf(ev), lastRef: event.RefOf(ev), files: map[string]*file{}}
			a.streams[strings.Clone(key)] = s
		}
		a.lastStream, a.lastSrc, a.lastHost, a.lastCh = s, ev.Source, host, ch
		a.lastFile = nil
	}
	s.count++
	if ev.Time.Before(s.first) {
		s.first, s.firstRef = ev.Time, event.RefOf(ev)
	}
	if ev.Time.After(s.last) {
		s.last, s.lastRef = ev.Time, event.RefOf(ev)
	}
	if ev.Source == event.SourceEVTX && ev.RecordID > 0 {
		f := a.lastFile
		if f == nil || ev.Evidence != a.lastEvidence {
			f = s.files[ev.Evidence]
			if f == nil {
				f = &file{}
				s.files[a.in.Get(ev.Evidence)] = f
			}
			a.lastFile, a.lastEvidence = f, ev.Evidence
		}
		f.add(ev.RecordID)
	}
	if ev.Source != event.SourceEVTX {
		return
	}
	lch := a.lower.Get(ev.Channel)
	switch {
	case ev.EventID == 1102 && (strings.Contains(lch, "security") || strings.Contains(strings.ToLower(ev.Provider), "eventlog")):
		actor := first(firstOf(ev, ev.SubjectUser, "SubjectUserName"), ev.User)
		a.tampers = append(a.tampers, tamper{t: ev.Time, host: a.in.Get(ev.Host), what: "Security log cleared (1102)", rule: "coverage.log_cleared", sev: event.SevHigh, user: a.in.Get(actor), ref: event.RefOf(ev)})
	case ev.EventID == 104 && strings.Contains(lch, "system"):
		which := first(ev.Field("Channel"), ev.Field("param2"))
		what := "event log cleared (104)"
		if which != "" {
			what = fmt.Sprintf("%s log cleared (104)", which)
		}
		a.tampers = append(a.tampers, tamper{t: ev.Time, host: a.in.Get(ev.Host), what: a.in.Get(what), rule: "coverage.log_cleared", sev: event.SevHigh, user: a.in.Get(first(ev.User, ev.Field("SubjectUserName"))), ref: event.RefOf(ev)})
	case ev.EventID == 1100 && (strings.Contains(lch, "security") || strings.Contains(strings.ToLower(ev.Provider), "eventlog")):
		a.tampers = append(a.tampers, tamper{t: ev.Time, host: a.in.Get(ev.Host), what: "event logging service shut down (1100)", rule: "coverage.logging_stopped", sev: event.SevLow, ref: event.RefOf(ev)})
	}
}

// Finish implements analyzers.Analyzer.
func (a *Analyzer) Finish() []event.Finding {
	cfg := a.cfg
	var out []event.Finding
	for _, tp := range a.tampers {
		sev, why := tp.sev, "a cleared log removes the record of what happened before it"
		if tp.rule == "coverage.logging_stopped" {
			why = "logging stopped: normal at shutdown, tampering otherwise; check for a matching restart (6005/6006)"
			if tm := akit.Timing(cfg, tp.t); tm != "" {
				why += "; " + tm + ": " + akit.When(cfg, tp.t)
			}
		}
		out = append(out, event.Finding{
			Time: tp.t, End: tp.t, RuleID: tp.rule, Title: strings.ToUpper(tp.what[:1]) + tp.what[1:], Severity: sev, Tags: []string{"attack.t1070.001"},
			Host: tp.host, User: tp.user, Analyzer: Name, Summary: fmt.Sprintf("%s on %s by %s at %s", tp.what, tp.host, akit.OrDash(tp.user), akit.When(cfg, tp.t)),
			Reason: why, Details: akit.Details("event_id", tp.ref.EventID), Refs: []event.Ref{tp.ref},
		})
	}
	keys := make([]string, 0, len(a.streams))
	for k := range a.streams {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := a.streams[k]
		var gaps, missing int64
		var biggest span
		overflow := false
		files := make([]string, 0, len(s.files))
		for name := range s.files {
			files = append(files, name)
		}
		sort.Strings(files)
		var gapText []string
		for _, name := range files {
			f := s.files[name]
			overflow = overflow || f.overflow
			for i := 1; i < len(f.ranges); i++ {
				g := span{f.ranges[i-1].hi + 1, f.ranges[i].lo - 1}
				gaps++
				missing += g.hi - g.lo + 1
				if g.hi-g.lo > biggest.hi-biggest.lo || biggest.lo == 0 {
					biggest = g
				}
				if len(gapText) < 5 {
					gapText = append(gapText, fmt.Sprintf("%s: records %d–%d", name, g.lo, g.hi))
				}
			}
		}
		days := s.last.Sub(s.first).Hours() / 24
		out = append(out, event.Finding{
			Time: s.first, End: s.last, RuleID: RangeRule, Title: RangeTitle + s.channel, Severity: event.SevInfo,
			Host: s.host, Analyzer: Name,
			Summary: fmt.Sprintf("%s %s on %s: %d events from %s to %s (%.1f days) in %s", s.source, s.channel, akit.OrDash(s.host), s.count,
				cfg.Local(s.first).Format("2006-01-02 15:04"), cfg.Local(s.last).Format("2006-01-02 15:04 MST"), days, akit.Plural(max(len(s.files), 1), "file")),
			Reason:  "what the evidence covers: a finding can only be absent where the logs reach",
			Details: akit.Details("events", s.count, "days", float64(int64(days*10))/10, "files", len(s.files), "record_gaps", gaps, "records_missing", missing),
			Refs:    akit.SortRefs([]event.Ref{s.firstRef, s.lastRef}),
		})
		if gaps > 0 || overflow {
			sev := event.SevLow
			if missing >= 100 {
				sev = event.SevMedium
			}
			out = append(out, event.Finding{
				Time: s.first, End: s.last, RuleID: "coverage.record_gap", Title: "Record-id gaps: " + s.channel, Severity: sev, Tags: []string{"attack.t1070"},
				Host: s.host, Analyzer: Name,
				Summary: fmt.Sprintf("%s on %s: %s, %d records missing inside the files (largest %d–%d): %s", s.channel, akit.OrDash(s.host), akit.Plural(int(gaps), "gap"), missing, biggest.lo, biggest.hi, strings.Join(gapText, "; ")),
				Reason:  "record ids inside one file are consecutive; holes mean deleted or unreadable records",
				Details: akit.Details("gaps", gaps, "records_missing", missing, "fragmented", akit.B2I(overflow)),
				Refs:    akit.SortRefs([]event.Ref{s.firstRef, s.lastRef}),
			})
		}
	}
	akit.Sort(out)
	return out
}

// streamColumns are what coverage reads of every event: which stream it
// belongs to, when, and where it is in its file.
var streamColumns = []string{"time", "channel", "format", "host", "evidence", "record_id", "event_id", "offset"}

// Wants implements analyzers.Selective: every event, for the streams and
// their record ranges; the tampering events whole.
func (a *Analyzer) Wants() akit.Wants {
	return akit.Wants{
		{Source: event.SourceEVTX, IDs: []int32{1102, 104, 1100}},
		{Columns: streamColumns},
	}
}

// first and firstOf read values the Windows way (trimmed, "-" is none).
var (
	first   = akit.FirstValue
	firstOf = akit.ValueOr
)
