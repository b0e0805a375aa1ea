//go:build unix

package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spoor-dfir/spoor/internal/store"
)

// TestSpecialFilesListed: symbolic links and FIFOs are in the manifest as
// skipped, with the reason; names are recorded exactly (escaped where
// JSON or a terminal would change them), never cleaned.
func TestSpecialFilesListed(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev")
	write(t, filepath.Join(ev, "real.log"), "LINES\nr\n")
	if err := os.Symlink(filepath.Join(ev, "real.log"), filepath.Join(ev, "link.log")); err != nil {
		t.Skipf("no symlinks: %v", err)
	}
	if err := syscall.Mkfifo(filepath.Join(ev, "pipe.log"), 0o644); err != nil {
		t.Skipf("no FIFOs: %v", err)
	}
	bad := "caf\xe9\x1b.log"
	write(t, filepath.Join(ev, bad), "LINES\nb\n")
	z := makeZip(t, map[string][]byte{"a/../dup.log": []byte("LINES\nx\n"), "dup.log": []byte("LINES\ny\n")})
	write(t, filepath.Join(ev, "names.zip"), string(z))
	m := runLines(t, ev)
	for p, want := range map[string]string{"ev/link.log": "symbolic link", "ev/pipe.log": "named pipe"} {
		f, ok := m[p]
		if !ok || f.Status != store.StatusSkipped || !strings.Contains(strings.Join(f.Notes, " "), want) {
			t.Errorf("%s: %+v, want skipped as %s", p, f, want)
		}
	}
	for _, p := range []string{`ev/caf\xe9\x1b.log`, "ev/names.zip/a/../dup.log", "ev/names.zip/dup.log"} {
		if f := m[p]; f.Status != store.StatusIngested {
			t.Errorf("%s: %+v (have %v)", p, f, keys(m))
		}
	}
}
