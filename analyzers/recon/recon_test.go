package recon

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/pwsh"
)

// TestClassify reads testdata/classify.tsv: expected kinds, a tab, the
// command.
func TestClassify(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "classify.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		want, cmd, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("classify.tsv:%d: no tab", i+1)
		}
		var kinds []string
		if want != "-" {
			kinds = strings.Split(want, ",")
		}
		if h := Classify(cmd); !slices.Equal(h.Kinds, kinds) {
			t.Errorf("classify.tsv:%d: Classify(%q) = %v, want %v", i+1, cmd, h.Kinds, kinds)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d cases read", n)
	}
	// Encoded: the kind is found only after decoding, which is itself a sign.
	if h := Classify("powershell -enc " + pwsh.Encode("Get-ADUser -Filter *")); !slices.Equal(h.Kinds, []string{"accounts", "obfuscation"}) {
		t.Errorf("encoded: %v", h.Kinds)
	}
}

// FuzzClassify: hostile text never makes the classification panic.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"powershell -enc " + pwsh.Encode("net user"), "[char]65+[char]66", "whoami /all"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		Classify(s)
	})
}
