package incident

import (
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

func cfg(t *testing.T) *caseconf.Config {
	t.Helper()
	c, err := caseconf.Parse("case.yaml", []byte("timezone: Europe/Berlin\nproviders:\n  - name: ComTech\n    accounts: [\"ct-*\"]\n    operators: [\"ct-*\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var t0 = time.Date(2026, 11, 14, 22, 5, 0, 0, time.UTC)

func f(id, analyzer, sev, host, user, session string, at, dur time.Duration) event.Finding {
	return event.Finding{ID: id, Analyzer: analyzer, Severity: sev, Host: host, User: user, SessionID: session, Time: t0.Add(at), End: t0.Add(at + dur),
		Title: analyzer + " " + id, Summary: "summary of " + id, RuleID: analyzer + ".x"}
}

func TestCorrelate(t *testing.T) {
	fs := []event.Finding{
		f("F1", "rmmsessions", event.SevHigh, "DC01", "ct-weber", "S1", 0, 15*time.Minute),
		f("F2", "psrecon", event.SevHigh, "dc01.corp.example", `NT AUTHORITY\SYSTEM`, "S1", 2*time.Minute, 5*time.Minute),
		f("F3", "newadmin", event.SevCritical, "DC01", "svc-sqlmon", "", 20*time.Minute, time.Second),
		f("F4", "offhours", event.SevHigh, "DC01", "ct-admin-weber", "", 19*time.Minute, time.Minute),
		// Same host, a day later: another story.
		f("F5", "psrecon", event.SevMedium, "DC01", "itadmin", "", 24*time.Hour, time.Minute),
		// Another host, same time, no shared session: separate.
		f("F6", "outbound", event.SevLow, "FS01", "", "", time.Minute, time.Minute),
		// Info alone never makes an incident.
		f("F7", "coverage", event.SevInfo, "FS01", "", "", 0, 48*time.Hour),
	}
	incs := Correlate(cfg(t), fs)
	if len(incs) != 2 {
		for _, in := range incs {
			t.Logf("%+v", in)
		}
		t.Fatalf("want 2 incidents, got %d", len(incs))
	}
	a := incs[0]
	if strings.Join(a.Findings, ",") != "F1,F2,F4,F3" || a.Severity != event.SevCritical || a.SessionID != "S1" {
		t.Errorf("first incident: %+v", a)
	}
	if strings.Join(a.Hosts, ",") != "DC01" || !a.Start.Equal(t0) || !a.End.Equal(t0.Add(20*time.Minute+time.Second)) {
		t.Errorf("hosts/times: %v %v %v", a.Hosts, a.Start, a.End)
	}
	// The narrative reads session → commands → effects.
	n := a.Narrative
	si, ci, ei := strings.Index(n, "Session: "), strings.Index(n, "Commands: "), strings.Index(n, "Effects: ")
	if si < 0 || ci < si || ei < ci || !strings.Contains(n[si:ci], "rmmsessions F1") || !strings.Contains(n[ci:ei], "psrecon F2") || !strings.Contains(n[ei:], "newadmin F3") {
		t.Errorf("narrative %q", n)
	}
	for _, x := range fs[:4] {
		if x.IncidentID != a.ID {
			t.Errorf("%s incident %q, want %q", x.ID, x.IncidentID, a.ID)
		}
	}
	b := incs[1]
	if strings.Join(b.Findings, ",") != "F5" || b.Severity != event.SevMedium || !strings.Contains(b.Narrative, "no account change") {
		t.Errorf("second incident: %+v", b)
	}
	if fs[5].IncidentID != "" || fs[6].IncidentID != "" {
		t.Errorf("low/info findings on FS01 joined an incident: %q %q", fs[5].IncidentID, fs[6].IncidentID)
	}
	// Stable: the same findings give the same IDs.
	again := Correlate(cfg(t), append([]event.Finding(nil), fs...))
	if again[0].ID != a.ID || again[1].ID != b.ID {
		t.Errorf("IDs not stable")
	}
}

func TestDistinctUsersStayApart(t *testing.T) {
	fs := []event.Finding{
		f("A", "psrecon", event.SevMedium, "PC-1", "mmeier", "", 0, time.Minute),
		f("B", "psrecon", event.SevMedium, "PC-1", "kschulz", "", 5*time.Minute, time.Minute),
	}
	if incs := Correlate(cfg(t), fs); len(incs) != 2 {
		t.Errorf("two people on one PC joined: %+v", incs)
	}
}

// TestCorrelateMatchesAllPairs holds Correlate's bounded walk to the
// plain definition, over random findings: two findings on one host join
// when the later starts at most Gap after the earlier ends and their
// users are compatible (and findings of one session always join).
func TestCorrelateMatchesAllPairs(t *testing.T) {
	c := cfg(t)
	users := []string{"ct-weber", "ct-admin-weber", `NT AUTHORITY\SYSTEM`, "alice", "bob", ""}
	hosts := []string{"DC01", "dc01.corp.example", "FS01"}
	sevs := []string{event.SevInfo, event.SevLow, event.SevMedium, event.SevHigh}
	joinedLong := false
	for seed := int64(0); seed < 400; seed++ {
		r := rand.New(rand.NewSource(seed))
		var fs []event.Finding
		// Sparse sets (40 findings over two weeks) and dense ones (150
		// over two days, where wildcard users meet many others).
		n, span := 40, 14*24*60
		if seed >= 300 {
			n, span = 150, 2*24*60
		}
		for i := 0; i < n; i++ {
			dur := time.Duration(r.Intn(50)) * time.Minute
			if r.Intn(6) == 0 {
				dur = time.Duration(r.Intn(10*24)) * time.Hour // sessions, beacons
			}
			sess := ""
			if r.Intn(8) == 0 {
				sess = fmt.Sprint("S", r.Intn(3))
			}
			fs = append(fs, f(fmt.Sprint("F", i), "x", sevs[r.Intn(len(sevs))], hosts[r.Intn(len(hosts))], users[r.Intn(len(users))], sess,
				time.Duration(r.Intn(span))*time.Minute, dur))
		}
		got := map[string]string{}
		for _, in := range Correlate(c, fs) {
			got[strings.Join(sortedCopy(in.Findings), ",")] = in.Severity
		}
		want := naiveGroups(c, fs)
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d incidents, all-pairs gives %d\ngot  %v\nwant %v", seed, len(got), len(want), got, want)
		}
		for k, sev := range want {
			if got[k] != sev {
				t.Fatalf("seed %d: incident %s missing or %q (want %q)", seed, k, got[k], sev)
			}
		}
		for _, f := range fs {
			if f.End.Sub(f.Time) > 7*24*time.Hour && event.Rank(f.Severity) >= event.Rank(event.SevLow) {
				for k := range want {
					if strings.Contains(","+k+",", ","+f.ID+",") && strings.Contains(k, ",") {
						joinedLong = true
					}
				}
			}
		}
	}
	if !joinedLong {
		t.Fatal("no finding longer than a week was ever joined: the long-finding path is untested")
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

// naiveGroups is the definition, all pairs: incidents as sorted finding
// ids joined by commas, with their severity.
func naiveGroups(c *caseconf.Config, fs []event.Finding) map[string]string {
	parent := map[int]int{}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			x = parent[x]
		}
		return x
	}
	var idx []int
	for i := range fs {
		if event.Rank(fs[i].Severity) >= event.Rank(event.SevLow) || fs[i].SessionID != "" {
			idx = append(idx, i)
			parent[i] = i
		}
	}
	union := func(a, b int) { parent[find(a)] = find(b) }
	for _, i := range idx {
		for _, j := range idx {
			a, b := &fs[i], &fs[j]
			if i == j {
				continue
			}
			if a.SessionID != "" && a.SessionID == b.SessionID {
				union(i, j)
			}
			if normHost(a.Host) == "" || normHost(a.Host) != normHost(b.Host) {
				continue
			}
			// b is the earlier of the two (by time; ties: either way).
			if !b.Time.After(a.Time) && a.Time.Sub(end(b)) <= Gap && compatible(c, a.User, b.User) {
				union(i, j)
			}
		}
	}
	groups := map[int][]int{}
	for _, i := range idx {
		groups[find(i)] = append(groups[find(i)], i)
	}
	out := map[string]string{}
	for _, m := range groups {
		top := ""
		var ids []string
		for _, i := range m {
			ids = append(ids, fs[i].ID)
			if event.Rank(fs[i].Severity) > event.Rank(top) {
				top = fs[i].Severity
			}
		}
		if event.Rank(top) < event.Rank(MinSeverity) || !Worthy(fs, m) {
			continue
		}
		sort.Strings(ids)
		out[strings.Join(ids, ",")] = top
	}
	return out
}

// BenchmarkCorrelate1M joins a million findings on five hosts (a hunt of
// the whole SigmaHQ pack over a noisy store): the join must stay
// n log n, whatever the density.
func BenchmarkCorrelate1M(b *testing.B) {
	c, err := caseconf.Parse("case.yaml", []byte("providers:\n  - name: ComTech\n    accounts: [\"ct-*\"]\n"))
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	users := []string{"ct-weber", `NT AUTHORITY\SYSTEM`, "", "alice", "bob", "carol", "ct-admin"}
	sevs := []string{event.SevInfo, event.SevLow, event.SevMedium, event.SevHigh}
	base := make([]event.Finding, 1_000_000)
	for i := range base {
		at := time.Duration(r.Int63n(int64(30 * 24 * time.Hour)))
		base[i] = f(fmt.Sprint("F", i), "x", sevs[r.Intn(len(sevs))], fmt.Sprint("HOST", r.Intn(5)), users[r.Intn(len(users))], "", at, time.Duration(r.Intn(30))*time.Minute)
	}
	fs := make([]event.Finding, len(base))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(fs, base)
		if len(Correlate(c, fs)) == 0 {
			b.Fatal("no incident")
		}
	}
}

// TestWorthy: a lone medium rule is a lead, not an incident; a high
// finding, an analyzer's medium, one tied to an RMM session, or two
// different rules agreeing make one.
func TestWorthy(t *testing.T) {
	f := func(sev, analyzer, rule, session string) event.Finding {
		return event.Finding{Severity: sev, Analyzer: analyzer, RuleID: rule, SessionID: session}
	}
	cases := []struct {
		name string
		fs   []event.Finding
		want bool
	}{
		{"one medium rule, many times", []event.Finding{f("medium", "rule", "a", ""), f("medium", "rule", "a", ""), f("low", "rule", "b", "")}, false},
		{"two medium rules", []event.Finding{f("medium", "rule", "a", ""), f("medium", "rule", "b", "")}, true},
		{"a high rule", []event.Finding{f("high", "rule", "a", "")}, true},
		{"an analyzer's medium", []event.Finding{f("medium", "persistence", "persistence.service", "")}, true},
		{"a medium rule in an RMM session", []event.Finding{f("medium", "rule", "a", "s1")}, true},
		{"only low", []event.Finding{f("low", "rule", "a", ""), f("low", "rule", "b", "")}, false},
	}
	for _, c := range cases {
		idx := make([]int, len(c.fs))
		for i := range idx {
			idx[i] = i
		}
		if got := Worthy(c.fs, idx); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestNarrativeTopFourIsTheStableSortsFirst holds the narrative's one-pass
// choice of a phase's four most severe findings to the first four of a
// stable sort by severity, on random severities.
func TestNarrativeTopFourIsTheStableSortsFirst(t *testing.T) {
	sevs := []string{event.SevInfo, event.SevLow, event.SevMedium, event.SevHigh, event.SevCritical}
	for seed := int64(0); seed < 200; seed++ {
		r := rand.New(rand.NewSource(seed))
		n := 1 + r.Intn(12)
		fs := make([]event.Finding, n)
		members := make([]int, n)
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range fs {
			fs[i] = event.Finding{ID: fmt.Sprint(i), Title: fmt.Sprint("t", i), Severity: sevs[r.Intn(len(sevs))], Time: t0.Add(time.Duration(i) * time.Minute), Analyzer: "psrecon"}
			members[i] = i
		}
		phases := make([]int8, n)
		for i := range phases {
			phases[i] = 1
		}
		got := narrative(caseconf.Default(), fs, members, phases, []string{"H"})
		// The reference: positions sorted by severity, stably.
		pos := slices.Clone(members)
		slices.SortStableFunc(pos, func(a, b int) int { return event.Rank(fs[b].Severity) - event.Rank(fs[a].Severity) })
		top := pos[:min(4, n)]
		slices.Sort(top) // told in time order (times follow the index)
		for _, i := range top {
			if !strings.Contains(got, "] "+fs[i].Title+" —") {
				t.Fatalf("seed %d: %s missing from %q", seed, fs[i].Title, got)
			}
		}
		if c := strings.Count(got, "] t"); c != len(top) {
			t.Fatalf("seed %d: %d findings told, want %d: %q", seed, c, len(top), got)
		}
	}
}

// TestSortMembersIsTheSort holds sortMembers (runs of one time sorted
// when the members are in time order) to a plain sort.
func TestSortMembersIsTheSort(t *testing.T) {
	for seed := int64(0); seed < 300; seed++ {
		r := rand.New(rand.NewSource(seed))
		n := r.Intn(40)
		fs := make([]event.Finding, n)
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range fs {
			fs[i] = event.Finding{ID: fmt.Sprint("f", r.Intn(8)), Time: t0.Add(time.Duration(r.Intn(5)) * time.Second)}
		}
		members := make([]int, n)
		for i := range members {
			members[i] = i
		}
		byTime := func(a, b int) int { return fs[a].Time.Compare(fs[b].Time) }
		if seed%2 == 0 {
			slices.SortStableFunc(members, byTime) // in time order, as a hunt hands them
		} else {
			r.Shuffle(n, func(i, j int) { members[i], members[j] = members[j], members[i] })
		}
		cmp := func(a, b int) int {
			if c := byTime(a, b); c != 0 {
				return c
			}
			if c := strings.Compare(fs[a].ID, fs[b].ID); c != 0 {
				return c
			}
			return a - b
		}
		want := slices.Clone(members)
		slices.SortFunc(want, cmp)
		sortMembers(fs, members, cmp)
		if !slices.Equal(members, want) {
			t.Fatalf("seed %d: %v, want %v", seed, members, want)
		}
	}
}
