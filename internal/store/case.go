package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// caseFile is the store's copy of the case file: the store remembers the
// case it was ingested and hunted under, so later commands need no --case.
const caseFile = "case.yaml"

// CaseEntry is the manifest's record of the stored case file.
type CaseEntry struct {
	Source string `json:"source"` // the file it was copied from
	SHA256 string `json:"sha256"`
}

// CaseSHA256 is the content hash the manifest records for a case file.
func CaseSHA256(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// SaveCase stores data as the case file (copied from source) and records
// its hash in the manifest. It returns the entry it replaced (nil if the
// store had no case).
func (s *Store) SaveCase(source string, data []byte) (*CaseEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := writeFileAtomic(filepath.Join(s.Dir, caseFile), data); err != nil {
		return nil, err
	}
	old := s.manifest.Case
	s.manifest.Case = &CaseEntry{Source: source, SHA256: CaseSHA256(data)}
	if err := s.writeManifest(); err != nil {
		s.manifest.Case = old
		return nil, err
	}
	return old, nil
}

// Case returns the stored case file and its manifest entry; ok is false
// when the store has none. A copy whose hash differs from the manifest's
// is an error: it was changed behind the store's back.
func (s *Store) Case() (data []byte, entry CaseEntry, ok bool, err error) {
	s.mu.Lock()
	ce := s.manifest.Case
	s.mu.Unlock()
	if ce == nil {
		return nil, CaseEntry{}, false, nil
	}
	path := filepath.Join(s.Dir, caseFile)
	data, err = os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, *ce, false, fmt.Errorf("%s: missing, but the manifest records case %s (give --case again)", path, ce.SHA256)
	}
	if err != nil {
		return nil, *ce, false, err
	}
	if got := CaseSHA256(data); got != ce.SHA256 {
		return nil, *ce, false, fmt.Errorf("%s: sha256 %s, but the manifest records %s (changed outside spoor; give --case to replace it)", path, got, ce.SHA256)
	}
	return data, *ce, true, nil
}

// CasePath is where the store keeps its case file.
func (s *Store) CasePath() string { return filepath.Join(s.Dir, caseFile) }
