// Package diskerr recognises storage failures among the errors a store's
// file system calls return (a full disk, an I/O error, a read-only file
// system) and wraps them as registry.StorageError, with the path and the
// free space, so that the core and the front ends can name the cause.
package diskerr

import (
	"errors"
	"syscall"

	"github.com/ecrd/ecrd/internal/registry"
)

// Wrap returns err as a *registry.StorageError when its chain holds an
// errno that means the storage failed; any other error (nil included) is
// returned as it is. store names the store for people; path is where it
// writes, whose free space the error reports.
func Wrap(err error, store, path string) error {
	var errno syscall.Errno
	if err == nil || !errors.As(err, &errno) {
		return err
	}
	if _, already := registry.AsStorageError(err); already {
		return err
	}
	switch errno {
	case syscall.ENOSPC, syscall.EDQUOT:
		return New(registry.StorageFull, err, store, path)
	case syscall.EIO, syscall.EROFS:
		return New(registry.StorageIO, err, store, path)
	}
	return err
}

// New wraps err as a storage failure of kind, for stores that learn it by
// other means than an errno (a database's own result codes).
func New(kind registry.StorageKind, err error, store, path string) error {
	return &registry.StorageError{Kind: kind, Store: store, Path: path, Free: Free(path), Err: err}
}
