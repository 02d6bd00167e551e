package s3

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ecrd/ecrd/internal/registry"
)

// Stat returns the size of blob d (HeadObject), or an error wrapping
// registry.ErrNotFound.
func (s *Store) Stat(ctx context.Context, d registry.Digest) (int64, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return 0, err
	}
	size, err := s.head(ctx, key)
	if err != nil {
		return 0, s.storageError(ctx, fmt.Errorf("blob %s: %w", d, err))
	}
	return size, nil
}

// head returns the size of the object at key, or an error wrapping
// registry.ErrNotFound.
func (s *Store) head(ctx context.Context, key string) (int64, error) {
	out, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if notFound(err) {
		return 0, registry.ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Open returns blob d from offset on: one GetObject, with a Range from
// offset when it is not 0. An offset equal to the size gives an empty
// reader (S3 refuses that range, so a HeadObject tells it from one past
// the end, which is an error). A missing blob gives an error wrapping
// registry.ErrNotFound.
func (s *Store) Open(ctx context.Context, d registry.Digest, offset int64) (io.ReadCloser, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("blob %s: negative offset %d", d, offset)
	}
	in := &awss3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	if offset > 0 {
		in.Range = aws.String("bytes=" + strconv.FormatInt(offset, 10) + "-")
	}
	out, err := s.client.GetObject(ctx, in)
	if invalidRange(err) {
		size, herr := s.head(ctx, key)
		switch {
		case herr != nil:
			return nil, s.storageError(ctx, fmt.Errorf("blob %s: %w", d, herr))
		case size == offset:
			return io.NopCloser(eofReader{}), nil
		}
		return nil, fmt.Errorf("blob %s: offset %d is outside the blob's %d bytes", d, offset, size)
	}
	if notFound(err) {
		return nil, fmt.Errorf("blob %s: %w", d, registry.ErrNotFound)
	}
	if err != nil {
		return nil, s.storageError(ctx, fmt.Errorf("blob %s: %w", d, err))
	}
	return out.Body, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Delete removes blob d (DeleteObject); a missing blob is not an error.
func (s *Store) Delete(ctx context.Context, d registry.Digest) error {
	key, err := s.blobKey(d)
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil && !notFound(err) {
		return s.storageError(ctx, fmt.Errorf("delete blob %s: %w", d, err))
	}
	return nil
}
