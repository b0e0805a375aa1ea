package fleet

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestShapeFoldsWhatDiffersBetweenClients(t *testing.T) {
	same := [][2]string{
		{`net view \\FS01 /all`, `NET  VIEW \\srv-files.acme.local /ALL`},
		{`ping -n 4 10.10.0.20`, `ping -n 12 192.168.7.1`},
		{"# helper\r\n\r\nGet-SmbShare | Select Name", "Get-SmbShare  |  select name\n# tail"},
		{`sc query {6F1A3C9E-0B44-6543-1200-000000000A00}`, `sc query {11111111-2222-3333-4444-555555555555}`},
	}
	for _, p := range same {
		if a, b := Shape(p[0]), Shape(p[1]); a != b {
			t.Errorf("Shape(%q) = %q, Shape(%q) = %q; want the same shape", p[0], a, p[1], b)
		}
	}
	differ := [][2]string{
		{`net user /domain`, `net group /domain`},
		{`wevtutil cl Security`, `wevtutil qe Security`},
	}
	for _, p := range differ {
		if a, b := Shape(p[0]), Shape(p[1]); a == b {
			t.Errorf("Shape(%q) = Shape(%q) = %q; want different shapes", p[0], p[1], a)
		}
	}
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	mk := func(parts ...string) {
		p := filepath.Join(append([]string{root}, parts...)...)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("fleet", "acme", "case.yaml")
	mk("fleet", "acme", "evidence", "x.evtx")
	mk("fleet", "beta", "store", "manifest.json")
	mk("fleet", "beta", "case.yaml")
	mk("fleet", "gamma", "manifest.json") // a bare store
	mk("fleet", "notes", "readme.txt")    // not a client
	mk("solo", "store", "manifest.json")
	mk("solo", "case.yaml")
	got, err := Discover([]string{filepath.Join(root, "fleet"), filepath.Join(root, "solo", "store")})
	if err != nil {
		t.Fatal(err)
	}
	f := func(p ...string) string { return filepath.Join(append([]string{root}, p...)...) }
	want := []Client{
		{Name: "acme", Store: f("fleet", "acme", "store"), CaseFile: f("fleet", "acme", "case.yaml"), Evidence: f("fleet", "acme", "evidence")},
		{Name: "beta", Store: f("fleet", "beta", "store"), CaseFile: f("fleet", "beta", "case.yaml")},
		{Name: "gamma", Store: f("fleet", "gamma")},
		{Name: "solo", Store: f("solo", "store"), CaseFile: f("solo", "case.yaml")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Discover:\n got %+v\nwant %+v", got, want)
	}
	if _, err := Discover([]string{filepath.Join(root, "fleet"), filepath.Join(root, "fleet", "beta")}); err == nil {
		t.Fatal("the same client twice should be an error")
	}
	if _, err := Discover([]string{filepath.Join(root, "fleet", "notes")}); err == nil {
		t.Fatal("a folder without clients should be an error")
	}
}

// TestJoinOrdersByFirstActivity builds the cross-client part from client
// views directly: the touched order follows the first flagged session,
// indicators need two clients, and an unflagged session from a recurring
// address is kept while one from elsewhere is not.
func TestJoinOrdersByFirstActivity(t *testing.T) {
	at := func(d int) time.Time { return time.Date(2026, 3, d, 22, 0, 0, 0, time.UTC) }
	sess := func(d int, op, ip string, cmds ...string) Session {
		return Session{Start: at(d), End: at(d).Add(time.Hour), Operator: op, SourceIP: ip, Tool: "screenconnect", Commands: cmds}
	}
	first := func(d int) *time.Time { t := at(d); return &t }
	v := &View{Clients: []ClientView{
		{Name: "a", Sessions: []Session{sess(9, "ct-x", "203.0.113.5", "net user /domain")}, First: first(9)},
		{Name: "b", AlsoSeen: []Session{sess(2, "ct-y", "203.0.113.5"), sess(3, "ct-y", "198.51.100.1")}},
		{Name: "c", Sessions: []Session{sess(4, "CT-X", "203.0.113.5", "net user /domain"), sess(5, "ct-z", "192.0.2.1", "whoami")}, First: first(4)},
		{Name: "d", Sessions: []Session{sess(6, "ct-q", "192.0.2.99", "whoami")}, First: first(6)},
	}}
	v.join()
	var order []string
	for _, tc := range v.Touched {
		order = append(order, tc.Client)
	}
	if !reflect.DeepEqual(order, []string{"c", "d", "a"}) {
		t.Fatalf("touched order %v, want [c d a]", order)
	}
	var inds []string
	for _, in := range v.Indicators {
		var cl []string
		for _, s := range in.Clients {
			cl = append(cl, s.Client)
		}
		inds = append(inds, in.Kind+"="+in.Value+":"+joinNames(cl))
	}
	want := []string{
		"operator=ct-x:c,a", "source_ip=203.0.113.5:c,a", "tool=screenconnect:c,d,a", "command=net user /domain:c,a",
		"command=whoami:c,d",
	}
	if !reflect.DeepEqual(inds, want) {
		t.Fatalf("indicators\n got %v\nwant %v", inds, want)
	}
	if b := v.Clients[1]; len(b.AlsoSeen) != 1 || b.AlsoSeen[0].SourceIP != "203.0.113.5" {
		t.Fatalf("client b also-seen %+v, want only the session from the recurring address", b.AlsoSeen)
	}
}

func joinNames(l []string) string {
	s := ""
	for i, x := range l {
		if i > 0 {
			s += ","
		}
		s += x
	}
	return s
}

// TestBuildGoesOnPastABrokenClient: a client whose store cannot be read
// is named with its error; the others are still read.
func TestBuildGoesOnPastABrokenClient(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "manifest.json"), []byte("{not json"), 0o644)
	v, err := Build(context.Background(), []Client{{Name: "bad", Store: bad}, {Name: "missing", Store: filepath.Join(dir, "nope")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Clients) != 2 || v.Clients[0].Error == "" || v.Clients[1].Error == "" {
		t.Fatalf("want both clients listed with an error, got %+v", v.Clients)
	}
	if len(v.Touched) != 0 {
		t.Fatalf("touched %v", v.Touched)
	}
}
