package simulate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// FleetOptions control a fleet run: the clients of one MSP, each written
// as its own case folder by Run, some of them reached by the same
// attacker one after another.
type FleetOptions struct {
	Out     string
	Clients int // number of client companies; 0 means 20
	Touched int // how many the attacker reaches; 0 means a quarter (at least 1)
	Seed    uint64
	Hosts   int       // per client, as Options.Hosts
	Days    int       // per client, as Options.Days
	End     time.Time // the end of the last-reached client's period; zero means DefaultEnd
}

// FleetLabel is one line of fleet-labels.jsonl: one client, whether the
// attacker reached it, and when (the start of its first attack session).
type FleetLabel struct {
	Client   string     `json:"client"`
	Scenario string     `json:"scenario"`
	Touched  bool       `json:"touched"`
	Order    int        `json:"order,omitempty"` // 1 = reached first
	First    *time.Time `json:"first,omitempty"`
}

// FleetSummary reports what a fleet run wrote.
type FleetSummary struct {
	Clients []FleetLabel // in client-name order
	Files   int
	Bytes   int64
}

// fleetWeek is the gap between the attacker's visits to two clients. The
// attack of a scenario falls in the last week of a client's period, so
// each touched client's period ends one week after the previous one's:
// as if each client pulled its logs the Monday after the attacker left.
const fleetWeek = 7 * 24 * time.Hour

// Fleet writes o.Clients case folders (client-01, client-02, …) under
// o.Out, each with its own evidence, case.yaml and labels.jsonl, and
// fleet-labels.jsonl naming the clients the attacker reached in the order
// it reached them. Untouched clients get the normal scenario; touched ones
// take the attack scenarios in turn. Who is touched, and in which order,
// follows from the seed alone.
func Fleet(o FleetOptions) (*FleetSummary, error) {
	if o.Clients == 0 {
		o.Clients = 20
	}
	if o.Clients < 1 || o.Clients > 999 {
		return nil, fmt.Errorf("--clients %d: want 1 to 999", o.Clients)
	}
	if o.Touched == 0 {
		o.Touched = max(1, o.Clients/4)
	}
	if o.Touched < 0 || o.Touched > o.Clients {
		return nil, fmt.Errorf("--touched %d: want 0 to %d (the number of clients)", o.Touched, o.Clients)
	}
	if o.Out == "" {
		return nil, fmt.Errorf("no output directory")
	}
	if o.End.IsZero() {
		o.End = DefaultEnd
	}
	r := newRand(o.Seed)
	// reach[i] = 1-based order in which client i is reached, 0 = untouched.
	reach := make([]int, o.Clients)
	for k, i := range r.Perm(o.Clients)[:o.Touched] {
		reach[i] = k + 1
	}
	attacks := []string{"comtech", "comtech-persistence", "comtech-exfil"}
	sum := &FleetSummary{}
	for i := 0; i < o.Clients; i++ {
		name := fmt.Sprintf("client-%02d", i+1)
		co := Options{Out: filepath.Join(o.Out, name), Scenario: "normal", Seed: o.Seed*1000 + uint64(i) + 1,
			Hosts: o.Hosts, Days: o.Days, End: o.End}
		lbl := FleetLabel{Client: name, Scenario: "normal"}
		if k := reach[i]; k > 0 {
			co.Scenario = attacks[(k-1)%len(attacks)]
			co.End = o.End.Add(-time.Duration(o.Touched-k) * fleetWeek)
			lbl.Scenario, lbl.Touched, lbl.Order = co.Scenario, true, k
		}
		s, err := Run(co)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		sum.Files += s.Files
		sum.Bytes += s.Bytes
		if lbl.Touched {
			first, err := firstSession(filepath.Join(co.Out, "labels.jsonl"))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if first.IsZero() {
				return nil, fmt.Errorf("%s: the attack fell outside the period (--days too small?)", name)
			}
			lbl.First = &first
		}
		sum.Clients = append(sum.Clients, lbl)
	}
	f, err := os.Create(filepath.Join(o.Out, "fleet-labels.jsonl"))
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, l := range sum.Clients {
		if err := enc.Encode(l); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return sum, f.Close()
}

// firstSession reads a client's labels.jsonl and returns the start of its
// earliest attack session (zero when it has none).
func firstSession(path string) (time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	var first time.Time
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		var l Label
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return time.Time{}, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if l.Kind == "rmm_session" && (first.IsZero() || l.Time.Before(first)) {
			first = l.Time
		}
	}
	return first.UTC(), sc.Err()
}
