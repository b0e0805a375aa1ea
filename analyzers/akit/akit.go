// Package akit holds the few helpers spoor's analyzers share: building and
// ordering findings, the baseline period, case-zone wording, RMM agent
// process names and RMM session reconstruction. It exists so each analyzer
// package keeps one job and the same facts are computed the same way.
package akit

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Details builds a Finding.Details dict from key/value pairs, keeping
// their order so output is byte-identical between runs.
func Details(kv ...any) *ordereddict.Dict {
	d := ordereddict.NewDict()
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		d.Set(k, kv[i+1])
	}
	return d
}

// Sort orders findings deterministically, in the one finding order
// (event.CompareFindings), so two runs over the same store agree byte for
// byte.
func Sort(fs []event.Finding) { event.SortFindings(fs) }

// SortRefs orders references by time, source, evidence and offset and
// drops duplicates.
func SortRefs(refs []event.Ref) []event.Ref {
	slices.SortFunc(refs, func(a, b event.Ref) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		if c := strings.Compare(a.Evidence, b.Evidence); c != 0 {
			return c
		}
		if a.Offset != b.Offset {
			if a.Offset < b.Offset {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Host, b.Host)
	})
	return slices.CompactFunc(refs, func(a, b event.Ref) bool { return a == b })
}

// MaxRefs bounds the references one finding carries: enough to show the
// evidence, few enough that a finding over a long session stays small.
const MaxRefs = 200

// CapRefs keeps the first n references (already in time order).
func CapRefs(refs []event.Ref, n int) []event.Ref {
	if len(refs) > n {
		return refs[:n:n]
	}
	return refs
}

// Baseline returns the period patterns are learned from, for data that
// spans [first, last]: the case's baseline when configured, otherwise all
// but the last 14 days, or the first half when the data is shorter than
// 21 days. ok is false when there is no data.
func Baseline(cfg *caseconf.Config, first, last time.Time) (from, to time.Time, ok bool) {
	if first.IsZero() || last.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	bf, bt := cfg.Baseline.Bounds()
	if !bf.IsZero() || !bt.IsZero() {
		if bf.IsZero() {
			bf = first
		}
		if bt.IsZero() {
			bt = last.Add(time.Nanosecond)
		}
		return bf, bt, true
	}
	span := last.Sub(first)
	if span >= 21*24*time.Hour {
		return first, last.Add(-14 * 24 * time.Hour), true
	}
	return first, first.Add(span / 2), true
}

// When describes a time in the case zone for a finding's text, e.g.
// "Sat 2026-03-14 02:13 CET (weekend)".
func When(cfg *caseconf.Config, t time.Time) string {
	lt := cfg.Local(t)
	s := lt.Format("Mon 2006-01-02 15:04 MST")
	switch {
	case cfg.Holiday(t):
		s += " (holiday)"
	case cfg.Weekend(t):
		s += " (weekend)"
	case !cfg.InBusinessHours(t):
		s += " (off hours)"
	}
	return s
}

// Timing classifies a time against the case calendar: "holiday",
// "weekend", "off-hours" or "" for business hours.
func Timing(cfg *caseconf.Config, t time.Time) string {
	switch {
	case cfg.Holiday(t):
		return "holiday"
	case cfg.Weekend(t):
		return "weekend"
	case !cfg.InBusinessHours(t):
		return "off-hours"
	}
	return ""
}

// HourOfWeek is the case-zone hour slot 0…167 (Sunday 00:00 = 0); the
// wall clock is what a person's habits follow, so DST is handled by the
// zone conversion.
func HourOfWeek(cfg *caseconf.Config, t time.Time) int {
	lt := cfg.Local(t)
	return int(lt.Weekday())*24 + lt.Hour()
}

// Week is a 7×24 histogram of activity by case-zone hour of week.
type Week [168]int32

// Add counts t.
func (w *Week) Add(cfg *caseconf.Config, t time.Time) { w[HourOfWeek(cfg, t)]++ }

// Near counts activity within ±1 hour of t's slot on days of the same
// kind (business day or not; a holiday counts as a day off), the
// tolerance a human schedule has.
func (w *Week) Near(cfg *caseconf.Config, t time.Time) int {
	lt := cfg.Local(t)
	weekend := cfg.Weekend(t) || cfg.Holiday(t)
	n := 0
	for d := 0; d < 7; d++ {
		// Same kind of day: compare Saturday work with other weekend work.
		probe := lt.AddDate(0, 0, d-int(lt.Weekday()))
		if cfg.Weekend(probe) != weekend {
			continue
		}
		for h := lt.Hour() - 1; h <= lt.Hour()+1; h++ {
			if h < 0 || h > 23 {
				continue
			}
			n += int(w[d*24+h])
		}
	}
	return n
}

