package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
)

// ManifestVersion is the layout version written into manifest.json.
const ManifestVersion = 1

// Store is an open store directory. Its methods are safe for concurrent
// use; the manifest is guarded by a mutex and rewritten atomically.
//
// A Store read from is a snapshot: the manifest is read once, and only the
// parts it lists are scanned, so a reader never mixes in the parts of an
// ingest still running. Writers take the store's lock (Lock) first.
type Store struct {
	Dir string

	cols *layout // nil: event.Columns' (a test may give another table)

	mu       sync.Mutex
	manifest *Manifest
	index    map[string]int // manifest.Files index by path
	dirty    bool           // entries recorded since the last write
	bumped   bool           // Generation raised in this writer session
	flushed  time.Time
}

// manifestFlushEvery is how often Record writes manifest.json during an
// ingest; FlushManifest writes it at the end (and on interrupt). Writing
// it after every file made 100,000 files take hours (the whole manifest
// rewritten each time). A process killed between two writes loses only
// the entries of that window; their parts are made again, identically, by
// the next run, and are invisible to readers until then.
var manifestFlushEvery = 2 * time.Second

// Manifest lists every input file ever offered to the store and what
// became of it. It is the inventory the report's evidence table shows.
type Manifest struct {
	Version int        `json:"version"`
	Case    *CaseEntry `json:"case,omitempty"` // the stored case file (case.yaml)
	// Generation counts the ingests that changed the store; a hunt
	// records the generation it saw, so that a report or timeline over
	// findings older than the events can say so.
	Generation int64       `json:"generation,omitempty"`
	Files      []FileEntry `json:"files"`
}

// FileEntry is one evidence file.
type FileEntry struct {
	Path        string   `json:"path"` // evidence path as in events
	Size        int64    `json:"size"`
	SHA256      string   `json:"sha256"`
	Format      string   `json:"format,omitempty"`
	Source      string   `json:"source,omitempty"`
	Status      string   `json:"status"` // ingested | skipped | duplicate | failed
	DuplicateOf string   `json:"duplicate_of,omitempty"`
	Parts       []string `json:"parts,omitempty"` // store-relative Parquet files
	Records     int64    `json:"records"`
	Skipped     int64    `json:"skipped"`
	// Recovered counts records (included in Records) carved from slack or
	// damaged structures: possibly stale copies, not current records.
	Recovered   int64            `json:"recovered,omitempty"`
	SkipReasons map[string]int64 `json:"skip_reasons,omitempty"`
	TimeZone    string           `json:"time_zone,omitempty"`
	First       *time.Time       `json:"first,omitempty"`
	Last        *time.Time       `json:"last,omitempty"`
	Notes       []string         `json:"notes,omitempty"`
	// HostNames maps how the file's records named their host to the one
	// name the host table gave it (only names that changed).
	HostNames map[string]string `json:"host_names,omitempty"`
	Errors    []string          `json:"errors,omitempty"`
}

// Status values of a FileEntry.
const (
	StatusIngested  = "ingested"
	StatusSkipped   = "skipped" // not read: no known format, or the reason in Notes (symlink, FIFO, archive nested too deep)
	StatusDuplicate = "duplicate"
	StatusFailed    = "failed"
)

// Open opens (creating if needed) a store directory.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Store{Dir: dir}
	m, err := readManifest(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	s.setManifest(m)
	return s, nil
}

func (s *Store) setManifest(m *Manifest) {
	s.manifest = m
	s.index = make(map[string]int, len(m.Files))
	for i, f := range m.Files {
		s.index[f.Path] = i
	}
}

// OpenExisting opens a store that must already exist (for hunt, query…).
func OpenExisting(dir string) (*Store, error) {
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		return nil, fmt.Errorf("no store at %s (run spoor ingest first): %w", dir, err)
	}
	return Open(dir)
}

func readManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Manifest{Version: ManifestVersion}, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &m, nil
}

// Manifest returns a copy of the manifest, files sorted by path.
func (s *Store) Manifest() *Manifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Manifest{Version: s.manifest.Version, Case: s.manifest.Case, Generation: s.manifest.Generation, Files: append([]FileEntry(nil), s.manifest.Files...)}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	return m
}

// Lookup finds the ingested entry with the given content hash.
func (s *Store) Lookup(sha256 string) (FileEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.manifest.Files {
		if f.SHA256 == sha256 && f.Status == StatusIngested && s.partsExist(f.Parts) {
			return f, true
		}
	}
	return FileEntry{}, false
}

func (s *Store) partsExist(parts []string) bool {
	for _, p := range parts {
		if _, err := os.Stat(filepath.Join(s.Dir, p)); err != nil {
			return false
		}
	}
	return true
}

// Record adds or replaces the entry for e.Path. manifest.json is
// rewritten atomically at most every manifestFlushEvery, and by
// FlushManifest, which the writer calls when it is done.
func (s *Store) Record(e FileEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index[e.Path]; ok {
		if reflect.DeepEqual(s.manifest.Files[i], e) {
			return nil // the same again (a re-run): the store did not change
		}
		s.manifest.Files[i] = e
	} else {
		s.index[e.Path] = len(s.manifest.Files)
		s.manifest.Files = append(s.manifest.Files, e)
	}
	if !s.bumped {
		s.bumped = true
		s.manifest.Generation++
	}
	s.dirty = true
	if time.Since(s.flushed) < manifestFlushEvery {
		return nil
	}
	return s.flushLocked()
}

// FlushManifest writes manifest.json if entries were recorded since it was
// last written.
func (s *Store) FlushManifest() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty {
		return nil
	}
	return s.flushLocked()
}

func (s *Store) flushLocked() error {
	sort.Slice(s.manifest.Files, func(i, j int) bool { return s.manifest.Files[i].Path < s.manifest.Files[j].Path })
	for i, f := range s.manifest.Files {
		s.index[f.Path] = i
	}
	return s.writeManifest()
}

// writeManifest rewrites manifest.json; the caller holds s.mu.
func (s *Store) writeManifest() error {
	b, err := json.MarshalIndent(s.manifest, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(s.Dir, "manifest.json"), append(b, '\n')); err != nil {
		return err
	}
	s.dirty = false
	s.flushed = time.Now()
	return nil
}

// listedParts is the set of part files the manifest lists, or nil when it
// lists none (a store written by hand or by a test, not by an ingest):
// then every committed part is read.
func (s *Store) listedParts() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out map[string]bool
	for _, f := range s.manifest.Files {
		if f.Status != StatusIngested {
			continue
		}
		for _, p := range f.Parts {
			if out == nil {
				out = map[string]bool{}
			}
			out[filepath.ToSlash(p)] = true
		}
	}
	return out
}

// TotalRecords sums records of ingested files.
func (m *Manifest) TotalRecords() int64 {
	var n int64
	for _, f := range m.Files {
		if f.Status == StatusIngested {
			n += f.Records
		}
	}
	return n
}

// writeFileAtomic writes to a temporary file in the same directory and
// renames it over path. The rename is what makes an interrupted process
// harmless; there is no fsync per file, which cost 20 ms each here and
// dominated ingests of many small logs (a power loss may need a re-run).
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	// CreateTemp makes the file 0600; the store is read by other users
	// (a colleague's DuckDB, a web server for the report).
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// CleanTemp removes temporary files a killed run left behind.
func (s *Store) CleanTemp() error {
	return filepath.WalkDir(s.Dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), ".") && strings.Contains(d.Name(), ".tmp-") {
			os.Remove(p)
		}
		return nil
	})
}
