package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ecrd/ecrd/internal/registry"
)

// Stat returns the size of blob d, or an error wrapping registry.ErrNotFound.
func (s *Store) Stat(ctx context.Context, d registry.Digest) (size int64, err error) {
	defer func() { err = s.storageError(err) }()
	p, err := s.blobPath(d)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("blob %s: %w", d, registry.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", d, err)
	}
	return fi.Size(), nil
}

// Open returns blob d as an *os.File positioned at offset, so that net/http
// can serve it with sendfile. An offset equal to the size gives an empty
// reader; a larger or negative one is an error. A missing blob gives an
// error wrapping registry.ErrNotFound.
func (s *Store) Open(ctx context.Context, d registry.Digest, offset int64) (rc io.ReadCloser, err error) {
	defer func() { err = s.storageError(err) }()
	p, err := s.blobPath(d)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d, registry.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", d, err)
	}
	fi, err := f.Stat()
	if err == nil && (offset < 0 || offset > fi.Size()) {
		err = fmt.Errorf("offset %d is outside the blob's %d bytes", offset, fi.Size())
	}
	if err == nil {
		_, err = f.Seek(offset, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob %s: %w", d, err)
	}
	return f, nil
}

// Delete removes blob d and fsyncs its directory; a missing blob is not an
// error. The empty fan-out directory is kept: removing it would race with a
// concurrent commit that has just created it.
func (s *Store) Delete(ctx context.Context, d registry.Digest) (err error) {
	defer func() { err = s.storageError(err) }()
	p, err := s.blobPath(d)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	return nil
}
