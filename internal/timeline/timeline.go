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
	Loc          *time.Location // case zone for the local-time column
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
	if o.MinSeverity != "" && event.Rank(f.Severity) < event.Rank(o.MinSeverity) {
		return false
	}
	return true
}

// Collect reads the store and returns the merged, ordered entries.
// Events are ordered by time, then evidence and offset; a finding comes
// after the events of its own instant. The order is total, so output is
// byte-identical across runs.
func Collect(ctx context.Context, st *store.Store, opts Options) ([]Entry, error) {
	var out []Entry
	err := st.Scan(ctx, store.ScanOptions{From: opts.From, To: opts.To}, func(ev *event.Event) error {
		if !opts.keepEvent(ev) {
			return nil
		}
		c := *ev
		out = append(out, Entry{Time: c.Time, Event: &c})
		return nil
	})
	if err != nil {
		return nil, err
	}
	fs, err := st.Findings()
	if err != nil {
		return nil, err
	}
	for i := range fs {
		if opts.keepFinding(&fs[i]) {
			out = append(out, Entry{Time: fs[i].Time, Finding: &fs[i]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return less(&out[i], &out[j]) })
	return out, nil
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
	return a.Finding.ID < b.Finding.ID
}

// Export collects and writes the timeline; it returns the entry count.
func Export(ctx context.Context, st *store.Store, opts Options, sink Sink) (int, error) {
	entries, err := Collect(ctx, st, opts)
	if err != nil {
		return 0, err
	}
	for i := range entries {
		if err := sink.Write(&entries[i]); err != nil {
			return i, err
		}
	}
	return len(entries), sink.Close()
}
