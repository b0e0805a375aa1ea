package ingest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarGz builds a .tar.gz as dataset publishers write them: a directory, a
// PAX header, two files.
func tarGz(t *testing.T, files map[string]string, order []string) []byte {
	var raw bytes.Buffer
	gz := gzip.NewWriter(&raw)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "logs/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	for _, name := range order {
		body := files[name]
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg,
			PAXRecords: map[string]string{"LIBARCHIVE.creationtime": "1575521254"}}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return raw.Bytes()
}

// TestTarGzReadInPlace: a .tar.gz is listed entry by entry (directories
// and PAX records left out), each entry opens to its content, and an
// archive whose gzip trailer is missing (as in some published datasets)
// still gives every complete entry.
func TestTarGzReadInPlace(t *testing.T) {
	files := map[string]string{"logs/a.json": strings.Repeat(`{"EventID":1}`+"\n", 500), "logs/b.json": `{"EventID":2}` + "\n"}
	data := tarGz(t, files, []string{"logs/a.json", "logs/b.json"})
	for name, b := range map[string][]byte{"whole.tar.gz": data, "no-trailer.tar.gz": data[:len(data)-8]} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
			wk := &walker{}
			defer wk.close()
			items, err := wk.walk([]string{dir})
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Base(dir)
			got := map[string]string{}
			for _, it := range items {
				if it.problem != "" {
					t.Fatalf("%s: %s", it.evPath, it.problem)
				}
				for range 2 { // opens more than once, each from the start
					rc, err := it.open()
					if err != nil {
						t.Fatal(err)
					}
					body, err := io.ReadAll(rc)
					rc.Close()
					if err != nil {
						t.Fatalf("%s: %v", it.evPath, err)
					}
					got[it.evPath] = string(body)
				}
				if it.size != int64(len(got[it.evPath])) {
					t.Errorf("%s: size %d for %d bytes", it.evPath, it.size, len(got[it.evPath]))
				}
			}
			if len(got) != 2 {
				t.Fatalf("entries %v", items)
			}
			for entry, want := range files {
				if p := base + "/" + name + "/" + entry; got[p] != want {
					t.Errorf("%s: %d bytes, want %d", p, len(got[p]), len(want))
				}
			}
		})
	}
}

// TestPlainGzipIsNotTar: a gzip log that is no tar stays one item (read
// decompressed later by the driver).
func TestPlainGzipIsNotTar(t *testing.T) {
	var raw bytes.Buffer
	gz := gzip.NewWriter(&raw)
	io.WriteString(gz, strings.Repeat("#Fields: date time action\n", 40))
	gz.Close()
	p := filepath.Join(t.TempDir(), "pfirewall.log.gz")
	if err := os.WriteFile(p, raw.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	wk := &walker{}
	defer wk.close()
	items, err := wk.walk([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].evPath != "pfirewall.log.gz" {
		t.Fatalf("items %+v", items)
	}
}
