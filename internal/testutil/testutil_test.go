package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRepoRootHoldsGoMod(t *testing.T) {
	root := RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("RepoRoot %s: %v", root, err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "testutil", "testutil.go")); err != nil {
		t.Fatalf("RepoRoot %s is not this module's root: %v", root, err)
	}
}

func TestSharedPathAbsent(t *testing.T) {
	p, ok := SharedPath(t, "no/such/dir-for-testutil")
	if ok {
		t.Fatalf("%s reported present", p)
	}
	want := filepath.Join(RepoRoot(t), "..", "shared", "no", "such", "dir-for-testutil")
	if p != want {
		t.Fatalf("path %s, want %s", p, want)
	}
}

func TestSharedSkipsWhenAbsent(t *testing.T) {
	var skipped bool
	t.Run("absent", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Shared(t, "no-such-dir-for-testutil")
		t.Error("Shared returned for an absent path")
	})
	if !skipped {
		t.Fatal("Shared did not skip")
	}
}
