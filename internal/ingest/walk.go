package ingest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// item is one evidence file found by walking the PATH arguments: a plain
// file, or an entry of a zip archive read in place.
type item struct {
	evPath string // evidence path as recorded
	size   int64  // stored size (compressed size for zip entries is not used)
	open   func() (io.ReadCloser, error)
	// problem is set when the item cannot be read at all (walk errors,
	// refused zip entries); it is recorded in the manifest as failed.
	problem string
}

// Zip limits: entries are streamed, never extracted, so a bomb costs time
// rather than disk; these bounds stop even that.
const (
	maxZipEntrySize  = 64 << 30 // 64 GiB uncompressed
	maxZipRatio      = 1000     // uncompressed/compressed, above a small size
	maxNestedZipSize = 512 << 20
	maxZipDepth      = 2
)

var zipMagic = []byte("PK\x03\x04")

// walk expands PATH arguments into evidence items in a deterministic
// order (sorted by evidence path).
func walk(paths []string) ([]item, error) {
	var out []item
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		base := filepath.Base(abs)
		if !st.IsDir() {
			out = append(out, fileItems(abs, base, st.Size())...)
			continue
		}
		err = filepath.WalkDir(abs, func(fp string, d fs.DirEntry, err error) error {
			rel, _ := filepath.Rel(abs, fp)
			ev := path.Join(base, filepath.ToSlash(rel))
			if err != nil {
				out = append(out, item{evPath: ev, problem: err.Error()})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil // symlinks are not followed: evidence trees can loop
			}
			info, err := d.Info()
			if err != nil {
				out = append(out, item{evPath: ev, problem: err.Error()})
				return nil
			}
			out = append(out, fileItems(fp, ev, info.Size())...)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].evPath < out[j].evPath })
	return out, nil
}

// fileItems returns the file itself, or the entries of a zip or tar.gz
// archive.
func fileItems(fp, ev string, size int64) []item {
	open := func() (io.ReadCloser, error) { return os.Open(fp) }
	if isZipFile(fp) {
		f, err := os.Open(fp)
		if err != nil {
			return []item{{evPath: ev, problem: err.Error()}}
		}
		zr, err := zip.NewReader(f, size)
		if err != nil {
			f.Close()
			// Not a readable zip after all: let detection decide.
			return []item{{evPath: ev, size: size, open: open}}
		}
		// The file stays open for the run; entries are read in place.
		return zipItems(zr, ev, 1)
	}
	if items, ok := tarGzItems(fp, ev); ok {
		return items
	}
	return []item{{evPath: ev, size: size, open: open}}
}

func isZipFile(fp string) bool {
	f, err := os.Open(fp)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(f, head); err != nil {
		return false
	}
	return bytes.Equal(head, zipMagic)
}

// cleanEntryName makes a zip entry name safe to show and record: forward
// slashes, no leading slash, no .. components (it is never used to write
// anything, but a report must not show a path escaping its archive).
func cleanEntryName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	parts := strings.Split(name, "/")
	var keep []string
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			continue
		}
		keep = append(keep, p)
	}
	return strings.Join(keep, "/")
}

func zipItems(zr *zip.Reader, ev string, depth int) []item {
	var out []item
	for _, zf := range zr.File {
		zf := zf
		if zf.FileInfo().IsDir() {
			continue
		}
		name := cleanEntryName(zf.Name)
		if name == "" {
			continue
		}
		evp := ev + "/" + name
		usize := int64(zf.UncompressedSize64)
		if zf.UncompressedSize64 > maxZipEntrySize ||
			(zf.UncompressedSize64 > 64<<20 && zf.CompressedSize64 > 0 && zf.UncompressedSize64/zf.CompressedSize64 > maxZipRatio) {
			out = append(out, item{evPath: evp, problem: fmt.Sprintf("zip entry refused: %d bytes from %d compressed (zip bomb guard)", zf.UncompressedSize64, zf.CompressedSize64)})
			continue
		}
		open := func() (io.ReadCloser, error) {
			rc, err := zf.Open()
			if err != nil {
				return nil, err
			}
			// Never trust the declared size beyond its bound.
			return struct {
				io.Reader
				io.Closer
			}{io.LimitReader(rc, int64(zf.UncompressedSize64)+1), rc}, nil
		}
		if depth < maxZipDepth && usize <= maxNestedZipSize && startsWithZip(open) {
			if nested, ok := nestedZip(open, usize); ok {
				out = append(out, zipItems(nested, evp, depth+1)...)
				continue
			}
		}
		out = append(out, item{evPath: evp, size: usize, open: open})
	}
	return out
}

// startsWithZip peeks at an entry's first bytes: nested archives are
// recognised by content, not by name.
func startsWithZip(open func() (io.ReadCloser, error)) bool {
	rc, err := open()
	if err != nil {
		return false
	}
	defer rc.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(rc, head); err != nil {
		return false
	}
	return bytes.Equal(head, zipMagic)
}

// nestedZip reads a small zip inside a zip into memory.
func nestedZip(open func() (io.ReadCloser, error), size int64) (*zip.Reader, bool) {
	rc, err := open()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, size))
	if err != nil || !bytes.HasPrefix(b, zipMagic) {
		return nil, false
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, false
	}
	return zr, true
}
