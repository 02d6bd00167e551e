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

// dataFile is the name of the one file holding an upload's bytes. Parts are
// written into it at their offsets, so committing is a truncate and a rename
// with no concatenation.
const dataFile = "data"

// WriteUploadPart streams r into upload id's data file at offset, through a
// pooled buffer, and fsyncs the file before returning. The part number is
// not needed here: parts are placed by offset. A failed write may leave
// bytes at and past offset; a later write of the part overwrites them, and
// CommitUpload cuts off any that lie past the upload's size.
func (s *Store) WriteUploadPart(ctx context.Context, id registry.UploadID, part int, offset int64, r io.Reader) (n int64, err error) {
	defer func() { err = s.storageError(err) }()
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("write upload %s part %d: %w", id, part, err)
	}
	if part < 0 || offset < 0 {
		return 0, fmt.Errorf("write upload %s: invalid part %d at offset %d", id, part, offset)
	}
	dir, err := s.uploadDir(id)
	if err != nil {
		return 0, err
	}
	f, created, err := s.openData(dir)
	if err != nil {
		return 0, fmt.Errorf("write upload %s part %d: %w", id, part, err)
	}
	if err := checkContinues(f, offset); err != nil {
		f.Close()
		if created {
			_ = s.removeUpload(dir)
		}
		return 0, fmt.Errorf("write upload %s part %d: %w", id, part, err)
	}
	n, err = s.copyAt(ctx, f, offset, r)
	if err == nil {
		// fsync before acknowledging. An fsync error fails the write: the
		// kernel may have dropped the pages, so a later fsync could succeed
		// falsely (fsyncgate); a retry of the part rewrites the bytes.
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err == nil && created {
		// The data file and, for a new upload, its directory must survive
		// a power loss along with the bytes.
		err = errors.Join(syncDir(dir), syncDir(s.uploads))
	}
	if err != nil {
		return n, fmt.Errorf("write upload %s part %d: %w", id, part, err)
	}
	return n, nil
}

// checkContinues refuses a write at offset unless the data file already
// holds offset bytes. Writing past the end would leave a hole of zeros in
// place of parts whose bytes are gone (an upload already committed,
// expired or deleted), and a later commit would store the zeros under the
// digest of the real bytes.
func checkContinues(f *os.File, offset int64) error {
	if offset == 0 {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < offset {
		return fmt.Errorf("the upload holds %d bytes, fewer than the offset %d: its earlier parts are gone: %w", fi.Size(), offset, registry.ErrNotFound)
	}
	return nil
}

// openData opens an upload's data file for writing, creating the upload
// directory and file on the first part, and reports whether it created them.
func (s *Store) openData(dir string) (f *os.File, created bool, err error) {
	name := filepath.Join(dir, dataFile)
	f, err = os.OpenFile(name, os.O_WRONLY, 0)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return f, false, err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, false, err
	}
	f, err = os.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o644)
	return f, err == nil, err
}

// copyAt copies r to f from offset on, checking ctx before every read so
// that a canceled request stops within one buffer.
func (s *Store) copyAt(ctx context.Context, f *os.File, offset int64, r io.Reader) (int64, error) {
	buf := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(buf)
	// Neither ctxReader nor writeBehind implements WriterTo or ReaderFrom,
	// so CopyBuffer really uses buf and never reads a whole part at once.
	w := &writeBehind{f: f, off: offset, flushed: offset}
	return io.CopyBuffer(w, ctxReader{ctx, r}, *buf)
}

// writeBehindChunk is how many written bytes start their writeback at once.
const writeBehindChunk = 8 << 20

// writeBehind writes at increasing offsets of f and starts the disk
// writing each chunk as soon as it is complete (startWriteback).
type writeBehind struct {
	f       *os.File
	off     int64 // where the next write goes
	flushed int64 // the offset up to which writeback has been started
}

func (w *writeBehind) Write(p []byte) (int, error) {
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	if w.off-w.flushed >= writeBehindChunk {
		startWriteback(w.f, w.flushed, w.off-w.flushed)
		w.flushed = w.off
	}
	return n, err
}

