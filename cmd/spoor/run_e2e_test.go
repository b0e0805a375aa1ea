package main

import (
	"github.com/spoor-dfir/spoor/internal/testutil"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func comtechCase(t *testing.T) string {
	dir := filepath.Join(testutil.RepoRoot(t), "testdata", "cases", "comtech")
	if _, err := os.Stat(filepath.Join(dir, "case.yaml")); err != nil {
		t.Fatalf("demo case missing: %v", err)
	}
	return dir
}

var generatedLine = regexp.MustCompile(`(?m)^.*Generated \d{4}-\d\d-\d\d.*$`)

// TestRunIsDeterministic runs the README's command twice into two stores:
// the timelines and reports are byte-identical (apart from the line that
// says when the report was generated).
func TestRunIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo case twice")
	}
	cs := comtechCase(t)
	var outs [2]struct{ csv, jsonl, html, md, stdout string }
	for i := range outs {
		dir := t.TempDir()
		st := filepath.Join(dir, "store")
		code, stdout, stderr := spoor(t, "run", "--store", st, cs)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, code, stderr)
		}
		outs[i].stdout = strings.ReplaceAll(stdout, st, "STORE")
		_, outs[i].csv, _ = spoor(t, "timeline", "--store", st, "--case", filepath.Join(cs, "case.yaml"))
		_, outs[i].jsonl, _ = spoor(t, "timeline", "--store", st, "--format", "timesketch")
		md := filepath.Join(dir, "r.md")
		if code, _, stderr := spoor(t, "report", "--store", st, "--case", filepath.Join(cs, "case.yaml"), "-o", md); code != 0 {
			t.Fatalf("report: %s", stderr)
		}
		b, _ := os.ReadFile(md)
		outs[i].md = generatedLine.ReplaceAllString(string(b), "")
		b, _ = os.ReadFile(filepath.Join(st, "report.html"))
		outs[i].html = generatedLine.ReplaceAllString(string(b), "")
	}
	if len(outs[0].csv) < 1000 || !strings.Contains(outs[0].html, "INC-") {
		t.Fatalf("suspiciously empty output: %d bytes of CSV", len(outs[0].csv))
	}
	for name, pair := range map[string][2]string{
		"timeline csv": {outs[0].csv, outs[1].csv}, "timesketch": {outs[0].jsonl, outs[1].jsonl},
		"report html": {outs[0].html, outs[1].html}, "report md": {outs[0].md, outs[1].md},
		"run summary": {outs[0].stdout, outs[1].stdout},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s differs between runs", name)
		}
	}
}

// TestReadmeRunCommand runs the README's first command (with its store
// moved to a temporary folder) and checks what an investigator sees: the
// demo case's three provider sessions, two of them on the weekend, as
// incidents.
func TestReadmeRunCommand(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go run \./cmd/spoor (run [^#\n]*?)\s*(#.*)?$`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no `go run ./cmd/spoor run …` command")
	}
	args := strings.Fields(string(m[1]))
	for i := range args {
		if i > 0 && args[i-1] == "--store" {
			args[i] = filepath.Join(t.TempDir(), "store")
		}
		if strings.HasPrefix(args[i], "testdata/") {
			args[i] = filepath.Join(testutil.RepoRoot(t), args[i])
		}
	}
	code, stdout, stderr := spoor(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s", args, code, stderr)
	}
	if !strings.Contains(stdout, "INCIDENTS (3)") {
		t.Fatalf("want three incidents:\n%s", stdout)
	}
	weekend := regexp.MustCompile(`(?m)^  INC-\S+\s+(HIGH|CRITICAL)\s+(Sat|Sun) `).FindAllString(stdout, -1)
	if len(weekend) != 2 {
		t.Fatalf("want two weekend incidents of high severity or above, got %d:\n%s", len(weekend), stdout)
	}
	if !strings.Contains(stdout, "report: ") {
		t.Fatalf("no report path:\n%s", stdout)
	}
}
