// Package timeline merges stored events and findings into one time-ordered
// list and writes it through a sink (CSV with Timesketch's columns, JSONL,
// Timesketch JSONL, Parquet).
package timeline

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

// Options filter the timeline.
type Options struct {
	From, To     time.Time // zero: open
	Host         string    // case-insensitive exact host
	User         string    // case-insensitive substring of user or subject user
	MinSeverity  string    // findings below it are dropped; events are kept unless FindingsOnly
	FindingsOnly bool
	EventsOnly   bool                       // no findings (spoor query)
	Match        func(ev *event.Event) bool // an extra event filter (spoor query's expression); nil keeps all
	// Demoted keeps the findings triage demoted whose original severity
	// reaches MinSeverity, so they can be reviewed beside the rest.
	Demoted bool
	Loc     *time.Location // case zone for the local-time column
	// Progress, when set, is told after each time window how many of the
	// events in range have been read (for a progress bar).
	Progress func(done, total int64)
}

// Entry is one line of the timeline: an event or a finding.
type Entry struct {
	Time    time.Time
	Event   *event.Event   // set for events
	Finding *event.Finding // set for findings
}

// Sink writes entries in order.
type Sink interface {
	Write(e *Entry) error
	Close() error
}

func (o *Options) keepEvent(ev *event.Event) bool {
	if o.FindingsOnly {
		return false
	}
	if o.Match != nil && !o.Match(ev) {
		return false
	}
	if o.Host != "" && !strings.EqualFold(ev.Host, o.Host) {
		return false
	}
	if o.User != "" {
		u := strings.ToLower(o.User)
		if !strings.Contains(strings.ToLower(ev.User), u) && !strings.Contains(strings.ToLower(ev.SubjectUser), u) &&
			!strings.Contains(strings.ToLower(ev.Operator), u) {
			return false
		}
	}
	return true
}

func (o *Options) keepFinding(f *event.Finding) bool {
	if o.EventsOnly {
		return false
	}
	if !o.From.IsZero() && f.Time.Before(o.From) {
		return false
	}
	if !o.To.IsZero() && !f.Time.Before(o.To) {
		return false
	}
	if o.Host != "" && !strings.EqualFold(f.Host, o.Host) {
		return false
	}
	if o.User != "" && !strings.Contains(strings.ToLower(f.User), strings.ToLower(o.User)) {
		return false
	}
	if o.MinSeverity != "" && event.Rank(f.Severity) < event.Rank(o.MinSeverity) &&
		!(o.Demoted && f.SeverityOriginal != "" && event.Rank(f.SeverityOriginal) >= event.Rank(o.MinSeverity)) {
		return false
	}
	return true
}

// batchEvents bounds how many events are held in memory at once: the
// timeline is produced window by window, each window sorted in memory.
var batchEvents = 250_000

// Export writes the timeline to sink and returns the entry count. Events
// are ordered by time, then source, evidence and offset; a finding comes
// after the events of its own instant. The order is total, so output is
// byte-identical across runs. Memory stays bounded: a first pass counts
// events per minute, then the store is read one time window of at most
// batchEvents events at a time (row groups outside it are skipped).
func Export(ctx context.Context, st *store.Store, opts Options, sink Sink) (int, error) {
	n, err := export(ctx, st, opts, sink.Write)
	if err != nil {
		return n, err
	}
	return n, sink.Close()
}

// Each calls fn with every entry in timeline order (as Export writes
// them); an error from fn ends the walk and is returned.
func Each(ctx context.Context, st *store.Store, opts Options, fn func(*Entry) error) (int, error) {
	return export(ctx, st, opts, fn)
}

func export(ctx context.Context, st *store.Store, opts Options, write func(*Entry) error) (int, error) {
	fs, err := st.Findings()
	if err != nil {
		return 0, err
	}
	var findings []Entry
	for i := range fs {
		if opts.keepFinding(&fs[i]) {
			findings = append(findings, Entry{Time: fs[i].Time, Finding: &fs[i]})
		}
	}
	sort.SliceStable(findings, func(i, j int) bool { return less(&findings[i], &findings[j]) })

	windows, total, err := timeWindows(ctx, st, opts)
	if err != nil {
		return 0, err
	}
	n, fi := 0, 0
	var read int64
	for wi, w := range windows {
		var batch []Entry
		err := st.Scan(ctx, store.ScanOptions{From: w[0], To: w[1]}, func(ev *event.Event) error {
			read++
			if !opts.keepEvent(ev) {
				return nil
			}
			c := *ev
			batch = append(batch, Entry{Time: c.Time, Event: &c})
			return nil
		})
		if err != nil {
			return n, err
		}
		if opts.Progress != nil {
			opts.Progress(read, int64(total))
		}
		// Findings of this window join its events; the last window takes
		// the rest.
		for fi < len(findings) && (wi == len(windows)-1 || findings[fi].Time.Before(w[1])) {
			batch = append(batch, findings[fi])
			fi++
		}
		sort.SliceStable(batch, func(i, j int) bool { return less(&batch[i], &batch[j]) })
		for i := range batch {
			if err := write(&batch[i]); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// timeWindows splits [opts.From, opts.To) into consecutive windows of at
// most about batchEvents events, cut at whole minutes. The first window is
// open at its start and the last at its end (as the options are), so
// events with no time are not lost.
func timeWindows(ctx context.Context, st *store.Store, opts Options) ([][2]time.Time, int, error) {
	perMin := map[int64]int{}
	total := 0
	err := st.Scan(ctx, store.ScanOptions{From: opts.From, To: opts.To, Columns: []string{"time"}}, func(ev *event.Event) error {
		perMin[ev.Time.Unix()/60]++
		total++
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if total <= batchEvents {
		return [][2]time.Time{{opts.From, opts.To}}, total, nil
	}
	mins := make([]int64, 0, len(perMin))
	for m := range perMin {
		mins = append(mins, m)
	}
	sort.Slice(mins, func(i, j int) bool { return mins[i] < mins[j] })
	var out [][2]time.Time
	start, acc := opts.From, 0
	for i, m := range mins {
		acc += perMin[m]
		if acc >= batchEvents && i+1 < len(mins) {
			cut := time.Unix(mins[i+1]*60, 0).UTC()
			out = append(out, [2]time.Time{start, cut})
			start, acc = cut, 0
		}
	}
	return append(out, [2]time.Time{start, opts.To}), total, nil
}

func less(a, b *Entry) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	if (a.Finding == nil) != (b.Finding == nil) {
		return a.Finding == nil
	}
	if a.Event != nil {
		if a.Event.Source != b.Event.Source {
			return a.Event.Source < b.Event.Source
		}
		if a.Event.Evidence != b.Event.Evidence {
			return a.Event.Evidence < b.Event.Evidence
		}
		return a.Event.Offset < b.Event.Offset
	}
	return event.CompareFindings(a.Finding, b.Finding) < 0
}
