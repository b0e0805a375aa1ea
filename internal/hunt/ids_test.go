package hunt

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

// referenceID is a finding's ID as spoor has always written it: stored
// findings keep their IDs across versions only while this holds.
func referenceID(f *event.Finding) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d", f.Analyzer, f.RuleID, f.Host, f.Time.UnixNano())
	if len(f.Refs) > 0 {
		r := f.Refs[0]
		fmt.Fprintf(h, "\x00%s\x00%d\x00%d", r.Evidence, r.Offset, r.RecordID)
	} else {
		fmt.Fprintf(h, "\x00%s", f.Summary)
	}
	return "f-" + hex.EncodeToString(h.Sum(nil))[:16]
}

func TestAssignIDsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	t0 := time.Date(2024, 3, 9, 1, 0, 0, 0, time.UTC)
	fs := make([]event.Finding, 10000) // several hashing chunks
	for i := range fs {
		f := &fs[i]
		f.Analyzer, f.RuleID, f.Host = "rule", fmt.Sprint("r", rng.Intn(50)), fmt.Sprint("h", rng.Intn(5))
		f.Time = t0.Add(time.Duration(rng.Int63n(1e15)))
		f.Summary = fmt.Sprint("s", i)
		switch rng.Intn(4) {
		case 0:
		case 1:
			f.Time = time.Time{}
		default:
			f.Refs = []event.Ref{{Evidence: fmt.Sprint("e", rng.Intn(9)), Offset: rng.Int63() - rng.Int63(), RecordID: rng.Int63n(1e9)}}
		}
		if i%97 == 0 {
			f.ID = "kept"
		}
	}
	AssignIDs(fs)
	for i := range fs {
		want := referenceID(&fs[i])
		if i%97 == 0 {
			want = "kept"
		}
		if fs[i].ID != want {
			t.Fatalf("finding %d: ID %s, want %s", i, fs[i].ID, want)
		}
	}
}

// TestOrderNumbersRepeatedIDs: findings that hash alike, or were given
// the same ID, are told apart by -2, -3… in the finding order, whether
// the ID is one AssignIDs makes or not.
func TestOrderNumbersRepeatedIDs(t *testing.T) {
	t0 := time.Date(2024, 3, 9, 1, 0, 0, 0, time.UTC)
	var fs []event.Finding
	for i := 0; i < 3; i++ {
		// Alike in everything that is hashed; told apart by the summary
		// (the sort's last key before the ID).
		fs = append(fs, event.Finding{Analyzer: "rule", RuleID: "r", Host: "h", Time: t0, Summary: fmt.Sprint("s", 2-i),
			Refs: []event.Ref{{Evidence: "e", Offset: 1, RecordID: 1}}})
		fs = append(fs, event.Finding{ID: "custom", Analyzer: "x", Time: t0.Add(time.Second), Summary: fmt.Sprint("t", 2-i)})
		fs = append(fs, event.Finding{ID: "f-0123456789abcdeF", Analyzer: "y", Time: t0.Add(2 * time.Second), Summary: fmt.Sprint("u", 2-i)})
	}
	order(fs)
	want := referenceID(&event.Finding{Analyzer: "rule", RuleID: "r", Host: "h", Time: t0, Refs: []event.Ref{{Evidence: "e", Offset: 1, RecordID: 1}}})
	got := map[string]string{}
	for _, f := range fs {
		got[f.Summary] = f.ID
	}
	for s, id := range map[string]string{"s0": want, "s1": want + "-2", "s2": want + "-3", "t0": "custom", "t1": "custom-2", "t2": "custom-3",
		"u0": "f-0123456789abcdeF", "u1": "f-0123456789abcdeF-2", "u2": "f-0123456789abcdeF-3"} {
		if got[s] != id {
			t.Errorf("finding %s: ID %q, want %q", s, got[s], id)
		}
	}
	if h, ok := idBits(want); !ok || fmt.Sprintf("f-%016x", h) != want {
		t.Errorf("idBits(%q) = %x, %v", want, h, ok)
	}
}
