package firewall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/textio"
)

// maxMessage bounds Event.Message; the full line is still in the evidence
// and its raw fields in Event.Fields.
const maxMessage = 2048

// lineHandler turns one line into zero or more events through l.
type lineHandler interface {
	handle(l *liner, line string)
}

// liner is the state shared by all line-based parsers while reading one
// file: position, stats, time handling and the emit callback.
type liner struct {
	in     *input.Input
	st     *input.Stats
	format string
	line   int64
	emitFn func(*event.Event) error
	err    error // first emit error; stops the loop
	clock  *clock
	noTime int64 // events without a usable timestamp
	fw     fieldWriter
}

// runLines reads in line by line and hands each line to h. Only I/O and
// emit errors end it; everything else is counted.
func runLines(ctx context.Context, in *input.Input, format string, h lineHandler, emit func(*event.Event) error, st *input.Stats) error {
	rc, err := in.Open()
	if err != nil {
		return &input.ParseError{File: in.Path, Err: err}
	}
	defer rc.Close()
	l := &liner{in: in, st: st, format: format, emitFn: emit, clock: newClock(in, format, st)}
	r := textio.NewReader(rc)
	for {
		if l.line&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		b, err := r.Next()
		l.line = r.Line()
		if err == io.EOF {
			break
		}
		if errors.Is(err, textio.ErrLineTooLong) {
			st.Skip("line too long", fmt.Sprintf("line %d: longer than %d bytes", l.line, textio.MaxLine))
			continue
		}
		if err != nil {
			return &input.ParseError{File: in.Path, Line: l.line + 1, Err: err}
		}
		h.handle(l, string(b))
		if l.err != nil {
			return l.err
		}
	}
	l.finish()
	return nil
}

func (l *liner) finish() {
	if l.noTime > 0 {
		l.st.Note("%d events have no usable timestamp (time left empty)", l.noTime)
	}
	l.clock.finish()
}

// newEvent starts an event for the current line.
func (l *liner) newEvent() *event.Event {
	ev := &event.Event{
		Source:   event.SourceFirewall,
		Format:   l.format,
		Evidence: l.in.Path,
		Offset:   l.line,
		Fields:   ordereddict.NewDict(),
	}
	l.fw.reset(ev.Fields)
	return ev
}

// add appends a raw field to the event last made by newEvent.
func (l *liner) add(k string, v any) { l.fw.add(k, v) }

// addColumns adds the positional values vals as raw fields named by
// names; columns past the names are kept as extra+N (N from 1), so
// nothing in the record is lost. It returns a lookup of a named column's
// value, "" when the record is too short to have it.
func (l *liner) addColumns(names, vals []string, extra string) func(name string) string {
	for i, v := range vals {
		name := extra + itoa(i+1)
		if i < len(names) {
			name = names[i]
		}
		l.add(name, v)
	}
	return func(name string) string {
		for i, n := range names {
			if n == name {
				if i < len(vals) {
					return vals[i]
				}
				break
			}
		}
		return ""
	}
}

// emit hands ev on and counts it.
func (l *liner) emit(ev *event.Event) {
	if l.err != nil {
		return
	}
	if ev.Time.IsZero() {
		l.noTime++
	} else {
		ev.Time = ev.Time.UTC()
	}
	ev.Message = bound(ev.Message, maxMessage)
	l.st.Records++
	l.st.Saw(ev.Time)
	l.err = l.emitFn(ev)
}

// skip counts the current line as not turned into an event.
func (l *liner) skip(reason, line string) {
	l.st.Skip(reason, fmt.Sprintf("line %d: %s: %q", l.line, reason, bound(line, 120)))
}

// bound cuts s to at most n bytes on a rune boundary, marking the cut.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return textio.Truncate(s, n) + "…"
}

// fieldWriter appends raw fields to one event, keeping every
// occurrence: a repeated key (iptables writes LEN= twice) gets a numbered
// name (LEN_2, LEN_3, …) instead of replacing the first value. The
// counter per key keeps hostile lines full of repeats linear.
type fieldWriter struct {
	d    *ordereddict.Dict
	next map[string]int
}

func (w *fieldWriter) reset(d *ordereddict.Dict) {
	w.d = d
	clear(w.next)
}

func (w *fieldWriter) add(k string, v any) {
	if _, dup := w.d.Get(k); !dup {
		w.d.Set(k, v)
		return
	}
	if w.next == nil {
		w.next = map[string]int{}
	}
	n := max(w.next[k], 2)
	for {
		name := k + "_" + strconv.Itoa(n)
		n++
		if _, dup := w.d.Get(name); !dup {
			w.d.Set(name, v)
			w.next[k] = n
			return
		}
	}
}

// atoi32 parses a port-like number; anything else is absent.
func atoi32(s string) event.Opt[int32] {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil || n < 0 {
		return event.Opt[int32]{}
	}
	return event.Some(int32(n))
}

// atoi64 parses a byte count; anything else is absent.
func atoi64(s string) event.Opt[int64] {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return event.Opt[int64]{}
	}
	return event.Some(n)
}

// ipProtocols maps IANA protocol numbers to the names used in Protocol.
var ipProtocols = map[string]string{
	"1": "icmp", "2": "igmp", "4": "ipip", "6": "tcp", "17": "udp", "41": "ipv6",
	"47": "gre", "50": "esp", "51": "ah", "58": "icmpv6", "89": "ospf", "103": "pim",
	"112": "vrrp", "132": "sctp",
}

// normProto lower-cases a protocol name and maps numbers to names.
func normProto(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	if n, ok := ipProtocols[p]; ok {
		return n
	}
	switch p {
	case "ipv6-icmp", "icmp6":
		return "icmpv6"
	case "-", "n/a":
		return ""
	}
	return p
}

// normAction maps vendor action words to the normalised set
// allow|deny|drop|reject|close|open|reset|alert|… ; unknown words are
// lower-cased as they are (the raw word stays in Fields).
func normAction(a string) string {
	a = strings.ToLower(strings.Trim(strings.TrimSpace(a), `"`))
	switch a {
	case "accept", "accepted", "allow", "allowed", "pass", "permit", "permitted", "acc", "start", "pass-through", "passthrough":
		return event.ActionAllow
	case "deny", "denied", "block", "blocked", "reject", "rejected", "refused":
		if strings.HasPrefix(a, "rej") {
			return event.ActionReject
		}
		return event.ActionDeny
	case "drop", "dropped", "discard", "discarded":
		return event.ActionDrop
	case "close", "closed", "end", "teardown", "timeout", "server-rst", "client-rst":
		if strings.HasSuffix(a, "-rst") {
			return event.ActionReset
		}
		return event.ActionClose
	case "open", "opened", "built":
		return event.ActionOpen
	case "reset", "reset-both", "reset-client", "reset-server":
		return event.ActionReset
	}
	return a
}

// epochTime converts Zeek-style seconds with a fraction ("1521911721.255387").
func epochTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return time.Time{}, false
	}
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return time.Time{}, false
	}
	var ns int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil || f < 0 {
			return time.Time{}, false
		}
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
		ns = f
	}
	return time.Unix(n, ns).UTC(), true
}

func itoa(n int) string { return strconv.Itoa(n) }

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
