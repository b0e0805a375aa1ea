package ingest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
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
	// skip is set for what is deliberately not read (symbolic links,
	// FIFOs, devices, archives nested too deep); it is recorded in the
	// manifest as skipped, with this reason.
	skip string
	// notes go into the item's manifest entry (e.g. salvaged from a
	// damaged archive).
	notes []string
}

// Zip limits: entries are streamed, never extracted, so a bomb costs time
// rather than disk; these bounds stop even that. Nested archives are
// copied to temporary files (never held in memory), within maxSpill in
// all. Variables so that tests can reach them with small inputs.
var (
	maxZipEntrySize  int64 = 64 << 30 // 64 GiB uncompressed
	maxZipRatio      int64 = 1000     // uncompressed/compressed, above a small size
	maxNestedZipSize int64 = 512 << 20
	maxSpill         int64 = 4 << 30
)

const maxZipDepth = 2

var zipMagic = []byte("PK\x03\x04")

// walker expands PATH arguments and owns what that needs for the run: the
// open archives and the temporary copies of nested ones.
type walker struct {
	spilled int64
	closers []func()
}

// close releases the archives and removes the temporary copies.
func (w *walker) close() {
	for _, c := range w.closers {
		c()
	}
	w.closers = nil
}

// walk expands PATH arguments into evidence items in a deterministic
// order (sorted by evidence path).
func (w *walker) walk(paths []string) ([]item, error) {
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
		base := safeName(filepath.Base(abs))
		if !st.IsDir() {
			out = append(out, w.fileItems(abs, base, st)...)
			continue
		}
		err = filepath.WalkDir(abs, func(fp string, d fs.DirEntry, err error) error {
			rel, _ := filepath.Rel(abs, fp)
			ev := base
			if rel != "." {
				ev = base + "/" + safeName(filepath.ToSlash(rel))
			}
			if err != nil {
				out = append(out, item{evPath: ev, problem: err.Error()})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if !d.Type().IsRegular() {
				out = append(out, item{evPath: ev, skip: notRegular(d.Type())})
				return nil
			}
			info, err := d.Info()
			if err != nil {
				out = append(out, item{evPath: ev, problem: err.Error()})
				return nil
			}
			out = append(out, w.fileItems(fp, ev, info)...)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].evPath < out[j].evPath })
	return out, nil
}

// notRegular is the reason a non-regular directory entry is not read.
func notRegular(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link: not followed (evidence trees can loop or point outside the evidence)"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO): not read (reading could block for ever)"
	case m&fs.ModeSocket != 0:
		return "socket: not read"
	case m&fs.ModeDevice != 0:
		return "device file: not read"
	}
	return fmt.Sprintf("not a regular file (%v): not read", m.Type())
}

// safeName records a name exactly as it is, except that what JSON or a
// terminal would change or act on is escaped: bytes that are not UTF-8
// and control characters become \xNN. Nothing is cleaned: "a/../b" stays.
func safeName(s string) string {
	ok := utf8.ValidString(s)
	for i := 0; ok && i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			ok = false
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n <= 1) || r < 0x20 || r == 0x7f {
			fmt.Fprintf(&b, `\x%02x`, s[i])
			i++
			continue
		}
		b.WriteString(s[i : i+n])
		i += n
	}
	return b.String()
}

// fileItems returns the file itself, or the entries of a zip or tar.gz
// archive.
func (w *walker) fileItems(fp, ev string, info fs.FileInfo) []item {
	size := info.Size()
	open := func() (io.ReadCloser, error) { return os.Open(fp) }
	if !isZipFile(fp) {
		if items, ok := tarGzItems(fp, ev); ok {
			return items
		}
		return []item{{evPath: ev, size: size, open: open}}
	}
	f, err := os.Open(fp)
	if err != nil {
		return []item{{evPath: ev, problem: err.Error()}}
	}
	w.closers = append(w.closers, func() { f.Close() })
	return w.archiveItems(f, size, ev, 1, open)
}

