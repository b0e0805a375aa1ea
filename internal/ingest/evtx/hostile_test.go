package evtx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
)

// templateCycle returns a copy of the real EVTX file data whose first
// record's template definition begins with a template instance of itself:
// a 10-byte patch (token, unknown byte, template id, data offset) with the
// chunk's header and data CRCs fixed, so nothing but the cycle is wrong.
// golang-evtx recursed on this until the runtime's stack limit killed the
// process (issue #13, case 1).
func templateCycle(t testing.TB, data []byte) []byte {
	t.Helper()
	out := append([]byte(nil), data...)
	c := out[binxml.FileHeaderSize : binxml.FileHeaderSize+binxml.ChunkSize]
	rec := binxml.ChunkHeaderSize
	body := rec + binxml.RecordHeaderSize
	// fragment header (4 bytes), then the template instance token
	if !bytes.Equal(c[body:body+4], []byte{0x0f, 1, 1, 0}) || c[body+4] != 0x0c {
		t.Fatalf("first record does not start with a template instance: % x", c[body:body+8])
	}
	def := int(binary.LittleEndian.Uint32(c[body+4+6:]))
	if def <= 0 || def+40 > len(c) {
		t.Fatalf("template definition offset %d out of range", def)
	}
	// The definition's body: fragment header, then its first element,
	// which becomes an instance of the definition itself.
	at := def + 24 + 4
	patch := make([]byte, 10)
	patch[0], patch[1] = 0x0c, 0x01
	binary.LittleEndian.PutUint32(patch[6:], uint32(def))
	copy(c[at:], patch)
	fixChunkCRCs(c)
	return out
}

// fixChunkCRCs recomputes a chunk's record-data and header checksums.
func fixChunkCRCs(c []byte) {
	h, _ := binxml.ParseChunkHeader(c)
	if fs := int(h.FreeSpaceOff); fs >= binxml.ChunkHeaderSize && fs <= len(c) {
		binary.LittleEndian.PutUint32(c[52:], crc32.ChecksumIEEE(c[binxml.ChunkHeaderSize:fs]))
	}
	hc := crc32.NewIEEE()
	hc.Write(c[:120])
	hc.Write(c[128:512])
	binary.LittleEndian.PutUint32(c[124:], hc.Sum32())
}

// TestTemplateCycleNoCrash: a self-referencing template must not reach
// golang-evtx; the bad record is counted, every other record is kept.
func TestTemplateCycleNoCrash(t *testing.T) {
	orig := readTestdata(t, "metasploit-psexec-native-target-system.evtx")
	want, _ := parseAll(t, New(), "orig.evtx", orig, 2)
	data := templateCycle(t, orig)
	evs, st := parseAll(t, New(), "cycle.evtx", data, 2)
	if st.Skipped == 0 {
		t.Fatalf("cyclic record not reported as skipped: %+v", st)
	}
	// Records of other templates still decode; those of the poisoned one
	// are each counted, none silently dropped.
	if int64(len(evs))+st.Skipped != int64(len(want)) {
		t.Fatalf("records lost: %d events + %d skipped != %d in the original", len(evs), st.Skipped, len(want))
	}
	if len(evs) == 0 {
		t.Fatalf("no record kept of %d", len(want))
	}
	if !strings.Contains(strings.Join(st.Notes, "\n")+strings.Join(st.Errors, "\n"), "cycle") {
		t.Errorf("no note or error names the template cycle: notes %q errors %q", st.Notes, st.Errors)
	}
}

// TestTemplateCycleInFuzzCorpus keeps the crash input in FuzzParse's seed
// corpus, so every fuzz run (and plain go test) replays it; -update
// rewrites it from the generator.
func TestTemplateCycleInFuzzCorpus(t *testing.T) {
	data := templateCycle(t, readTestdata(t, "metasploit-psexec-native-target-system.evtx"))
	// Only the first chunk matters; keep the seed small.
	data = data[:binxml.FileHeaderSize+binxml.ChunkSize]
	want := []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data))
	fn := filepath.Join("testdata", "fuzz", "FuzzParse", "template-cycle")
	if *update {
		if err := os.MkdirAll(filepath.Dir(fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fn, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(fn)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the generator's output (run with -update)", fn)
	}
}
