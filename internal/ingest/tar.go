package ingest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// tarGzItems lists the regular files of a gzip-compressed tar archive
// (.tar.gz, .tgz: how collectors and dataset publishers often ship logs),
// recognised by content: a gzip stream whose first block is a ustar header.
// It returns ok=false for anything else, so the caller treats the file as
// before. Entries are read in place: a gzip stream has no index, so each
// entry's open decompresses the archive from its start up to the entry.
func tarGzItems(fp, ev string) (items []item, ok bool) {
	if !isTarGz(fp) {
		return nil, false
	}
	f, err := os.Open(fp)
	if err != nil {
		return []item{{evPath: ev, problem: err.Error()}}, true
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, false
	}
	tr := tar.NewReader(zr)
	names := uniqueNames{}
	for idx := 0; ; idx++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			items = append(items, item{evPath: ev, problem: fmt.Sprintf("tar.gz: archive unreadable after %d entries: %v", idx, err)})
			break
		}
		if h.Typeflag != tar.TypeReg {
			continue // directories, links and pax records carry no evidence
		}
		evp := names.name(ev, h.Name) // recorded exactly (escaped), as zip entries are
		if h.Size > maxZipEntrySize {
			items = append(items, item{evPath: evp, problem: fmt.Sprintf("tar entry refused: %d bytes (bomb guard)", h.Size)})
			continue
		}
		items = append(items, item{evPath: evp, size: h.Size, open: tarEntryOpener(fp, idx, h.Size)})
	}
	return items, true
}

// tarEntryOpener opens the idx-th header's content of the tar.gz at fp.
func tarEntryOpener(fp string, idx int, size int64) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		f, err := os.Open(fp)
		if err != nil {
			return nil, err
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		tr := tar.NewReader(zr)
		for i := 0; i <= idx; i++ {
			if _, err := tr.Next(); err != nil {
				f.Close()
				return nil, fmt.Errorf("tar entry %d: %w", idx, err)
			}
		}
		return struct {
			io.Reader
			io.Closer
		}{io.LimitReader(tr, size), f}, nil
	}
}

// isTarGz reports whether fp is gzip whose content starts with a tar
// header ("ustar" at offset 257).
func isTarGz(fp string) bool {
	f, err := os.Open(fp)
	if err != nil {
		return false
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	head := make([]byte, 512)
	if _, err := io.ReadFull(zr, head); err != nil {
		return false
	}
	return bytes.Equal(head[257:262], []byte("ustar"))
}
