package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/fleet"
	"github.com/spoor-dfir/spoor/internal/simulate"
)

// TestFleetNamesTouchedClientsInOrder is the acceptance test of spoor
// fleet: a generated MSP with 20 clients, five of them reached by the same
// attacker a week apart. Every client is ingested and hunted with its own
// case file, and the fleet view must name exactly the clients the answer
// key (fleet-labels.jsonl, which spoor never reads) says were reached, in
// the order they were reached; and a second run gives the same bytes.
func TestFleetNamesTouchedClientsInOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and hunts 20 clients")
	}
	dir := t.TempDir()
	code, _, stderr := spoor(t, "simulate", "--out", dir, "--clients", "20", "--touched", "5", "--seed", "7", "--hosts", "6", "--days", "10")
	if code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, stderr)
	}
	var want []simulate.FleetLabel
	f, err := os.Open(filepath.Join(dir, "fleet-labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l simulate.FleetLabel
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if l.Touched {
			want = append(want, l)
		}
	}
	f.Close()
	sort.Slice(want, func(i, j int) bool { return want[i].Order < want[j].Order })
	if len(want) != 5 {
		t.Fatalf("answer key names %d touched clients, want 5", len(want))
	}

	code, out, stderr := spoor(t, "fleet", "--run", "--json", "-", dir)
	if code != 0 {
		t.Fatalf("fleet: exit %d: %s", code, stderr)
	}
	var v fleet.View
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("fleet JSON: %v", err)
	}
	if len(v.Clients) != 20 {
		t.Fatalf("%d clients in the view, want 20", len(v.Clients))
	}
	var got []string
	for _, tc := range v.Touched {
		got = append(got, tc.Client)
	}
	var wantNames []string
	for _, l := range want {
		wantNames = append(wantNames, l.Client)
	}
	if len(got) != len(wantNames) {
		t.Fatalf("fleet names %v as touched, the answer key %v", got, wantNames)
	}
	for i := range got {
		if got[i] != wantNames[i] {
			t.Fatalf("fleet names %v as touched (in this order), the answer key %v", got, wantNames)
		}
		// The first flagged session is the attacker's first session there.
		if d := v.Touched[i].First.Sub(*want[i].First); d < -time.Minute || d > time.Minute {
			t.Errorf("%s: first flagged session %s, the attacker's first session %s", got[i], v.Touched[i].First, want[i].First)
		}
	}
	// The attacker's operator and address recur at every touched client.
	for _, kind := range []string{fleet.KindOperator, fleet.KindSourceIP} {
		n := 0
		for _, in := range v.Indicators {
			if in.Kind == kind && len(in.Clients) == len(wantNames) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no %s indicator recurs at all %d touched clients", kind, len(wantNames))
		}
	}
	for _, c := range v.Clients {
		if c.Error != "" || !c.Hunted {
			t.Errorf("%s: error %q, hunted %v", c.Name, c.Error, c.Hunted)
		}
		if c.Zone != "Europe/Berlin" {
			t.Errorf("%s: zone %s; each client's own case file should give Europe/Berlin", c.Name, c.Zone)
		}
	}

	// Without --run the stores are read as they are: same view, byte for byte.
	code, again, stderr := spoor(t, "fleet", "--json", "-", dir)
	if code != 0 {
		t.Fatalf("fleet (again): exit %d: %s", code, stderr)
	}
	if again != out {
		t.Fatal("the fleet JSON differs between two runs over the same stores")
	}
	code, _, stderr = spoor(t, "fleet", "-o", filepath.Join(t.TempDir(), "fleet.html"), dir)
	if code != 0 {
		t.Fatalf("fleet -o: exit %d: %s", code, stderr)
	}
	page, err := os.ReadFile(filepath.Join(dir, "fleet.html")) // the default page of a fleet folder
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range wantNames {
		if !bytes.Contains(page, []byte(`<td><a href="#c-`+name+`">`+name+`</a></td><td>`)) {
			t.Errorf("fleet.html does not list %s", name)
		}
	}
}
