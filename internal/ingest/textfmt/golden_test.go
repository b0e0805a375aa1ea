package textfmt

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/textio"
)

var update = flag.Bool("update", false, "rewrite golden expected.jsonl files")

// repoRoot walks up from the package directory to go.mod.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("go.mod not found")
		}
		dir = up
	}
}

// fileInput builds an Input for a file the way the driver does.
func fileInput(t testing.TB, path, rel string, cfg *caseconf.Config) *input.Input {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytesInput(data, rel, cfg)
}

func bytesInput(data []byte, rel string, cfg *caseconf.Config) *input.Input {
	raw := data
	if len(raw) > input.HeadSize {
		raw = raw[:input.HeadSize]
	}
	if cfg == nil {
		cfg = caseconf.Default()
	}
	return &input.Input{
		Path: rel, Size: int64(len(data)), Raw: raw, Text: textio.Decode(raw),
		Open:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		Config: cfg, Workers: 1,
	}
}

// goldenEvent is the typed view of an event compared by golden files.
type goldenEvent struct {
	Time        string          `json:"time"`
	Source      string          `json:"source"`
	Format      string          `json:"format"`
	Host        string          `json:"host,omitempty"`
	Channel     string          `json:"channel,omitempty"`
	Provider    string          `json:"provider,omitempty"`
	EventID     int32           `json:"event_id,omitempty"`
	User        string          `json:"user,omitempty"`
	SrcIP       string          `json:"src_ip,omitempty"`
	SrcPort     int32           `json:"src_port,omitempty"`
	DstIP       string          `json:"dst_ip,omitempty"`
	DstPort     int32           `json:"dst_port,omitempty"`
	Protocol    string          `json:"protocol,omitempty"`
	Action      string          `json:"action,omitempty"`
	BytesOut    int64           `json:"bytes_out,omitempty"`
	BytesIn     int64           `json:"bytes_in,omitempty"`
	Process     string          `json:"process,omitempty"`
	CommandLine string          `json:"command_line,omitempty"`
	SessionID   string          `json:"session_id,omitempty"`
	Operator    string          `json:"operator,omitempty"`
	Message     string          `json:"message,omitempty"`
	Evidence    string          `json:"evidence"`
	Offset      int64           `json:"offset"`
	Fields      json.RawMessage `json:"fields,omitempty"`
}

func golden(ev *event.Event) goldenEvent {
	g := goldenEvent{
		Time: ev.Time.Format(time.RFC3339Nano), Source: ev.Source, Format: ev.Format, Host: ev.Host,
		Channel: ev.Channel, Provider: ev.Provider, EventID: ev.EventID, User: ev.User,
		SrcIP: ev.SrcIP, SrcPort: ev.SrcPort, DstIP: ev.DstIP, DstPort: ev.DstPort, Protocol: ev.Protocol,
		Action: ev.Action, BytesOut: ev.BytesOut, BytesIn: ev.BytesIn, Process: ev.Process,
		CommandLine: ev.CommandLine, SessionID: ev.SessionID, Operator: ev.Operator,
		Message: ev.Message, Evidence: ev.Evidence, Offset: ev.Offset,
	}
	if ev.Fields != nil {
		b, err := event.MarshalFields(ev.Fields)
		if err == nil {
			g.Fields = b
		}
	}
	return g
}

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

// detect picks the best parser of ps for in, failing on ties.
func detect(t testing.TB, ps []input.Parser, in *input.Input) input.Parser {
	best, score, tie := input.Parser(nil), 0, ""
	for _, p := range ps {
		s := p.Detect(in)
		if s > score {
			best, score, tie = p, s, ""
		} else if s == score && s > 0 {
			tie = p.Name()
		}
	}
	if tie != "" {
		t.Fatalf("%s: ambiguous detection: %s and %s both score %d", in.Path, best.Name(), tie, score)
	}
	return best
}

// runGolden parses in with the detected parser and renders the golden
// lines: the summary, then the first and the last event.
func runGolden(t *testing.T, ps []input.Parser, in *input.Input) []byte {
	p := detect(t, ps, in)
	if p == nil {
		t.Fatalf("%s: no parser detected", in.Path)
	}
	var first, last *goldenEvent
	st := &input.Stats{}
	actions := map[string]int{}
	err := p.Parse(context.Background(), in, func(ev *event.Event) error {
		g := golden(ev)
		if first == nil {
			first = &g
		}
		last = &g
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
	if first != nil {
		must(first)
		must(last)
	}
	return buf.Bytes()
}

// caseInput finds a golden case's input: a file named input* in the case
// directory, or a file "source" naming a sample under ../shared/samples.
func caseInput(t *testing.T, root, dir string) (path, rel string, ok bool) {
	if b, err := os.ReadFile(filepath.Join(dir, "source")); err == nil {
		rel = strings.TrimSpace(string(b))
		path = filepath.Join(root, "..", "shared", "samples", filepath.FromSlash(rel))
		if _, err := os.Stat(path); err != nil {
			return "", "", false
		}
		return path, "samples/" + rel, true
	}
	m, _ := filepath.Glob(filepath.Join(dir, "input*"))
	if len(m) != 1 {
		t.Fatalf("%s: want one input* file or a source file, found %v", dir, m)
	}
	r, _ := filepath.Rel(root, m[0])
	return m[0], filepath.ToSlash(r), true
}

// runCases runs every testdata/<name>/<format>/<case> directory.
func runCases(t *testing.T, ps []input.Parser, sub string, cfg func(dir string) *caseconf.Config) {
	root := repoRoot(t)
	dirs, _ := filepath.Glob(filepath.Join(root, "testdata", sub, "*", "*"))
	sort.Strings(dirs)
	if len(dirs) == 0 {
		t.Fatalf("no golden cases under testdata/%s", sub)
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		name, _ := filepath.Rel(filepath.Join(root, "testdata", sub), dir)
		t.Run(filepath.ToSlash(name), func(t *testing.T) {
			path, rel, ok := caseInput(t, root, dir)
			if !ok {
				t.Skip("sample not present (../shared/samples)")
			}
			in := fileInput(t, path, rel, cfg(dir))
			got := runGolden(t, ps, in)
			want := filepath.Join(dir, "expected.jsonl")
			if *update {
				if err := os.WriteFile(want, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, exp) {
				t.Errorf("%s: output differs from %s\n got: %s\nwant: %s", rel, want, got, exp)
			}
			// The directory names the format it must be detected as.
			wantFmt := filepath.Base(filepath.Dir(dir))
			var s summary
			if err := json.Unmarshal(got[:bytes.IndexByte(got, '\n')], &s); err != nil {
				t.Fatal(err)
			}
			if s.Detected != wantFmt {
				t.Errorf("%s detected as %q, want %q", rel, s.Detected, wantFmt)
			}
		})
	}
}

// caseConfig reads an optional case.yaml next to a golden case.
func caseConfig(t *testing.T) func(dir string) *caseconf.Config {
	return func(dir string) *caseconf.Config {
		p := filepath.Join(dir, "case.yaml")
		if _, err := os.Stat(p); err != nil {
			return caseconf.Default()
		}
		c, err := caseconf.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func builtinParsers(t testing.TB) []input.Parser {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestGolden(t *testing.T) {
	runCases(t, builtinParsers(t), "textfmt", caseConfig(t))
}
