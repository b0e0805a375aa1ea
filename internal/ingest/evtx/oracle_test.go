package evtx

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

var (
	reRecordID = regexp.MustCompile(`<EventRecordID>(\d+)</EventRecordID>`)
	reEventID  = regexp.MustCompile(`<EventID[^>]*>(\d+)</EventID>`)
)

// TestEvtxexportOracle is issue 2's acceptance check: for every sample
// file, every (record id, event id) pair that libevtx's evtxexport -f xml
// exports is among ours, and we have at least as many records.
func TestEvtxexportOracle(t *testing.T) {
	bin, err := exec.LookPath("evtxexport")
	if err != nil {
		t.Skip("evtxexport (Debian libevtx-utils) not installed")
	}
	for _, fn := range corpusFiles(t) {
		name := filepath.Base(filepath.Dir(fn)) + "/" + filepath.Base(fn)
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(bin, "-f", "xml", fn).Output()
			if err != nil && len(out) == 0 {
				t.Fatalf("evtxexport: %v", err)
			}
			want := map[string]bool{}
			for _, ev := range bytes.Split(out, []byte("<Event ")) {
				rid := reRecordID.FindSubmatch(ev)
				eid := reEventID.FindSubmatch(ev)
				if rid == nil || eid == nil {
					continue
				}
				want[string(rid[1])+"/"+string(eid[1])] = true
			}
			data, err := os.ReadFile(fn)
			if err != nil {
				t.Fatal(err)
			}
			evs, st := parseAll(t, New(), name, data, 2)
			got := map[string]bool{}
			for _, ev := range evs {
				got[fmt.Sprintf("%d/%d", ev.RecordID, ev.EventID)] = true
			}
			missing := 0
			for k := range want {
				if !got[k] {
					missing++
					if missing <= 5 {
						t.Errorf("record/event %s exported by evtxexport is missing", k)
					}
				}
			}
			if len(evs) < len(want) {
				t.Errorf("%d records, evtxexport has %d", len(evs), len(want))
			}
			t.Logf("%d records (evtxexport %d), skipped %d %v", len(evs), len(want), st.Skipped, st.Reasons)
		})
	}
}
