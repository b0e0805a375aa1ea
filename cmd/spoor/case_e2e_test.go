package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/hosts"
	"github.com/spoor-dfir/spoor/internal/store"
)

// demoStore runs the demo case into a fresh store and returns its path.
func demoStore(t *testing.T) string {
	t.Helper()
	st := filepath.Join(t.TempDir(), "store")
	if code, _, stderr := spoor(t, "run", "--store", st, comtechCase(t)); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	return st
}

// TestStoreRemembersCase: after `spoor run` with the case, hunt and
// report without --case work under the same case (same incidents, case
// named, findings stamped with its hash); --case on a later command
// replaces it and says so.
func TestStoreRemembersCase(t *testing.T) {
	dir := demoStore(t)
	caseFile := filepath.Join(comtechCase(t), "case.yaml")
	data, err := os.ReadFile(caseFile)
	if err != nil {
		t.Fatal(err)
	}
	sha := store.CaseSHA256(data)
	st, err := store.OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := st.Incidents()

	code, _, stderr := spoor(t, "hunt", "--store", dir)
	if code != 0 {
		t.Fatalf("hunt: %d %s", code, stderr)
	}
	if !strings.Contains(stderr, "Breisgau MedTec") || !strings.Contains(stderr, sha[:12]) {
		t.Errorf("hunt does not name the stored case:\n%s", stderr)
	}
	after, _ := st.Incidents()
	if len(after) != 3 || len(before) != 3 {
		t.Fatalf("want 3 incidents before and after the hunt without --case, got %d and %d", len(before), len(after))
	}
	for i := range after {
		if after[i].ID != before[i].ID {
			t.Errorf("incident %d: %s after, %s before", i, after[i].ID, before[i].ID)
		}
	}
	if got, ok, err := st.FindingsCase(); err != nil || !ok || got != sha {
		t.Errorf("findings judged under %q (ok %v, %v), want the case's %s", got, ok, err, sha)
	}
	out := filepath.Join(t.TempDir(), "r.md")
	if code, _, stderr := spoor(t, "report", "--store", dir, "-o", out); code != 0 {
		t.Fatalf("report: %s", stderr)
	}
	md, _ := os.ReadFile(out)
	if !strings.Contains(string(md), "Breisgau MedTec GmbH") || !strings.Contains(string(md), sha[:12]) || strings.Contains(string(md), "unnamed case") {
		t.Errorf("report does not name the case and its hash:\n%.600s", md)
	}

	// A different case replaces the stored one, loudly.
	other := filepath.Join(t.TempDir(), "case.yaml")
	os.WriteFile(other, []byte(strings.Replace(string(data), "Europe/Berlin", "UTC", 1)), 0o644)
	code, _, stderr = spoor(t, "hunt", "--store", dir, "--case", other)
	if code != 0 {
		t.Fatalf("hunt --case: %d %s", code, stderr)
	}
	if !strings.Contains(stderr, "replaces the stored case") {
		t.Errorf("replacing the case is not announced:\n%s", stderr)
	}
	if st, err = store.OpenExisting(dir); err != nil {
		t.Fatal(err)
	}
	if _, entry, ok, err := st.Case(); err != nil || !ok || entry.SHA256 == sha || entry.Source != other {
		t.Errorf("stored case after --case: %+v ok=%v err=%v", entry, ok, err)
	}
}

// TestOneHostOneName: the short name and the FQDN select the same
// timeline rows, and every event whose evidence path names a host has one.
func TestOneHostOneName(t *testing.T) {
	dir := demoStore(t)
	_, short, _ := spoor(t, "timeline", "--store", dir, "--host", "DC01")
	_, fqdn, _ := spoor(t, "timeline", "--store", dir, "--host", "DC01.corp.breisgau-medtec.de")
	_, lower, _ := spoor(t, "timeline", "--store", dir, "--host", "dc01")
	if n := strings.Count(short, "\n"); n < 100 {
		t.Fatalf("only %d timeline rows for DC01", n)
	}
	if short != fqdn || short != lower {
		t.Errorf("DC01: %d rows, FQDN: %d, dc01: %d", strings.Count(short, "\n"), strings.Count(fqdn, "\n"), strings.Count(lower, "\n"))
	}
	st, err := store.OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	recorded := false
	for _, f := range st.Manifest().Files {
		recorded = recorded || f.HostNames["DC01.corp.breisgau-medtec.de"] == "DC01"
	}
	if !recorded {
		t.Error("the manifest does not record that DC01.corp.breisgau-medtec.de became DC01")
	}
	code, out, stderr := spoor(t, "query", "--store", dir, "--format", "jsonl", "true")
	if code != 0 {
		t.Fatalf("query: %s", stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	named, mapped := 0, 0
	for sc.Scan() {
		var ev struct{ Host, Evidence, SrcIP, DstIP string }
		var raw map[string]any
		json.Unmarshal(sc.Bytes(), &raw)
		ev.Host, _ = raw["host"].(string)
		ev.Evidence, _ = raw["evidence"].(string)
		ev.SrcIP, _ = raw["src_ip"].(string)
		ev.DstIP, _ = raw["dst_ip"].(string)
		if hosts.FromPath(ev.Evidence) != "" {
			named++
			if ev.Host == "" {
				t.Errorf("event from %s has no host", ev.Evidence)
			}
		}
		if strings.HasPrefix(ev.SrcIP, "::ffff:") || strings.HasPrefix(ev.DstIP, "::ffff:") {
			mapped++
		}
	}
	if named < 1000 {
		t.Errorf("only %d events from host folders", named)
	}
	if mapped > 0 {
		t.Errorf("%d events keep IPv4-mapped IPv6 addresses", mapped)
	}
}
