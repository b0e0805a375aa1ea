package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ManifestVersion is the layout version written into manifest.json.
const ManifestVersion = 1

// Store is an open store directory. Its methods are safe for concurrent
// use; the manifest is guarded by a mutex and rewritten atomically.
type Store struct {
	Dir string

	mu       sync.Mutex
	manifest *Manifest
}

// Manifest lists every input file ever offered to the store and what
// became of it. It is the inventory the report's evidence table shows.
type Manifest struct {
	Version int         `json:"version"`
	Case    *CaseEntry  `json:"case,omitempty"` // the stored case file (case.yaml)
	Files   []FileEntry `json:"files"`
}

// FileEntry is one evidence file.
type FileEntry struct {
	Path        string           `json:"path"` // evidence path as in events
	Size        int64            `json:"size"`
	SHA256      string           `json:"sha256"`
	Format      string           `json:"format,omitempty"`
	Source      string           `json:"source,omitempty"`
	Status      string           `json:"status"` // ingested | skipped | duplicate | failed
	DuplicateOf string           `json:"duplicate_of,omitempty"`
	Parts       []string         `json:"parts,omitempty"` // store-relative Parquet files
	Records     int64            `json:"records"`
	Skipped     int64            `json:"skipped"`
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
	StatusSkipped   = "skipped" // no known format
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
	s.manifest = m
	return s, nil
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
	m := &Manifest{Version: s.manifest.Version, Case: s.manifest.Case, Files: append([]FileEntry(nil), s.manifest.Files...)}
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

// Record adds or replaces the entry for e.Path and rewrites manifest.json
// atomically, so a killed ingest keeps every file completed before it.
func (s *Store) Record(e FileEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	replaced := false
	for i := range s.manifest.Files {
		if s.manifest.Files[i].Path == e.Path {
			s.manifest.Files[i] = e
			replaced = true
			break
		}
	}
	if !replaced {
		s.manifest.Files = append(s.manifest.Files, e)
	}
	sort.Slice(s.manifest.Files, func(i, j int) bool { return s.manifest.Files[i].Path < s.manifest.Files[j].Path })
	return s.writeManifest()
}

// writeManifest rewrites manifest.json; the caller holds s.mu.
func (s *Store) writeManifest() error {
	b, err := json.MarshalIndent(s.manifest, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.Dir, "manifest.json"), append(b, '\n'))
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
