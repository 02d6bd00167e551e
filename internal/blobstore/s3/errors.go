package s3

import (
	"context"
	"errors"
	"io"

	"github.com/aws/smithy-go"

	"github.com/ecrd/ecrd/internal/registry"
)

// storageError names a failed S3 request as the store's failure
// (registry.StorageError), so that a client is told the blob store failed
// rather than given an unmapped 500, the metrics count it
// (ecrd_storage_errors_total{kind="io"}) and the log says it once per
// episode, with S3's own words (SlowDown, InternalError, AccessDenied, a
// refused connection, a timeout). These stay as they are:
//   - nil, and errors that are already a StorageError;
//   - registry.ErrNotFound: a missing key, which each method has already
//     turned into the absence of a blob or upload;
//   - errors of no S3 request: an invalid digest, a negative offset, the
//     client's body failing (see bodyReader);
//   - anything once ctx is done: the caller gave up or ran out of time,
//     and S3 did not fail. A timeout of S3's own (the HTTP client's, or
//     the SDK's attempt timeout) leaves ctx alive and is S3's failure.
func (s *Store) storageError(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, registry.ErrNotFound) || ctx.Err() != nil {
		return err
	}
	if _, ok := registry.AsStorageError(err); ok {
		return err
	}
	var op *smithy.OperationError
	if !errors.As(err, &op) {
		return err
	}
	return s.failure(err)
}

// presignError is storageError for presigning, which sends nothing: any
// failure (credentials that cannot be had, for one) is the store's.
func (s *Store) presignError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	return s.failure(err)
}

// failure is err as the blob store's I/O failure.
func (s *Store) failure(err error) error {
	return &registry.StorageError{Kind: registry.StorageIO, Store: "blob store", Path: s.where(), Free: -1, Err: err}
}

// where names the bucket and prefix for the log, never credentials.
func (s *Store) where() string { return "s3://" + s.bucket + "/" + s.prefix }

// bodyReader counts the bytes read from the client's body and remembers
// the error it failed with, so that a part whose S3 request failed because
// the client's bytes stopped coming (a closed connection, a body over its
// limit, a lapsed lease) returns that error, which the front ends map,
// rather than the request failure it caused.
type bodyReader struct {
	r   io.Reader
	n   int64
	eof bool // the body ended (io.EOF)
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
	return n, err
}
