// Package testutil finds the repository root and the shared evidence
// beside it for tests. It is a normal package so that every test package
// can import it, but only tests may: production code has no repository.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the module root: the nearest directory at or above the
// working directory (a test's package directory) that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// SharedPath returns ../shared/<elem...> beside the repository root and
// whether it exists. Elements may use forward slashes. Tests that need to
// do something other than skip when the evidence is absent use this.
func SharedPath(t testing.TB, elem ...string) (string, bool) {
	t.Helper()
	parts := []string{RepoRoot(t), "..", "shared"}
	for _, e := range elem {
		parts = append(parts, filepath.FromSlash(e))
	}
	p := filepath.Join(parts...)
	_, err := os.Stat(p)
	return p, err == nil
}

// Shared returns ../shared/<elem...> beside the repository root, or skips
// the test: the shared evidence is not part of the repository, so a clean
// clone without it must still pass.
func Shared(t testing.TB, elem ...string) string {
	t.Helper()
	p, ok := SharedPath(t, elem...)
	if !ok {
		t.Skipf("%s not present (shared evidence lives beside the repository)", p)
	}
	return p
}
