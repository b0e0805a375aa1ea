package sigma

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedDir returns ../shared/<parts> relative to the repository root, or
// skips the test when the shared evidence is not there (a clean clone
// without it).
func sharedDir(t testing.TB, parts ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	p := filepath.Join(append([]string{dir, "..", "shared"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not available: %v", p, err)
	}
	return p
}

// readRuleDir reads every .yml/.yaml file under dir as a Doc, sorted.
func readRuleDir(t testing.TB, dir string) []Doc {
	t.Helper()
	var docs []Doc
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if ext := filepath.Ext(p); ext != ".yml" && ext != ".yaml" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		docs = append(docs, Doc{File: rel, Data: b})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}
