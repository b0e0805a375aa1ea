package simulate

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestEvtxexportReadsEveryRecord: libevtx dropped a chunk's last record
// when the writer filled the chunk to exactly 65,536 bytes (the comtech
// case with seed 7 had such a chunk in FS01's Security.evtx: evtxexport
// 438 records, python-evtx 439). Every record the chunk headers count
// must come out of evtxexport.
func TestEvtxexportReadsEveryRecord(t *testing.T) {
	tool, err := exec.LookPath("evtxexport")
	if err != nil {
		t.Skip("evtxexport not installed (libevtx-utils)")
	}
	if testing.Short() {
		t.Skip("generates the whole comtech case")
	}
	dir := t.TempDir()
	if _, err := Run(Options{Out: dir, Scenario: "comtech", Seed: 7, Hosts: 12, Days: 30}); err != nil {
		t.Fatal(err)
	}
	files := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".evtx" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		want := 0
		for off := 4096; off+65536 <= len(b); off += 65536 {
			c := b[off:]
			if !bytes.HasPrefix(c, []byte("ElfChnk\x00")) {
				continue
			}
			first, last := binary.LittleEndian.Uint64(c[24:]), binary.LittleEndian.Uint64(c[32:])
			want += int(last - first + 1)
		}
		out, err := exec.Command(tool, p).Output()
		if err != nil {
			t.Errorf("%s: evtxexport: %v", p, err)
			return nil
		}
		if got := bytes.Count(out, []byte("\nEvent number")) + boolInt(bytes.HasPrefix(out, []byte("Event number"))); got != want {
			rel, _ := filepath.Rel(dir, p)
			t.Errorf("%s: evtxexport reads %d records, the chunks hold %d", rel, got, want)
		}
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no EVTX files generated")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
