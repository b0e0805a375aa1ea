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

// TestTruncatedFiles: a file cut inside its header says so (not just
// "0 records"); a file cut inside a chunk counts what it lost as
// "truncated", not "bad record header", and keeps every whole record
// (issue #13, case 9).
func TestTruncatedFiles(t *testing.T) {
	orig := readTestdata(t, "metasploit-psexec-native-target-system.evtx")
	all, _ := parseAll(t, New(), "orig.evtx", orig, 2)

	_, st := parseAll(t, New(), "cut-header.evtx", orig[:1000], 2)
	if st.Records != 0 || !strings.Contains(strings.Join(st.Notes, " "), "truncated") || len(st.Errors) == 0 {
		t.Errorf("cut in the header: records %d, notes %q, errors %q", st.Records, st.Notes, st.Errors)
	}

	h, _ := binxml.ParseChunkHeader(orig[binxml.FileHeaderSize:])
	cut := binxml.FileHeaderSize + int(h.FreeSpaceOff)/2
	evs, st := parseAll(t, New(), "cut-chunk.evtx", orig[:cut], 2)
	if !strings.Contains(strings.Join(st.Notes, " "), "file is truncated") {
		t.Errorf("no truncation note: %q", st.Notes)
	}
	if st.Reasons[reasonTruncated] == 0 || st.Reasons[binxml.ReasonRecordHeader] != 0 {
		t.Errorf("skip reasons %v, want %q and no %q", st.Reasons, reasonTruncated, binxml.ReasonRecordHeader)
	}
	if len(evs) == 0 || len(evs) >= len(all) {
		t.Fatalf("%d records kept of %d", len(evs), len(all))
	}
	for i := range evs {
		if evs[i].RecordID != all[i].RecordID {
			t.Fatalf("record %d: id %d, want %d", i, evs[i].RecordID, all[i].RecordID)
		}
	}
}

// TestSlackCopyMarkedRecovered: in a chunk whose header is damaged, a
// stale copy of a record left in the slack is kept but marked recovered,
// not counted as a current record.
func TestSlackCopyMarkedRecovered(t *testing.T) {
	orig := readTestdata(t, "new-user-security.evtx")
	want, _ := parseAll(t, New(), "orig.evtx", orig, 1)
	data := append([]byte(nil), orig...)
	c := data[binxml.FileHeaderSize : binxml.FileHeaderSize+binxml.ChunkSize]
	h, _ := binxml.ParseChunkHeader(c)
	// The second record: it uses its template by reference (the first
	// defines it inline), as a stale copy left in slack would.
	first := binxml.ChunkHeaderSize + int(binary.LittleEndian.Uint32(c[binxml.ChunkHeaderSize+4:]))
	size := int(binary.LittleEndian.Uint32(c[first+4:]))
	at := (int(h.FreeSpaceOff) + 256) &^ 7
	if at+size > len(c) {
		t.Fatal("no room in the slack")
	}
	copy(c[at:], c[first:first+size])
	copy(c[:8], "XXXXXXXX") // the chunk header is damaged
	evs, st := parseAll(t, New(), "slack.evtx", data, 1)
	if len(evs) != len(want)+1 || st.Recovered != 1 {
		t.Fatalf("%d events (original %d), %d recovered; want the original's plus one recovered", len(evs), len(want), st.Recovered)
	}
	n := 0
	for _, ev := range evs {
		if ev.Format == FormatRecovered {
			n++
			if ev.RecordID != want[1].RecordID {
				t.Errorf("recovered record %d, want a copy of %d", ev.RecordID, want[1].RecordID)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d events marked %s, want 1", n, FormatRecovered)
	}
}
