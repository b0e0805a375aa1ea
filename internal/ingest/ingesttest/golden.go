package ingesttest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// EventJSON renders an event as golden files hold it: event.ColumnsJSON,
// every column of the table, so a new column shows in every golden file.
func EventJSON(ev *event.Event) []byte { return event.ColumnsJSON(event.Columns, ev) }

// summary is the first line of expected.jsonl: what was detected and
// counted for the whole file.
type summary struct {
	Summary  bool             `json:"summary"`
	Detected string           `json:"detected"`
	Records  int64            `json:"records"`
	Skipped  int64            `json:"skipped"`
	Reasons  map[string]int64 `json:"reasons,omitempty"`
	Actions  map[string]int   `json:"actions,omitempty"`
	TimeZone string           `json:"time_zone,omitempty"`
}

// Render parses in with the parser of ps that detection picks and renders
// the golden lines: the summary (detected format, counters, actions), then
// every event (EventJSON). It returns them with the parser's name.
func Render(t testing.TB, ps []input.Parser, in *input.Input) ([]byte, string) {
	t.Helper()
	p := Detect(t, ps, in)
	if p == nil {
		t.Fatalf("%s: no parser detected", in.Path)
	}
	var events bytes.Buffer
	st := &input.Stats{}
	actions := map[string]int{}
	err := p.Parse(context.Background(), in, func(ev *event.Event) error {
		events.Write(EventJSON(ev))
		events.WriteByte('\n')
		if ev.Action != "" {
			actions[ev.Action]++
		}
		return nil
	}, st)
	if err != nil {
		t.Fatalf("%s: %v", in.Path, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	must := func(v any) {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	must(summary{Summary: true, Detected: p.Name(), Records: st.Records, Skipped: st.Skipped, Reasons: st.Reasons, Actions: actions, TimeZone: st.TimeZone})
	buf.Write(events.Bytes())
	return buf.Bytes(), p.Name()
}

// CaseInput finds a golden case's input: the one file named input* in the
// case directory (evidence path relative to the repository root), or a
// file "source" naming a sample under ../shared/samples (evidence path
// "samples/<name>"; the test skips when ../shared is absent).
func CaseInput(t testing.TB, dir string) (path, rel string) {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(dir, "source")); err == nil {
		rel = strings.TrimSpace(string(b))
		path, ok := testutil.SharedPath(t, "samples", rel)
		if !ok {
			t.Skip("sample not present (../shared/samples)")
		}
		return path, "samples/" + rel
	}
	m, _ := filepath.Glob(filepath.Join(dir, "input*"))
	if len(m) != 1 {
		t.Fatalf("%s: want one input* file or a source file, found %v", dir, m)
	}
	r, _ := filepath.Rel(testutil.RepoRoot(t), m[0])
	return m[0], filepath.ToSlash(r)
}

// RunCases runs every golden case testdata/<sub>/<format>/<case> as a
// subtest: the case's input (see CaseInput) with its case.yaml (see
// CaseConfig) must be detected as <format> by exactly one parser of ps,
// and its rendering (see Render) must equal <case>/expected.jsonl, which
// update rewrites instead.
func RunCases(t *testing.T, ps []input.Parser, sub string, update bool) {
	for _, dir := range CaseDirs(t, sub) {
		t.Run(CaseName(dir), func(t *testing.T) {
			path, rel := CaseInput(t, dir)
			in := FileInput(t, path, rel, CaseConfig(t, dir))
			got, detected := Render(t, ps, in)
			Golden(t, filepath.Join(dir, "expected.jsonl"), got, update)
			if want := CaseFormat(dir); detected != want {
				t.Errorf("%s detected as %q, want %q", rel, detected, want)
			}
		})
	}
}