// Total is the number of counted times.
func (w *Week) Total() int {
	n := 0
	for _, c := range w {
		n += int(c)
	}
	return n
}

// BareUser lowercases an account and strips DOMAIN\ and @domain, so the
// same identity written three ways compares equal.
func BareUser(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	if i := strings.LastIndexByte(u, '\\'); i >= 0 {
		u = u[i+1:]
	}
	if i := strings.IndexByte(u, '@'); i >= 0 {
		u = u[:i]
	}
	return u
}

// NormHost lowercases a host name and drops its DNS domain, since EVTX
// writes FQDNs while RMM and firewall logs often write short names.
func NormHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.IndexByte(h, '.'); i > 0 {
		if h[0] < '0' || h[0] > '9' { // keep IP addresses whole
			h = h[:i]
		}
	}
	return h
}

// Clip shortens s to n runes for a one-line summary.
func Clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Plural writes "1 logon" or "3 logons".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Interner stores each distinct string once; analyzers that keep millions
// of small records point at shared strings instead of copies.
type Interner map[string]string

// Get returns the shared copy of s.
func (in Interner) Get(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	s = strings.Clone(s)
	in[s] = s
	return s
}

// MaxSev returns the higher of two severities.
func MaxSev(a, b string) string {
	if event.Rank(b) > event.Rank(a) {
		return b
	}
	return a
}

// BumpSev raises a severity by n levels, capped at critical.
func BumpSev(s string, n int) string {
	r := event.Rank(s) + n
	r = max(0, min(r, len(event.Severities)-1))
	return event.Severities[r]
}

// OrDash shows an empty value as "-" in summaries.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// B2I turns a flag into 0/1 for Details, which hold numbers.
func B2I(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Every is Wants.Columns' answer for "every column" (a Want without
// Columns; raw fields are then read with Event.Field, from undecoded text).
var Every = []string{"*"}

// Memo1 remembers a string function's last answer. Events come in runs
// from one file (one channel, one host), so an analyzer that lower-cases
// the channel or normalises the host of every event asks the same
// question again and again; this answers it without allocating.
type Memo1 struct {
	f       func(string) string
	in, out string
	ok      bool
}

// NewMemo1 wraps f.
func NewMemo1(f func(string) string) *Memo1 { return &Memo1{f: f} }

// Get returns f(s).
func (m *Memo1) Get(s string) string {
	if !m.ok || s != m.in {
		m.in, m.out, m.ok = s, m.f(s), true
	}
	return m.out
}

// Chunks is an append-only list kept in fixed-size chunks: analyzers
// that keep hundreds of thousands of records would otherwise spend much
// of a hunt re-copying one ever-growing slice. All joins them once.
type Chunks[T any] struct {
	full []([]T)
	cur  []T
	n    int
}

const chunkSize = 8192

// Append adds v.
func (c *Chunks[T]) Append(v T) {
	if len(c.cur) == cap(c.cur) {
		if len(c.cur) > 0 {
			c.full = append(c.full, c.cur)
		}
		c.cur = make([]T, 0, chunkSize)
	}
	c.cur = append(c.cur, v)
	c.n++
}

// Len is the number of values appended.
func (c *Chunks[T]) Len() int { return c.n }

// All returns every value in order, in one slice.
func (c *Chunks[T]) All() []T {
	out := make([]T, 0, c.n)
	for _, ch := range c.full {
		out = append(out, ch...)
	}
	return append(out, c.cur...)
}

// FirstText returns the first of ss with more than white space in it, as
// it is (command and script text).
func FirstText(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// FirstValue returns the first of ss that, trimmed, is neither empty nor
// "-" (Windows' placeholder for no value), trimmed.
func FirstValue(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" && s != "-" {
			return s
		}
	}
	return ""
}

// TextOr is FirstText(typed, ev.Field(names[0]), …), reading raw fields
// only when the typed value is empty: most events have it, and a raw
// lookup is the costliest thing an analyzer does per event.
func TextOr(ev *event.Event, typed string, names ...string) string {
	if s := FirstText(typed); s != "" {
		return s
	}
	for _, n := range names {
		if s := FirstText(ev.Field(n)); s != "" {
			return s
		}
	}
	return ""
}

// ValueOr is FirstValue(typed, ev.Field(names[0]), …), reading raw fields
// only when the typed value is empty (see TextOr).
func ValueOr(ev *event.Event, typed string, names ...string) string {
	if s := FirstValue(typed); s != "" {
		return s
	}
	for _, n := range names {
		if s := FirstValue(ev.Field(n)); s != "" {
			return s
		}
	}
	return ""
}

// Round1 rounds a non-negative number to one decimal, for Details.
func Round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