// archiveItems lists a zip archive read from r; when its central directory
// is unreadable, the entries are salvaged from their local headers.
func (w *walker) archiveItems(r io.ReaderAt, size int64, ev string, depth int, open func() (io.ReadCloser, error)) []item {
	zr, err := zip.NewReader(r, size)
	if err == nil {
		return w.zipItems(zr, ev, depth)
	}
	items, n := w.salvage(r, size, ev, depth)
	if n == 0 {
		// Not a readable zip after all: let detection decide.
		return []item{{evPath: ev, size: size, open: open, notes: []string{"starts like a zip archive but none could be read: " + err.Error()}}}
	}
	note := fmt.Sprintf("zip archive damaged (%v): %d entries salvaged from their local headers", err, n)
	for i := range items {
		items[i].notes = append(items[i].notes, note)
	}
	return items
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

// uniqueNames records entry names exactly (escaped) and tells repeats
// apart: a zip may hold one name twice, and the manifest is keyed by path.
type uniqueNames map[string]int

func (u uniqueNames) name(ev, raw string) string {
	p := ev + "/" + safeName(raw)
	u[p]++
	if n := u[p]; n > 1 {
		p = fmt.Sprintf("%s (#%d)", p, n)
	}
	return p
}

func (w *walker) zipItems(zr *zip.Reader, ev string, depth int) []item {
	var out []item
	names := uniqueNames{}
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() {
			continue
		}
		evp := names.name(ev, zf.Name)
		usize := int64(zf.UncompressedSize64)
		if zf.UncompressedSize64 > uint64(maxZipEntrySize) ||
			(usize > 64<<20 && zf.CompressedSize64 > 0 && usize/int64(zf.CompressedSize64) > maxZipRatio) {
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
			}{io.LimitReader(rc, usize+1), rc}, nil
		}
		out = append(out, w.entry(evp, usize, depth, open)...)
	}
	return out
}

// entry returns a zip entry as an item, or the entries of the archive it
// holds (copied to a temporary file), or says why that archive is not
// opened.
func (w *walker) entry(evp string, usize int64, depth int, open func() (io.ReadCloser, error)) []item {
	it := item{evPath: evp, size: usize, open: open}
	if !startsWithZip(open) {
		return []item{it}
	}
	switch {
	case depth >= maxZipDepth:
		it.skip = fmt.Sprintf("zip archive nested deeper than %d levels: not opened", maxZipDepth)
		return []item{it}
	case usize > maxNestedZipSize:
		it.skip = fmt.Sprintf("nested zip archive of %d bytes (over %d): not opened; extract it and ingest it on its own", usize, maxNestedZipSize)
		return []item{it}
	case w.spilled+usize > maxSpill:
		it.skip = fmt.Sprintf("nested zip archives over %d bytes in all: not opened; extract them and ingest them on their own", maxSpill)
		return []item{it}
	}
	f, n, err := spill(open, usize)
	if err != nil {
		it.problem = "nested zip archive: " + err.Error()
		return []item{it}
	}
	w.spilled += n
	w.closers = append(w.closers, func() { f.Close(); os.Remove(f.Name()) })
	return w.archiveItems(f, n, evp, depth+1, open)
}

// spill copies a nested archive to a temporary file (at most limit bytes),
// so that it is read in place like any archive and never held in memory.
func spill(open func() (io.ReadCloser, error), limit int64) (*os.File, int64, error) {
	rc, err := open()
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "spoor-nested-*.zip")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, io.LimitReader(rc, limit))
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
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

