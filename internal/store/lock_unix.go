//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

type heldLock struct{ f *os.File }

// lockFile takes an exclusive flock on path without waiting.
func lockFile(path string) (*heldLock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, err
	}
	return &heldLock{f: f}, nil
}

func (l *heldLock) release() error {
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	return l.f.Close()
}
