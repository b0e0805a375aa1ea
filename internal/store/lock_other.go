//go:build !unix

package store

import (
	"errors"
	"os"
)

// heldLock is the portable fallback: a file created exclusively. Unlike
// flock it outlives a killed process; the message then names the pid that
// held it, and removing STORE/.lock.held frees the store.
type heldLock struct{ path string }

func lockFile(path string) (*heldLock, error) {
	p := path + ".held"
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, err
	}
	f.Close()
	return &heldLock{path: p}, nil
}

func (l *heldLock) release() error { return os.Remove(l.path) }
