package search

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

func testStore(t *testing.T) *store.Store {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 14, 22, 0, 0, 0, time.UTC)
	evs := []event.Event{
		{Time: t0.Add(2 * time.Hour), Source: "evtx", Format: "evtx", Host: "DC01", Channel: "Security", EventID: 4624, User: "ct-weber", SrcIP: "203.0.113.91", Evidence: "e/Security.evtx", Offset: 7,
			Fields: ordereddict.NewDict().Set("TargetUserName", "ct-weber").Set("IpAddress", "203.0.113.91")},
		{Time: t0, Source: "evtx", Format: "evtx", Host: "FS01", Channel: "Microsoft-Windows-Sysmon/Operational", EventID: 1, Evidence: "e/Sysmon.evtx", Offset: 3,
			Fields: ordereddict.NewDict().Set("Image", `C:\Windows\Temp\x.exe`).Set("Hashes", ordereddict.NewDict().Set("SHA256", "AB12CD"))},
		{Time: t0.Add(time.Hour), Source: "firewall", Format: "fortigate", DstIP: "203.0.113.91", DstPort: event.Some[int32](443), Evidence: "e/fw.log", Offset: 12},
		{Time: t0.Add(time.Hour), Source: "rmm", Format: "anydesk-trace", Operator: "Mallory", Message: "Incoming session", Evidence: "e/ad.trace", Offset: 5},
	}
	w := st.NewEventWriter("part-1")
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return st
}

func find(t *testing.T, st *store.Store, o Options, terms ...string) string {
	t.Helper()
	m, err := NewMatcher(terms, o)
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := Run(context.Background(), st, m, o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Evidence)
	}
	return strings.Join(got, ",")
}

func TestSearch(t *testing.T) {
	st := testStore(t)
	cases := []struct {
		name  string
		o     Options
		terms []string
		want  string
	}{
		{"address in a column and a raw field, time order", Options{}, []string{"203.0.113.91"}, "e/fw.log,e/Security.evtx"},
		{"case-insensitive by default", Options{}, []string{"MALLORY"}, "e/ad.trace"},
		{"case-sensitive", Options{CaseSensitive: true}, []string{"MALLORY"}, ""},
		{"a backslash path in a raw field reads as the evidence wrote it", Options{}, []string{`windows\temp`}, "e/Sysmon.evtx"},
		{"nested raw field", Options{}, []string{"ab12cd"}, "e/Sysmon.evtx"},
		{"any term", Options{}, []string{"mallory", "ab12cd"}, "e/Sysmon.evtx,e/ad.trace"},
		{"all terms", Options{All: true}, []string{"ct-weber", "203.0.113.91"}, "e/Security.evtx"},
		{"all terms, one missing", Options{All: true}, []string{"ct-weber", "mallory"}, ""},
		{"regex", Options{Regex: true}, []string{`^\d+\.\d+\.113\.91$`}, "e/fw.log,e/Security.evtx"},
		{"a port number", Options{}, []string{"443"}, "e/fw.log"},
		{"a literal term is not a regex", Options{}, []string{"203.0.113.9."}, ""},
	}
	for _, c := range cases {
		if got := find(t, st, c.o, c.terms...); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	o := Options{Limit: 1}
	m, _ := NewMatcher([]string{"203.0.113.91"}, o)
	evs, truncated, err := Run(context.Background(), st, m, o)
	if err != nil || len(evs) != 1 || !truncated {
		t.Errorf("limit: %d events, truncated %v, %v", len(evs), truncated, err)
	}
	if _, err := NewMatcher([]string{"("}, Options{Regex: true}); err == nil {
		t.Error("bad regex accepted")
	}
	if _, err := NewMatcher(nil, Options{}); err == nil {
		t.Error("no terms accepted")
	}
}

func FuzzMatcher(f *testing.F) {
	f.Add("203.0.113.91", `C:\Windows`, true)
	f.Fuzz(func(t *testing.T, term, value string, regex bool) {
		m, err := NewMatcher([]string{term}, Options{Regex: regex})
		if err != nil {
			return
		}
		ev := &event.Event{CommandLine: value, Fields: ordereddict.NewDict().Set("x", value)}
		got := m.Match(ev)
		// The property is checked on ASCII, where lower-casing and the
		// regexp's case folding agree by definition.
		if isASCII(term) && isASCII(value) && !regex && term != "" && strings.Contains(strings.ToLower(value), strings.ToLower(term)) && !got {
			t.Fatalf("literal %q not found in %q", term, value)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
