package sigma

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// TestSigmaRegression is acceptance 2: for each SigmaHQ regression test
// folder with a rule.yml, the rule loads and matches an event of the
// folder's EVTX file (filter and matcher, as the hunt runs them).
func TestSigmaRegression(t *testing.T) {
	root := testutil.Shared(t, "sigma", "regression_data")
	var dirs []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "rule.yml" {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if len(dirs) == 0 {
		t.Skip("no regression tests with rule.yml")
	}
	for _, dir := range dirs {
		rel, _ := filepath.Rel(root, dir)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, "rule.yml"))
			if err != nil {
				t.Fatal(err)
			}
			rules, errs := Compile([]Doc{{File: filepath.Join(rel, "rule.yml"), Data: data}})
			for _, e := range errs {
				t.Errorf("load: %v", e)
			}
			if len(rules) != 1 {
				t.Fatalf("got %d rules", len(rules))
			}
			r := rules[0]
			evtxFiles, _ := filepath.Glob(filepath.Join(dir, "*.evtx"))
			if len(evtxFiles) == 0 {
				t.Fatal("no EVTX file")
			}
			// The JSON holds the events of the test (matching ones and
			// their context); a match must be one of them.
			want := jsonRecordIDs(t, dir)
			before := len(want)
			matched := 0
			var seen []*event.Event
			for _, f := range evtxFiles {
				for _, ev := range readEVTX(t, f) {
					seen = append(seen, ev)
					if rule.Evaluate(r, ev) {
						matched++
						delete(want, ev.RecordID)
						if s := r.Summary(ev); !strings.HasPrefix(s, r.Title) {
							t.Errorf("summary %q does not start with the title", s)
						}
					}
				}
			}
			if matched == 0 {
				for _, ev := range seen {
					b, _ := event.MarshalFields(ev.Fields)
					t.Logf("event %s/%d %s: %s", ev.Channel, ev.EventID, ev.Provider, b)
				}
				t.Errorf("rule %s (%s) matched none of %d events", r.ID, r.Title, len(seen))
			}
			if len(want) > 0 && len(want) == before {
				t.Errorf("rule %s matched none of the records of the test's JSON", r.ID)
			}
		})
	}
}

// jsonRecordIDs returns the EventRecordIDs of the events the regression
// folder's JSON files hold.
func jsonRecordIDs(t *testing.T, dir string) map[int64]bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	ids := map[int64]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Some files hold several JSON objects one after another.
		dec := json.NewDecoder(bytes.NewReader(b))
		for dec.More() {
			var doc struct {
				Event struct {
					System struct {
						EventRecordID int64
					}
				}
			}
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if doc.Event.System.EventRecordID != 0 {
				ids[doc.Event.System.EventRecordID] = true
			}
		}
	}
	return ids
}
