// Package instance tells the processes that share a data directory apart,
// and which of them still run: each holds an exclusive lock on a file of
// its own for as long as it runs, and the kernel drops the lock when the
// process dies, however it dies (kill -9 included). The core uses it to
// void the upload leases of a process that is gone (registry.Holders), so
// a restarted ecrd resumes them at once instead of waiting out a timeout.
//
// It serves processes on one machine over one directory (the embedded
// store); replicas on other machines need a liveness the shared store
// provides.
package instance

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ecrd/ecrd/internal/registry"
)

var _ registry.Holders = (*Dir)(nil)

// Dir is this process's entry in a directory of running processes.
type Dir struct {
	dir  string
	self string
	lock *os.File // held, locked, until Close
}

// Open registers this process in dir (created if missing) under a fresh
// random name and holds it until Close or the process's end.
func Open(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("instance directory %s: %w", dir, err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	self := hex.EncodeToString(b[:])
	// Locked under a temporary name, then renamed into place: a file with
	// a final name is always either locked by its live process or left by
	// a dead one, never a live process's not yet locked.
	tmp, err := os.CreateTemp(dir, ".new-*")
	if err != nil {
		return nil, fmt.Errorf("instance directory %s: %w", dir, err)
	}
	if err := lockExclusive(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("instance directory %s: locking: %w", dir, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, self+lockSuffix)); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("instance directory %s: %w", dir, err)
	}
	return &Dir{dir: dir, self: self, lock: tmp}, nil
}

const lockSuffix = ".lock"

// Self is this process's name.
func (d *Dir) Self() string { return d.self }

// Alive reports whether the process named id still holds its lock. A name
// with no file, or whose file nobody holds, is a process that has ended;
// its file is removed. Anything it cannot tell is answered alive.
func (d *Dir) Alive(id string) bool {
	if id == d.self {
		return true
	}
	if !validName(id) {
		// Not a name this package gives ("" for rows from before
		// holders were recorded): only the lease timeout can tell.
		return true
	}
	path := filepath.Join(d.dir, id+lockSuffix)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		return true
	}
	defer f.Close()
	free, err := tryLock(f)
	if err != nil || !free {
		return true
	}
	// Its process is gone; the file goes too (while still locked by us, so
	// that no other checker takes it for a live one meanwhile).
	_ = os.Remove(path)
	return false
}

// Close gives up this process's name.
func (d *Dir) Close() error {
	err := os.Remove(filepath.Join(d.dir, d.self+lockSuffix))
	return errors.Join(err, d.lock.Close())
}

// validName reports whether s is a name Open gives: 32 lower-case hex.
func validName(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
