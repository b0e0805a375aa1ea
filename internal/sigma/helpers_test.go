package sigma

import (
	"os"
	"path/filepath"
	"testing"
)

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
