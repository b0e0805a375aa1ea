package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/testutil"
)

const updRule = `title: Updated interpreter rule
id: 1228c958-e64e-4e71-92ad-7d429f4138ba
status: test
logsource:
  category: process_creation
  product: windows
detection:
  sel:
    Image|endswith: '\updated.exe'
  condition: sel
level: medium
author: A. Tester
`

// TestRulesUpdateFromArchive: the Windows rules of a release archive land
// in the user rules folder, other rules and unsafe paths do not, and the
// next rules list runs the updated rule in place of the shipped one.
func TestRulesUpdateFromArchive(t *testing.T) {
	tmp := t.TempDir()
	arch := filepath.Join(tmp, "sigma_core.zip")
	f, err := os.Create(arch)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, body := range map[string]string{
		"sigma-r2026/rules/windows/process_creation/proc_updated.yml": updRule,
		"sigma-r2026/rules/linux/lnx_rule.yml":                        strings.ReplaceAll(updRule, "1228c958", "2228c958"),
		"sigma-r2026/rules/windows/../../../../evil.yml":              updRule,
		"sigma-r2026/rules/windows/README.md":                         "readme",
	} {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	f.Close()
	dir := filepath.Join(tmp, "user")
	code, _, stderr := runMain("rules", "update", "--to", dir, arch)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if strings.Join(files, " ") != "sigma/SOURCE sigma/windows/process_creation/proc_updated.yml" {
		t.Errorf("user folder holds %v", files)
	}
	t.Setenv("SPOOR_RULES_DIR", dir)
	code, stdout, stderr := runMain("rules", "list", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("rules list: exit %d: %s", code, stderr)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r struct{ ID, Title, Source, License, Author string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.ID == "1228c958-e64e-4e71-92ad-7d429f4138ba" {
			n++
			if r.Title != "Updated interpreter rule" || r.License != "DRL-1.1" || r.Author != "A. Tester" {
				t.Errorf("updated rule listed as %+v", r)
			}
		}
	}
	if n != 1 {
		t.Errorf("rule listed %d times, want once (the update replaces the shipped rule)", n)
	}
	// A second update replaces the first one's files.
	if code, _, stderr := runMain("rules", "update", "--to", dir, filepath.Join(tmp, "missing.zip")); code == 0 {
		t.Errorf("missing archive: exit 0 (%s)", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "sigma", "windows", "process_creation", "proc_updated.yml")); err != nil {
		t.Errorf("a failed update lost the earlier one: %v", err)
	}
}

// TestRulesUpdateFromCheckoutAndTarball: a SigmaHQ checkout (the shared
// snapshot) and a .tar.gz release give the same Windows rules.
func TestRulesUpdateFromCheckoutAndTarball(t *testing.T) {
	checkout := testutil.Shared(t, "sigma")
	dir := t.TempDir()
	code, _, stderr := runMain("rules", "update", "--to", dir, checkout)
	if code != 0 {
		t.Fatalf("checkout: exit %d: %s", code, stderr)
	}
	n := 0
	filepath.WalkDir(filepath.Join(dir, "sigma", "windows"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	if n < 2000 {
		t.Errorf("checkout: %d rule files copied", n)
	}
	tgz := filepath.Join(t.TempDir(), "sigma.tar.gz")
	f, err := os.Create(tgz)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	body := []byte(updRule)
	tw.WriteHeader(&tar.Header{Name: "sigma/rules/windows/x/proc_updated.yml", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write(body)
	tw.Close()
	gz.Close()
	f.Close()
	if code, _, stderr := runMain("rules", "update", "--to", dir, tgz); code != 0 {
		t.Fatalf("tar.gz: exit %d: %s", code, stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "sigma", "windows", "x", "proc_updated.yml"))
	if err != nil || string(got) != updRule {
		t.Errorf("tar.gz rule: %v %q", err, got)
	}
	if _, err := os.Stat(filepath.Join(dir, "sigma", "windows", "builtin")); err == nil {
		t.Error("the second update did not replace the first")
	}
}
