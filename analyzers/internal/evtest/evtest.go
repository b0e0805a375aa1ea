// Package evtest builds events for the analyzers' tests and runs an
// analyzer over them, so each test states its evidence in a few lines.
package evtest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Analyzer is the analyzers.Analyzer interface (repeated here because the
// analyzers package imports the analyzer packages under test).
type Analyzer interface {
	Name() string
	Observe(ev *event.Event)
	Finish() []event.Finding
}

// Run feeds events through one reused Event, as the hunt does, so an
// analyzer that keeps a pointer instead of copying fails its tests.
func Run(a Analyzer, evs []event.Event) []event.Finding {
	var buf event.Event
	for i := range evs {
		buf = evs[i]
		if evs[i].Fields != nil {
			// Fresh dict per call, then poisoned after: retained values
			// must have been copied.
			d := ordereddict.NewDict()
			for _, it := range evs[i].Fields.Items() {
				d.Set(it.Key, it.Value)
			}
			buf.Fields = d
		}
		a.Observe(&buf)
		buf = event.Event{Host: "POISON", CommandLine: "POISON", Fields: ordereddict.NewDict()}
	}
	return a.Finish()
}

// Fields builds an ordered dict from key/value pairs.
func Fields(kv ...string) *ordereddict.Dict {
	d := ordereddict.NewDict()
	for i := 0; i+1 < len(kv); i += 2 {
		d.Set(kv[i], kv[i+1])
	}
	return d
}

// Sec builds a Security-channel event.
func Sec(t time.Time, host string, id int32, kv ...string) event.Event {
	return event.Event{Time: t.UTC(), Source: event.SourceEVTX, Format: "evtx", Host: host, Channel: "Security",
		Provider: "Microsoft-Windows-Security-Auditing", EventID: id, Evidence: host + "/Security.evtx", Offset: t.Unix(), Fields: Fields(kv...)}
}

// Evtx builds an event of any channel.
func Evtx(t time.Time, host, channel string, id int32, kv ...string) event.Event {
	return event.Event{Time: t.UTC(), Source: event.SourceEVTX, Format: "evtx", Host: host, Channel: channel, EventID: id,
		Evidence: host + "/" + channel + ".evtx", Offset: t.Unix(), Fields: Fields(kv...)}
}

// RMM builds an RMM event.
func RMM(t time.Time, host, action, session, operator, src, cmd string) event.Event {
	return event.Event{Time: t.UTC(), Source: event.SourceRMM, Format: "screenconnect-audit", Host: host, Action: action, SessionID: session,
		Operator: operator, SrcIP: src, CommandLine: cmd, Evidence: "rmm/audit.jsonl", Offset: t.Unix()}
}

// Flow builds a firewall connection.
func Flow(t time.Time, src, dst string, port int32, out int64) event.Event {
	return event.Event{Time: t.UTC(), Source: event.SourceFirewall, Format: "fortigate", Host: "FW01", SrcIP: src, DstIP: dst, DstPort: event.Some(port),
		Protocol: "tcp", Action: "accept", BytesOut: event.Some(out), Evidence: "fw/fortigate.log", Offset: t.Unix()}
}

// Berlin is the zone the tests' case configs use.
var Berlin = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return l
}()

// At is a wall-clock time in Berlin.
func At(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, Berlin)
}

// Samples returns the shared samples directory (../shared/samples next to
// the repository) or "" when it is absent.
func Samples() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "samples")
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Update rewrites golden files instead of comparing with them.
var Update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// Golden compares findings, as indented JSON, with testdata/name; with
// -update it writes them there instead. Review the diff before committing
// an update: the golden file is the reviewed expectation.
func Golden(t testing.TB, name string, fs []event.Finding) {
	t.Helper()
	got, err := json.MarshalIndent(fs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *Update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s: line %d differs:\n got %s\nwant %s\n(run with -update if the change is intended)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d (run with -update if the change is intended)", path, len(gl), len(wl))
	}
}

// Case parses a test case file (YAML text) or fails the test.
func Case(t testing.TB, yaml string) *caseconf.Config {
	t.Helper()
	c, err := caseconf.Parse("case.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
