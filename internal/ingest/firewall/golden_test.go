package firewall

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/firewall/*/*/expected.jsonl from the parsers' output")

type goldenSummary struct {
	Format   string           `json:"format"`
	Records  int64            `json:"records"`
	Skipped  int64            `json:"skipped"`
	Reasons  map[string]int64 `json:"reasons,omitempty"`
	TimeZone string           `json:"timezone,omitempty"`
	Notes    []string         `json:"notes,omitempty"`
	Errors   []string         `json:"errors,omitempty"`
}

func render(t *testing.T, format string, evs []*event.Event, st *input.Stats) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(goldenSummary{Format: format, Records: st.Records, Skipped: st.Skipped, Reasons: st.Reasons, TimeZone: st.TimeZone, Notes: st.Notes, Errors: st.Errors}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		buf.Write(ingesttest.EventJSON(ev))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// caseInput opens a case's input: input.log (copied evidence) or the
// shared sample named in sample.txt (skipped when ../shared is absent).
func caseInput(t *testing.T, dir string) (*input.Input, bool) {
	cfg := testConfig(t, "")
	if _, err := os.Stat(filepath.Join(dir, "input.log")); err == nil {
		return inputFromFile(t, filepath.Join(dir, "input.log"), filepath.Base(dir)+"/input.log", cfg), true
	}
	ref, err := os.ReadFile(filepath.Join(dir, "sample.txt"))
	if err != nil {
		t.Fatalf("%s: neither input.log nor sample.txt", dir)
	}
	rel := strings.TrimSpace(string(ref))
	file, ok := testutil.SharedPath(t, "samples", "firewall", rel)
	if !ok {
		return nil, false
	}
	return inputFromFile(t, file, rel, cfg), true
}

// TestGolden parses every case with the parser content detection picks,
// checks that it is the expected one (the directory name), that every
// line is accounted for, and compares the output with expected.jsonl.
func TestGolden(t *testing.T) {
	for _, dir := range ingesttest.CaseDirs(t, "firewall") {
		format := ingesttest.CaseFormat(dir)
		t.Run(ingesttest.CaseName(dir), func(t *testing.T) {
			in, ok := caseInput(t, dir)
			if !ok {
				t.Skip("shared sample absent")
			}
			p, score, tie := best(in)
			if p == nil || p.Name() != format {
				t.Fatalf("detected %v (score %d), want %s", p, score, format)
			}
			if tie {
				t.Fatalf("%s tied with another parser at %d", format, score)
			}
			evs, st := ingesttest.ParseAll(t, p, in)
			checkAccounting(t, in, evs, st)
			got := render(t, format, evs, st)
			ingesttest.Golden(t, filepath.Join(dir, "expected.jsonl"), got, *update)
		})
	}
}

// checkAccounting: every line that is not blank or '#' structure either
// produced an event (its Offset) or was counted as skipped.
func checkAccounting(t *testing.T, in *input.Input, evs []*event.Event, st *input.Stats) {
	t.Helper()
	rc, err := in.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var data bytes.Buffer
	data.ReadFrom(rc)
	content := 0
	for _, l := range strings.Split(strings.TrimRight(data.String(), "\n"), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			content++
		}
	}
	lines := map[int64]bool{}
	for _, ev := range evs {
		lines[ev.Offset] = true
	}
	if int64(len(lines))+st.Skipped != int64(content) {
		t.Errorf("%d content lines, but %d lines gave events and %d were skipped", content, len(lines), st.Skipped)
	}
	if st.Records != int64(len(evs)) {
		t.Errorf("Records = %d, emitted %d", st.Records, len(evs))
	}
}

// TestEverySampleDetected walks all of ../shared/samples/firewall: each
// log must be claimed by its parser (by folder), and files of formats
// covered elsewhere (other_vendors, pf_openbsd) by none of ours above 20.
func TestEverySampleDetected(t *testing.T) {
	dir := testutil.Shared(t, "samples", "firewall")
	want := map[string]string{
		"windows_firewall": "pfirewall", "fortigate": "fortigate", "pfsense_opnsense": "filterlog",
		"cisco_asa": "cisco-asa", "iptables_netfilter": "iptables", "paloalto": "paloalto",
		"sophos": "sophos", "zeek": "zeek",
	}
	n := 0
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".txt") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		folder, _, _ := strings.Cut(rel, "/")
		in := inputFromFile(t, p, rel, testConfig(t, ""))
		n++
		if folder == "other_vendors" || folder == "pf_openbsd" {
			for _, q := range Parsers() {
				if s := q.Detect(in); s > 20 {
					t.Errorf("%s: %s claims it with %d (> 20)", rel, q.Name(), s)
				}
			}
			return nil
		}
		exp := want[folder]
		switch {
		case strings.HasSuffix(rel, "wazuh_sophos.log"):
			exp = "sophos-av" // Sophos Anti-Virus, not the firewall (see SOURCES.md)
		case strings.HasSuffix(rel, ".ndjson"):
			exp = "zeek-json"
		}
		p2, score, tie := best(in)
		if p2 == nil || p2.Name() != exp || tie {
			t.Errorf("%s: detected %v (score %d, tie %v), want %s", rel, p2, score, tie, exp)
			return nil
		}
		evs, st := ingesttest.ParseAll(t, p2, in)
		if len(evs) == 0 {
			t.Errorf("%s: no events", rel)
		}
		checkAccounting(t, in, evs, st)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no samples found")
	}
	fmt.Fprintf(os.Stderr, "checked %d sample files\n", n)
}
