package hunt

import (
	"encoding/binary"
	"slices"
	"strconv"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/triage"
	"github.com/spoor-dfir/spoor/internal/tuplememo"
)

// Real logs repeat themselves: the same service command lines, the same
// scheduled scripts, thousands of times. A single-event rule whose
// condition reads only such columns gives the same answer for the same
// values, so each hunt worker remembers the answers of these rules per
// distinct value tuple and runs their conditions once per tuple.

// keyPart appends one column of an event to a memo key. Each value is
// prefixed with its length (numbers end with ';'), so no two tuples share
// a key whatever bytes the values hold.
type keyPart func(ev *event.Event, key []byte) []byte

func strPart(f func(*event.Event) string) keyPart {
	return func(ev *event.Event, b []byte) []byte {
		v := f(ev)
		return append(binary.AppendUvarint(b, uint64(len(v))), v...)
	}
}

func numPart(f func(*event.Event) int64) keyPart {
	return func(ev *event.Event, b []byte) []byte { return append(strconv.AppendInt(b, f(ev), 10), ';') }
}

// keyParts are the columns a memo key can hold: source and the columns
// event.Columns marks Repeats. The others (time, record id, offset, ports
// and byte counts, logon and session ids, raw fields) are (nearly) unique
// per event: a rule that reads one is evaluated every time, since
// remembering its answers would only fill memory.
var keyParts = func() map[string]keyPart {
	m := map[string]keyPart{"source": strPart(func(e *event.Event) string { return e.Source })}
	for i := range event.Columns {
		c := &event.Columns[i]
		switch {
		case !c.Repeats:
		case c.Kind == event.KindString:
			m[c.Name] = strPart(func(e *event.Event) string { return c.Get(e).Str })
		default:
			m[c.Name] = numPart(func(e *event.Event) int64 { return c.Get(e).Int })
		}
	}
	return m
}()

// memoizable reports whether a rule's single-event answer can be
// remembered: a plain condition whose every column can be in a key.
func memoizable(r *rule.Rule) bool {
	return r.Match != nil && r.Stateful == nil && r.NewState == nil && r.MatchColumns != nil && keyable(r.MatchColumns)
}

// keyable reports whether every one of cols can be in a memo key.
func keyable(cols []string) bool {
	for _, c := range cols {
		if keyParts[c] == nil {
			return false
		}
	}
	return true
}

// guardMemoizable reports whether a rule's guards (rule.Guarded)
// can be remembered for a stateless rule, and the columns they read: all
// must be able to be in a key.
func guardMemoizable(r *rule.Rule) ([]string, bool) {
	if r.Stateful != nil || r.NewState != nil {
		return nil, false
	}
	cols, ok := rule.GuardColumns(r)
	return cols, ok && keyable(cols)
}

// keyOf returns the parts of the memo key: source, channel and event id
// (what the pre-filters read), then every column in cols, once each.
func keyOf(cols []string) []keyPart {
	var out []keyPart
	seen := map[string]bool{}
	for _, c := range append([]string{"source", "channel", "event_id"}, cols...) {
		if !seen[c] {
			seen[c] = true
			out = append(out, keyParts[c])
		}
	}
	return out
}

// memo is one worker's remembered answers: for each key tuple, which
// memoized rules (bit k: the rule with plan.memoIdx k) matched.
type memo struct {
	seen *tuplememo.Memo[[]uint64]
	key  []byte
	bits []uint64 // scratch: the answers gathered on a miss
	// keep says the answers gathered on a miss may be remembered: no
	// condition failed on the event.
	keep bool
	// shaper works out the worker's finding shapes, remembering masked
	// values.
	shaper *triage.Shaper
	// room is where the worker's batches make their findings, one after
	// the other (see evalBatch).
	room []event.Finding
	// ms is the room a batch's stateful matches are gathered in, by
	// rule (see evalBatch).
	ms [][]match
}

func newMemo() *memo {
	return &memo{seen: tuplememo.New[[]uint64](), shaper: triage.NewShaper()}
}

// lookup returns the remembered answers for ev's key, or nil (and then
// the key and a cleared scratch set are ready for store).
func (m *memo) lookup(p *plan, ev *event.Event) []uint64 {
	m.key = m.key[:0]
	for _, g := range p.key {
		m.key = g(ev, m.key)
	}
	if bits, ok := m.seen.Get(m.key); ok {
		return bits
	}
	if m.bits == nil {
		m.bits = make([]uint64, (p.nMemo+63)/64)
	}
	clear(m.bits)
	m.keep = true
	return nil
}

// failed notes that a condition failed on the event: a failure is not an
// answer to remember (failures are counted per event).
func (m *memo) failed() { m.keep = false }

// store remembers the answers gathered since the last lookup, if it may.
func (m *memo) store() {
	if !m.keep {
		return
	}
	m.seen.Put(m.key, slices.Clone(m.bits))
}
