package evtxw

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus.evtx")

// TestGolden pins the bytes the writer produces for the corpus. The file
// is also a small real EVTX for other packages' decoders; review a change
// with `evtxexport -f xml testdata/corpus.evtx` before running -update.
func TestGolden(t *testing.T) {
	path := writeTemp(t, corpus())
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "corpus.evtx")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (review, then -update)", golden)
	}
}

func TestBadNames(t *testing.T) {
	for _, r := range []*Record{
		{Data: []Field{{"ok", "1"}, {"not ok", "2"}}},
		{Data: []Field{{"1st", "1"}}},
		{Data: []Field{{"a<b", "1"}}},
		{UserData: &UserData{Element: "", Fields: []Field{{"A", "1"}}}},
		{UserData: &UserData{Element: "EventXML", Fields: []Field{{"", "1"}}}},
		{UserData: &UserData{Element: "Ünicode", Fields: nil}},
	} {
		r.Time, r.Provider, r.Channel, r.Computer = base, "P", "Application", "C"
		w := NewWriter(onlyWriter{io.Discard})
		if _, err := w.Write(r); !errors.Is(err, ErrBadName) {
			t.Errorf("%+v: err %v, want ErrBadName", r, err)
		}
	}
	for _, name := range []string{"Data_1", "x", "_a", "Sub.Name-2", "LogFileCleared"} {
		if !validName(name) {
			t.Errorf("validName(%q) = false", name)
		}
	}
}

func TestTimeRange(t *testing.T) {
	w := NewWriter(onlyWriter{io.Discard})
	r := *corpus()[0]
	r.Time = time.Time{}
	if _, err := w.Write(&r); !errors.Is(err, ErrTimeRange) {
		t.Fatalf("zero time: err %v, want ErrTimeRange", err)
	}
	r.Time = filetimeEpoch
	if _, err := w.Write(&r); err != nil {
		t.Fatalf("1601-01-01: %v", err)
	}
	if fileTime(filetimeEpoch) != 0 || fileTime(time.Unix(0, 0)) != 116444736000000000 {
		t.Fatal("FILETIME epoch wrong")
	}
}

func TestFileFull(t *testing.T) {
	defer func(n int) { maxChunks = n }(maxChunks)
	maxChunks = 3
	path := filepath.Join(t.TempDir(), "full.evtx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := NewWriter(f)
	recs := bigCorpus(2000)
	var n int
	for n = 0; n < len(recs); n++ {
		if _, err = w.Write(recs[n]); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrFileFull) {
		t.Fatalf("after %d records: err %v, want ErrFileFull", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := checkStructure(t, path, n); got != 3 {
		t.Fatalf("%d chunks, want 3", got)
	}
	compareGolangEvtx(t, path, recs[:n])
}

// TestPipe writes to an *os.File that cannot seek.
func TestPipe(t *testing.T) {
	recs := bigCorpus(300)
	want, err := os.ReadFile(writeTemp(t, recs))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(pr)
		done <- b
	}()
	w := NewWriter(pw)
	for _, r := range recs {
		if _, err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if got := <-done; !bytes.Equal(got, want) {
		t.Fatalf("pipe output (%d bytes) differs from file output (%d bytes)", len(got), len(want))
	}
}

// TestFileOffset writes an EVTX after existing bytes of a file: the header
// rewrite must land at the writer's start, not at offset 0.
func TestFileOffset(t *testing.T) {
	recs := corpus()
	want, err := os.ReadFile(writeTemp(t, recs))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "prefixed")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("PREFIX")
	w := NewWriter(f)
	for _, r := range recs {
		if _, err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.WriteString("SUFFIX")
	got, _ := os.ReadFile(path)
	if string(got[:6]) != "PREFIX" || !bytes.Equal(got[6:len(got)-6], want) || string(got[len(got)-6:]) != "SUFFIX" {
		t.Fatal("EVTX written after a prefix differs, or Close did not return to the end")
	}
}

// FuzzRoundTrip writes fuzzed names and values and reads them back with
// golang-evtx: the writer must never panic, and whatever it accepts must
// read back as written.
func FuzzRoundTrip(f *testing.F) {
	f.Add("Microsoft-Windows-Security-Auditing", "TargetUserName", "svc-msp-admin1", "S-1-5-18", uint16(4624), false)
	f.Add("PowerShell", "", "\tNewEngineState=Available\r\n", "", uint16(400), false)
	f.Add("Microsoft-Windows-Eventlog", "SubjectUserName", `a<b&c>"d'e 😀`, "S-1-5-21-1-2-3-500", uint16(1102), true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, provider, name, value, sid string, id uint16, userData bool) {
		r := &Record{Time: base, Provider: provider, EventID: id, Channel: "Application",
			Computer: "PC", UserSID: sid, ProviderGUID: secGUID}
		fields := []Field{{name, value}, {"Second", value + value}}
		if userData {
			r.UserData = &UserData{Element: "EventXML", Fields: fields}
		} else {
			r.Data = fields
		}
		path := filepath.Join(dir, "f.evtx")
		err := WriteFile(path, []*Record{r})
		if err != nil {
			if errors.Is(err, ErrBadName) || errors.Is(err, ErrRecordTooLarge) {
				return
			}
			t.Fatal(err)
		}
		if !utf8.ValidString(provider+name+value+sid) || bytes.ContainsRune([]byte(provider+value+sid), 0) ||
			(name == "Second" && !userData) || name == "Name" || name == "Value" || provider == "" {
			return // written, but not comparable: U+FFFD, NUL-trimming, golang-evtx key clashes
		}
		if _, isSID := sidSize(sid); isSID {
			// A SID is stored binary and read back in canonical form.
			var subs [15]uint32
			rev, auth, _, n, _ := parseSID(sid, subs[:])
			canon := fmt.Sprintf("S-%d-%d", rev, auth)
			for _, v := range subs[:n] {
				canon += fmt.Sprintf("-%d", v)
			}
			c := *r
			c.UserSID = canon
			r = &c
		}
		compareGolangEvtx(t, path, []*Record{r})
	})
}
