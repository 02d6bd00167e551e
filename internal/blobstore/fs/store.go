// Package fs implements registry.BlobStore on a local filesystem.
//
// Everything lives under one root, so that committing an upload is a rename
// within one filesystem:
//
//	root/blobs/<alg>/<first two hex>/<hex>   committed blobs, read-only
//	root/uploads/<uploadID>/data             the bytes of an upload so far
//
// Every method that changes the tree fsyncs the files and directories it
// touched before returning, in the order of reliability.md section 2.1: file
// contents first, then the rename, then the directory holding the new name.
package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/ecrd/ecrd/internal/diskerr"
	"github.com/ecrd/ecrd/internal/registry"
)

// copyBufferSize is the size of the buffers that stream parts to disk: large
// enough that a 20 MiB ECR part takes few syscalls, small enough that many
// concurrent uploads cost little memory.
const copyBufferSize = 1 << 20

// blobMode is the mode of committed blobs. Read-only, because a blob's bytes
// are named by their digest and must never change in place: a stray
// os.OpenFile(..., O_WRONLY) on a blob then fails instead of corrupting it.
// Deleting still works, as removal needs only the directory to be writable.
const blobMode = 0o444

// Store is a registry.BlobStore on the local filesystem. It holds no state
// about blobs or uploads beyond the files themselves, so several Stores (or
// processes) may share a root; the caller's leases keep two writers off the
// same upload.
type Store struct {
	root    string
	blobs   string
	uploads string
	// bufs holds *[]byte of copyBufferSize, reused across part writes so
	// that a busy registry does not allocate a megabyte per request.
	bufs sync.Pool
	// durable records directories whose entry in their parent this
	// process has fsynced (see mkdirSynced).
	durable sync.Map
}

var _ registry.BlobStore = (*Store)(nil)

// Open returns a Store rooted at root, creating root, root/blobs and
// root/uploads if needed. It fails, naming the directory, when a directory
// cannot be created or written, so that a misconfigured data directory is
// reported at start-up rather than on the first push.
func Open(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("blob store: the root directory is empty")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("blob store %s: %w", root, err)
	}
	s := &Store{
		root:    abs,
		blobs:   filepath.Join(abs, "blobs"),
		uploads: filepath.Join(abs, "uploads"),
	}
	s.bufs.New = func() any { b := make([]byte, copyBufferSize); return &b }
	for _, dir := range []string{s.blobs, s.uploads} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("blob store: cannot create directory %s: %w", dir, err)
		}
		if err := checkWritable(dir); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// checkWritable creates and removes a file in dir. Permission bits alone do
// not answer the question (read-only mounts, ACLs, running as root).
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".writable-*")
	if err != nil {
		return fmt.Errorf("blob store: directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	err = errors.Join(f.Close(), os.Remove(name))
	if err != nil {
		return fmt.Errorf("blob store: directory %s is not writable: %w", dir, err)
	}
	return nil
}

// storageError names a full or failing disk as such (registry.StorageError),
// so that the client is told the cause and the log says it once.
func (s *Store) storageError(err error) error {
	return diskerr.Wrap(err, "blob store", s.root)
}

// blobPath returns where blob d lives. The digest is parsed again although
// its type says it was validated: a Digest can be converted from any
// string, and this is the one place where it becomes a path.
func (s *Store) blobPath(d registry.Digest) (string, error) {
	parsed, err := registry.ParseDigest(string(d))
	if err != nil || parsed != d {
		return "", fmt.Errorf("blob store: refusing invalid digest %q", string(d))
	}
	hex := d.Hex()
	return filepath.Join(s.blobs, d.Algorithm(), hex[:2], hex), nil
}

// uploadDir returns the directory of upload id, re-validated for the same
// reason as in blobPath. ParseUploadID folds case, so an ID that is not
// already lower case is refused: two spellings must not name one directory.
func (s *Store) uploadDir(id registry.UploadID) (string, error) {
	parsed, err := registry.ParseUploadID(string(id))
	if err != nil || parsed != id {
		return "", fmt.Errorf("blob store: refusing invalid upload ID %q", string(id))
	}
	return filepath.Join(s.uploads, string(id)), nil
}

// syncDir fsyncs a directory, making the creation, rename or removal of the
// names in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// mkdirSynced makes dir and any missing parents up to (not including)
// stop exist durably, fsyncing the parent of each: MkdirAll alone could
// leave a blob's new fan-out directory unrecorded after a power loss,
// taking the blob with it.
func (s *Store) mkdirSynced(dir, stop string) error {
	if dir == stop {
		return nil
	}
	if _, ok := s.durable.Load(dir); ok {
		return nil
	}
	parent := filepath.Dir(dir)
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	} else if err != nil {
		if err := s.mkdirSynced(parent, stop); err != nil {
			return err
		}
		// Another commit may create the same fan-out directory concurrently.
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	// Synced even when the directory already existed: a concurrent commit
	// may have created it without having synced its entry yet, and this
	// caller is about to acknowledge a blob inside it. Once per directory
	// per process.
	if err := syncDir(parent); err != nil {
		return err
	}
	s.durable.Store(dir, true)
	return nil
}

// Ping reports whether the blob directory is still there and a directory:
// what a readiness check can learn of a local disk without writing to it.
func (s *Store) Ping(ctx context.Context) error {
	fi, err := os.Stat(s.blobs)
	if err != nil {
		return fmt.Errorf("blob store: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("blob store: %s is not a directory", s.blobs)
	}
	return nil
}