// ctxReader fails reads once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// CommitUpload turns the first size bytes of upload id into blob d. The
// order is crash-safe: truncate and fsync the data file, rename it to the
// blob's path, fsync the blob's directory, and only then remove the upload.
// A crash at any point leaves either the upload or the complete blob (or
// both, the upload then being an orphan the stale-upload purge removes).
// The blob's existence is checked first, so a commit retried after a
// partial failure succeeds. parts is not needed: the data file already
// holds the parts in order.
func (s *Store) CommitUpload(ctx context.Context, id registry.UploadID, parts int, size int64, d registry.Digest) (err error) {
	defer func() { err = s.storageError(err) }()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("commit upload %s: %w", id, err)
	}
	dir, err := s.uploadDir(id)
	if err != nil {
		return err
	}
	blob, err := s.blobPath(d)
	if err != nil {
		return err
	}
	if err := s.commit(filepath.Join(dir, dataFile), blob, size); err != nil {
		return fmt.Errorf("commit upload %s as %s: %w", id, d, err)
	}
	// The directory is empty now, its data renamed into the blob (whose
	// directory's fsync made the rename durable): a power loss can bring
	// back at most an empty directory, no bytes, so its removal is not
	// worth an fsync of uploads/ on every push of a blob.
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove upload: %w", err)
	}
	return nil
}

// commit moves the first size bytes of data to blob, unless blob exists.
func (s *Store) commit(data, blob string, size int64) error {
	parent := filepath.Dir(blob)
	if fi, err := os.Lstat(blob); err == nil && fi.Size() == size {
		// Content-addressed: the existing blob has the same bytes. Its
		// directory is synced all the same, because a concurrent commit
		// may have renamed it into place without having synced yet, and
		// this caller is about to acknowledge the blob.
		return syncDir(parent)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	// Missing, or of the wrong size (damaged): the verified upload takes
	// its place.
	f, err := os.OpenFile(data, os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) && size == 0 {
		// An upload that received no bytes makes the empty blob, which
		// OCI clients push (an empty config, for one).
		if err := os.MkdirAll(filepath.Dir(data), 0o755); err != nil {
			return err
		}
		f, err = os.OpenFile(data, os.O_CREATE|os.O_WRONLY, 0o644)
	}
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("upload data: %w", registry.ErrNotFound)
	}
	if err != nil {
		return err
	}
	defer f.Close() // a second Close after the explicit one is harmless
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if size < 0 || size > fi.Size() {
		// Truncate would pad with zeros: a blob must hold only bytes that
		// were written.
		return fmt.Errorf("the upload holds %d bytes, cannot commit %d", fi.Size(), size)
	}
	// Every part was fsynced as it was written (WriteUploadPart), so a
	// data file of exactly size bytes is on disk already; only one with
	// bytes of failed writes past them is cut and synced again.
	if fi.Size() != size || size == 0 {
		if err := f.Truncate(size); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := s.mkdirSynced(parent, s.blobs); err != nil {
		return err
	}
	// A concurrent commit of the same digest may rename over ours or we
	// over it; either way the name ends up holding the same bytes.
	if err := os.Rename(data, blob); err != nil {
		return err
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	// Made read-only only once renamed: a data file left read-only by a
	// failed rename could not be written or committed again. The mode is
	// a safeguard, not content, so it is not worth a second fsync.
	if err := f.Chmod(blobMode); err != nil {
		return err
	}
	return f.Close()
}

// DeleteUpload removes upload id's directory; a missing one is not an error.
// It ignores ctx: cleanup often runs once a request's context is done, and
// a removal is quick.
func (s *Store) DeleteUpload(ctx context.Context, id registry.UploadID) (err error) {
	defer func() { err = s.storageError(err) }()
	dir, err := s.uploadDir(id)
	if err != nil {
		return err
	}
	return s.removeUpload(dir)
}

// removeUpload removes an upload directory durably, so that a discarded
// upload cannot reappear after a power loss and occupy space unreferenced.
func (s *Store) removeUpload(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		// Gone already: removed durably, or by CommitUpload, after which
		// nothing that holds bytes can reappear.
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove upload: %w", err)
	}
	if err := syncDir(s.uploads); err != nil {
		return fmt.Errorf("remove upload: %w", err)
	}
	return nil
}
