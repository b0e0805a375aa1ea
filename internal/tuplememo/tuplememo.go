// Package tuplememo remembers answers per tuple of values for one
// goroutine, within bounds on memory: the hunt's rule workers and the
// compiled Sigma matcher both answer an event from what they decided for
// an earlier one with the same values (real logs repeat their command
// lines, service paths and scheduled scripts).
package tuplememo

// A Memo holds at most MaxTuples keys and MaxBytes of key bytes; past
// either it starts afresh (a bound on memory, not on correctness). Keys
// longer than MaxKey are not remembered. Long ones are: a script block
// runs again and again (an agent's scheduled script, a logon script),
// and deciding on its text is the costliest decision there is (on a
// generated case, 10,187 script blocks of 75 distinct texts took a tenth
// of the rule workers' time).
const (
	MaxTuples = 1 << 16
	MaxKey    = 64 << 10
	MaxBytes  = 16 << 20
)

// Memo maps keys (the caller's encoding of a value tuple) to answers.
// One goroutine's.
type Memo[V any] struct {
	m     map[string]V
	bytes int
	hits  int64
}

// New returns an empty Memo.
func New[V any]() *Memo[V] { return &Memo[V]{m: map[string]V{}} }

// Get returns the answer remembered for key (counted as a hit).
func (m *Memo[V]) Get(key []byte) (V, bool) {
	v, ok := m.m[string(key)]
	if ok {
		m.hits++
	}
	return v, ok
}

// Put remembers v for key, unless key is longer than MaxKey.
func (m *Memo[V]) Put(key []byte, v V) {
	if len(key) > MaxKey {
		return
	}
	if len(m.m) >= MaxTuples || m.bytes+len(key) > MaxBytes {
		clear(m.m)
		m.bytes = 0
	}
	m.m[string(key)] = v
	m.bytes += len(key)
}

// Bytes is the length of the keys remembered now.
func (m *Memo[V]) Bytes() int { return m.bytes }

// Hits is how many Gets found an answer.
func (m *Memo[V]) Hits() int64 { return m.hits }
