package tuplememo

import (
	"fmt"
	"strings"
	"testing"
)

// TestMemoRemembersWithinBounds: answers come back for their keys, long
// keys up to MaxKey included; the key bytes and the tuples never pass
// their bounds, and a key past MaxKey is not kept.
func TestMemoRemembersWithinBounds(t *testing.T) {
	m := New[int]()
	long := []byte(strings.Repeat("s", 8<<10))
	m.Put(long, 7)
	if v, ok := m.Get(long); !ok || v != 7 || m.Hits() != 1 {
		t.Fatalf("long key: %d %v, %d hits", v, ok, m.Hits())
	}
	m.Put([]byte(strings.Repeat("x", MaxKey+1)), 1)
	if _, ok := m.Get([]byte(strings.Repeat("x", MaxKey+1))); ok {
		t.Fatal("a key past MaxKey was remembered")
	}
	for i := 0; i < 2000; i++ {
		m.Put([]byte(fmt.Sprint(i, strings.Repeat("y", 32<<10))), i)
		if m.Bytes() > MaxBytes || len(m.m) > MaxTuples {
			t.Fatalf("%d key bytes, %d tuples", m.Bytes(), len(m.m))
		}
	}
	for i := 0; i < MaxTuples+10; i++ {
		m.Put([]byte(fmt.Sprint(i)), i)
		if len(m.m) > MaxTuples {
			t.Fatalf("%d tuples", len(m.m))
		}
	}
}
