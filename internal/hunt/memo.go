package hunt

import (
	"encoding/binary"
	"slices"
	"strconv"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
)

// Real logs repeat themselves: the same service command lines, the same
// scheduled scripts, thousands of times. A single-event rule whose
// condition reads only such columns gives the same answer for the same
// values, so each hunt worker remembers the answers of these rules per
// distinct value tuple and runs their conditions once per tuple.

// unmemoizable columns are (nearly) unique per event: remembering
// answers keyed on them would only fill memory. Rules that read them, or
// raw fields, are evaluated every time.
var unmemoizable = map[string]bool{
	"time": true, "record_id": true, "offset": true, "fields": true, "src_port": true,
	"bytes_in": true, "bytes_out": true, "logon_id": true, "session_id": true,
}

// memoCap bounds a worker's remembered tuples; past it the memo starts
// afresh (a bound on memory, not on correctness). Tuples longer than
// memoMaxKey (long scripts, unique command lines) are not remembered at
// all: they rarely repeat, and keeping them would cost memory for nothing.
const (
	memoCap    = 1 << 16
	memoMaxKey = 512
)

// memoizable reports whether a rule's single-event answer can be
// remembered, and the columns it depends on.
func memoizable(r *rule.Rule) ([]string, bool) {
	if r.Match == nil || r.Stateful != nil || r.NewState != nil || r.MatchColumns == nil {
		return nil, false
	}
	for _, c := range r.MatchColumns {
		if unmemoizable[c] {
			return nil, false
		}
	}
	return r.MatchColumns, true
}

// keyColumns returns getters for the memo key: source, channel and event
// id (what the pre-filters read) and then every column a memoized rule's
// condition reads.
func keyColumns(cols []string) []func(*event.Event, []byte) []byte {
	// Each value is prefixed with its length, so no two tuples share a
	// key (a separator byte could occur inside a value).
	str := func(f func(*event.Event) string) func(*event.Event, []byte) []byte {
		return func(ev *event.Event, b []byte) []byte {
			v := f(ev)
			return append(binary.AppendUvarint(b, uint64(len(v))), v...)
		}
	}
	num := func(f func(*event.Event) int64) func(*event.Event, []byte) []byte {
		return func(ev *event.Event, b []byte) []byte { return append(strconv.AppendInt(b, f(ev), 10), ';') }
	}
	getters := map[string]func(*event.Event, []byte) []byte{
		"source":         str(func(e *event.Event) string { return e.Source }),
		"format":         str(func(e *event.Event) string { return e.Format }),
		"host":           str(func(e *event.Event) string { return e.Host }),
		"channel":        str(func(e *event.Event) string { return e.Channel }),
		"provider":       str(func(e *event.Event) string { return e.Provider }),
		"event_id":       num(func(e *event.Event) int64 { return int64(e.EventID) }),
		"user":           str(func(e *event.Event) string { return e.User }),
		"user_domain":    str(func(e *event.Event) string { return e.UserDomain }),
		"user_sid":       str(func(e *event.Event) string { return e.UserSID }),
		"subject_user":   str(func(e *event.Event) string { return e.SubjectUser }),
		"logon_type":     num(func(e *event.Event) int64 { return int64(e.LogonType) }),
		"src_ip":         str(func(e *event.Event) string { return e.SrcIP }),
		"dst_ip":         str(func(e *event.Event) string { return e.DstIP }),
		"dst_port":       num(func(e *event.Event) int64 { return int64(e.DstPort) }),
		"protocol":       str(func(e *event.Event) string { return e.Protocol }),
		"action":         str(func(e *event.Event) string { return e.Action }),
		"process":        str(func(e *event.Event) string { return e.Process }),
		"parent_process": str(func(e *event.Event) string { return e.ParentProcess }),
		"command_line":   str(func(e *event.Event) string { return e.CommandLine }),
		"script_text":    str(func(e *event.Event) string { return e.ScriptText }),
		"operator":       str(func(e *event.Event) string { return e.Operator }),
		"message":        str(func(e *event.Event) string { return e.Message }),
		"evidence":       str(func(e *event.Event) string { return e.Evidence }),
	}
	all := append([]string{"source", "channel", "event_id"}, cols...)
	slices.Sort(all[3:])
	all = slices.Compact(all)
	var out []func(*event.Event, []byte) []byte
	seen := map[string]bool{}
	for _, c := range all {
		if g := getters[c]; g != nil && !seen[c] {
			seen[c] = true
			out = append(out, g)
		}
	}
	return out
}

// memo is one worker's remembered answers: for each key tuple, which
// memoized rules (bit i: plan.memoRules[i]) matched.
type memo struct {
	seen   map[string][]uint64
	key    []byte
	bits   []uint64 // scratch for a miss
	failed bool     // a condition failed on the event being evaluated
}

func newMemo() *memo { return &memo{seen: map[string][]uint64{}} }
