package ingesttest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	if d := Diff([]byte("a\nb\n"), []byte("a\nb\n")); d != "" {
		t.Fatalf("equal inputs gave %q", d)
	}
	d := Diff([]byte("a\nX\nc\n"), []byte("a\nb\nc\n"))
	if !strings.Contains(d, "line 2:") || !strings.Contains(d, "got: X") || !strings.Contains(d, "want: b") || strings.Contains(d, "line 1:") {
		t.Fatalf("diff does not name line 2 alone:\n%s", d)
	}
	if d := Diff([]byte("a\n"), []byte("a\nb\n")); !strings.Contains(d, "got 2 lines, want 3") {
		t.Fatalf("length change not reported:\n%s", d)
	}
	var many, other bytes.Buffer
	for i := 0; i < 3*maxDiffLines; i++ {
		many.WriteString("x\n")
		other.WriteString("y\n")
	}
	if d := Diff(many.Bytes(), other.Bytes()); strings.Count(d, "line ") != maxDiffLines || !strings.Contains(d, "...") {
		t.Fatalf("diff not bounded to %d lines:\n%s", maxDiffLines, d)
	}
}

func TestGoldenUpdateWrites(t *testing.T) {
	file := filepath.Join(t.TempDir(), "expected.jsonl")
	Golden(t, file, []byte("{}\n"), true)
	b, err := os.ReadFile(file)
	if err != nil || string(b) != "{}\n" {
		t.Fatalf("update wrote %q, %v", b, err)
	}
	Golden(t, file, []byte("{}\n"), false) // now equal: must pass
}

func TestInputHeadAndReopen(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789\n"), 10000)
	in := Input(data, "x/y.log", nil)
	if in.Config == nil || in.Path != "x/y.log" || in.Size != int64(len(data)) {
		t.Fatalf("input %+v", in)
	}
	if len(in.Raw) > len(data) || !bytes.HasPrefix(data, in.Raw) {
		t.Fatalf("head is not a prefix of the data")
	}
	for i := 0; i < 2; i++ {
		rc, err := in.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("open %d read %d bytes, want %d", i, len(got), len(data))
		}
	}
}

func TestRepeat(t *testing.T) {
	got, lines := Repeat([]byte("a\nb"), 10)
	if string(got) != "a\nb\na\nb\na\nb\n" || lines != 6 {
		t.Fatalf("Repeat = %q, %d", got, lines)
	}
	if got, lines := Repeat(nil, 10); got != nil || lines != 0 {
		t.Fatalf("Repeat(nil) = %q, %d", got, lines)
	}
}

func TestCaseNames(t *testing.T) {
	dir := filepath.Join("testdata", "rmm", "teamviewer-logfile", "holmes")
	if CaseName(dir) != "teamviewer-logfile/holmes" || CaseFormat(dir) != "teamviewer-logfile" {
		t.Fatalf("CaseName %q CaseFormat %q", CaseName(dir), CaseFormat(dir))
	}
}
