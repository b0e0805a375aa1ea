package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrLocked means another process is writing the store.
var ErrLocked = errors.New("store is locked by another writer")

// lockName is the lock file in the store directory.
const lockName = ".lock"

// Lock takes the store's writer lock, or fails at once with ErrLocked and
// a message naming the holder: two ingests into one store at once left a
// manifest counting 64k records beside parts holding 120k. Holding it, the
// manifest is read again, so this writer starts from what the previous
// one left. The returned func releases it (after writing the manifest).
// The lock is released by the kernel if the process dies.
func (s *Store) Lock() (unlock func() error, err error) {
	path := filepath.Join(s.Dir, lockName)
	f, err := lockFile(path)
	if errors.Is(err, ErrLocked) {
		holder, _ := os.ReadFile(path + ".owner")
		who := strings.TrimSpace(string(holder))
		if who == "" {
			who = "another spoor process"
		}
		return nil, fmt.Errorf("%w: %s is writing %s; wait for it to finish, or use another --store", ErrLocked, who, s.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", s.Dir, err)
	}
	_ = os.WriteFile(path+".owner", []byte(fmt.Sprintf("pid %d (since %s)\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))), 0o644)
	m, err := readManifest(filepath.Join(s.Dir, "manifest.json"))
	if err != nil {
		f.release()
		return nil, err
	}
	s.mu.Lock()
	s.setManifest(m)
	s.dirty, s.bumped = false, false
	s.mu.Unlock()
	return func() error {
		ferr := s.FlushManifest()
		os.Remove(path + ".owner")
		if err := f.release(); ferr == nil {
			ferr = err
		}
		return ferr
	}, nil
}