// salvage lists the entries of a zip archive whose central directory or
// end record is missing or corrupt, from the local file headers in front
// of each entry's data. Entries whose compressed size is not in the local
// header (written with a data descriptor) are found by their deflate
// stream's end. It returns the items and how many entries it read.
func (w *walker) salvage(r io.ReaderAt, size int64, ev string, depth int) ([]item, int) {
	var out []item
	names := uniqueNames{}
	count := 0
	var hdr [30]byte
	for off := int64(0); off+30 <= size; {
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			break
		}
		if !bytes.Equal(hdr[:4], zipMagic) {
			next := nextSignature(r, off+1, size)
			if next < 0 {
				break
			}
			off = next
			continue
		}
		flags := binary.LittleEndian.Uint16(hdr[6:])
		method := binary.LittleEndian.Uint16(hdr[8:])
		csize := int64(binary.LittleEndian.Uint32(hdr[18:]))
		usize := int64(binary.LittleEndian.Uint32(hdr[22:]))
		nlen := int64(binary.LittleEndian.Uint16(hdr[26:]))
		xlen := int64(binary.LittleEndian.Uint16(hdr[28:]))
		data := off + 30 + nlen + xlen
		if data > size {
			break
		}
		nameb := make([]byte, nlen)
		if _, err := r.ReadAt(nameb, off+30); err != nil {
			break
		}
		name := string(nameb)
		descriptor := flags&0x8 != 0 && csize == 0
		if descriptor {
			if method != zip.Deflate {
				out = append(out, item{evPath: names.name(ev, name), problem: "zip entry salvaged from a damaged archive: stored with a data descriptor, so its size is unknown"})
				count++
				next := nextSignature(r, data, size)
				if next < 0 {
					break
				}
				off = next
				continue
			}
			csize, usize = deflatedSize(r, data, size)
		}
		if data+csize > size || csize < 0 {
			out = append(out, item{evPath: names.name(ev, name), problem: fmt.Sprintf("zip entry salvaged from a damaged archive: cut off (%d of %d compressed bytes present)", max(size-data, 0), csize)})
			count++
			break
		}
		count++
		if strings.HasSuffix(name, "/") {
			off = data + csize
			continue
		}
		var open func() (io.ReadCloser, error)
		switch method {
		case zip.Store:
			open = func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(r, data, csize)), nil }
			usize = csize
		case zip.Deflate:
			open = func() (io.ReadCloser, error) {
				fr := flate.NewReader(io.NewSectionReader(r, data, csize))
				return struct {
					io.Reader
					io.Closer
				}{io.LimitReader(fr, maxZipEntrySize), fr}, nil
			}
		default:
			out = append(out, item{evPath: names.name(ev, name), problem: fmt.Sprintf("zip entry salvaged from a damaged archive: compression method %d not supported", method)})
			off = data + csize
			continue
		}
		out = append(out, w.entry(names.name(ev, name), usize, depth, open)...)
		off = data + csize
	}
	return out, count
}

// nextSignature finds the next local file header at or after off.
func nextSignature(r io.ReaderAt, off, size int64) int64 {
	buf := make([]byte, 64<<10)
	for off < size {
		n, _ := r.ReadAt(buf, off)
		if n < 4 {
			return -1
		}
		if i := bytes.Index(buf[:n], zipMagic); i >= 0 {
			return off + int64(i)
		}
		off += int64(n) - 3
	}
	return -1
}

// deflatedSize decompresses a deflate stream starting at off to learn its
// compressed and uncompressed sizes (for entries with a data descriptor).
func deflatedSize(r io.ReaderAt, off, size int64) (int64, int64) {
	sr := &sectionCounter{r: io.NewSectionReader(r, off, size-off)}
	br := bufio.NewReader(sr)
	fr := flate.NewReader(br) // reads br byte-wise: stops at the stream's end
	n, err := io.Copy(io.Discard, io.LimitReader(fr, maxZipEntrySize))
	fr.Close()
	if err != nil {
		return -1, 0
	}
	return sr.n - int64(br.Buffered()), n
}

// sectionCounter counts the bytes read from r.
type sectionCounter struct {
	r io.Reader
	n int64
}

func (c *sectionCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
