package hosts

import (
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
)

// FuzzHosts: host names and evidence paths come from hostile evidence.
// Nothing panics, a name is stable (naming a name again changes nothing),
// and a host taken from a path is one of the path's folders.
func FuzzHosts(f *testing.F) {
	for _, s := range []string{"DC01.corp.example.de", `CORP\WS1$`, "::ffff:10.0.0.1", "[fe80::1]", "-", "a..b", "evidence/PC-1/Windows/x.evtx",
		"k/H/C%3A/Users/u/ad.trace", "%5C%5C.%5CC%3A", "", "."} {
		f.Add(s)
	}
	tb := table(f)
	f.Fuzz(func(t *testing.T, s string) {
		n := tb.Name(s)
		if again := tb.Name(n); again != n {
			t.Fatalf("Name(%q) = %q, but Name(%q) = %q", s, n, n, again)
		}
		if h := FromPath(s); h != "" && !strings.Contains(strings.ReplaceAll(s, `\`, "/"), h) {
			t.Fatalf("FromPath(%q) = %q, not a folder of it", s, h)
		}
		ev := event.Event{Host: s, Evidence: s, SrcIP: s, DstIP: s}
		tb.Fix(&ev)
	})
}
