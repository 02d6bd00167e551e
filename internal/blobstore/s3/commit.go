package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ecrd/ecrd/internal/registry"
)

// CommitUpload makes the first size bytes of upload id the blob d, as the
// package doc describes: the upload is assembled at its own key and copied
// to the digest's, so that the digest's key never holds a partial object.
// A blob that exists already is kept and the upload discarded; a commit
// retried after a failure finds the assembled object, or the blob, in
// place. parts is not needed: the bucket tells where the bytes are.
func (s *Store) CommitUpload(ctx context.Context, id registry.UploadID, parts int, size int64, d registry.Digest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("commit upload %s: %w", id, err)
	}
	key, err := s.uploadKey(id)
	if err != nil {
		return err
	}
	blob, err := s.blobKey(d)
	if err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("commit upload %s: negative size %d", id, size)
	}
	if err := s.commit(ctx, key, blob, size); err != nil {
		return s.storageError(ctx, fmt.Errorf("commit upload %s as %s: %w", id, d, err))
	}
	// The blob is in place: the cleanup must not depend on the client
	// staying, and a failed one is harmless (DeleteUpload or a lifecycle
	// rule removes the rest), so it does not fail the commit.
	_ = s.discard(context.WithoutCancel(ctx), key)
	return nil
}

// commit puts the first size bytes of the upload at key under blob,
// unless blob exists.
func (s *Store) commit(ctx context.Context, key, blob string, size int64) error {
	if _, err := s.head(ctx, blob); err == nil {
		// Content-addressed: the existing blob has the same bytes.
		return nil
	} else if !errors.Is(err, registry.ErrNotFound) {
		return err
	}
	if size == 0 {
		// An upload that received no bytes makes the empty blob, which
		// OCI clients push (an empty config, for one).
		return s.put(ctx, blob, nil)
	}
	l, err := s.locate(ctx, key, size, false)
	if errors.Is(err, registry.ErrNotFound) && l.mpu == "" {
		// A commit that failed after assembling the upload left it at key.
		if n, herr := s.head(ctx, key); herr == nil && n >= size {
			return s.copy(ctx, key, n, blob, size)
		}
	}
	if err != nil {
		return err
	}
	if len(l.parts) == 0 {
		return s.commitSmall(ctx, l, blob, size)
	}
	completed := l.parts
	if need := size - l.base; need > 0 {
		p, err := s.tailPart(ctx, l, need)
		if err != nil {
			return err
		}
		completed = append(completed, p)
	}
	list := make([]types.CompletedPart, len(completed))
	var total int64
	for i, p := range completed {
		list[i] = types.CompletedPart{PartNumber: aws.Int32(p.num), ETag: aws.String(p.etag)}
		total += p.size
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, UploadId: &l.mpu,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: list},
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return s.copy(ctx, key, total, blob, size)
}

// commitSmall commits an upload that is all pending chunks, under 5 MiB:
// one chunk of the right size is copied, several are read and written
// whole (PutObject, which S3 stores whole or not at all).
func (s *Store) commitSmall(ctx context.Context, l layout, blob string, size int64) error {
	if len(l.tail) == 1 && l.tail[0].size == size {
		return s.copy(ctx, l.tail[0].key, size, blob, size)
	}
	buf := make([]byte, size)
	if err := s.readChunks(ctx, l.tail, buf); err != nil {
		return err
	}
	return s.put(ctx, blob, buf)
}

// tailPart makes the first need bytes of the pending tail the next S3
// part: by UploadPartCopy from one chunk, else read and uploaded.
func (s *Store) tailPart(ctx context.Context, l layout, need int64) (s3Part, error) {
	num := int32(len(l.parts) + 1)
	if len(l.tail) == 1 {
		out, err := s.client.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{
			Bucket: &s.bucket, Key: &l.key, UploadId: &l.mpu, PartNumber: &num,
			CopySource:      aws.String(s.copySource(l.tail[0].key)),
			CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", need-1)),
		})
		if err != nil {
			return s3Part{}, fmt.Errorf("copy pending chunk to part %d: %w", num, err)
		}
		return s3Part{num: num, etag: aws.ToString(out.CopyPartResult.ETag), size: need}, nil
	}
	buf := make([]byte, need)
	if err := s.readChunks(ctx, l.tail, buf); err != nil {
		return s3Part{}, err
	}
	out, err := s.client.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket: &s.bucket, Key: &l.key, UploadId: &l.mpu, PartNumber: &num,
		Body: bytes.NewReader(buf), ContentLength: aws.Int64(need),
	})
	if err != nil {
		return s3Part{}, fmt.Errorf("upload part %d: %w", num, err)
	}
	return s3Part{num: num, etag: aws.ToString(out.ETag), size: need}, nil
}

// copy copies the first size bytes of the object src, which holds srcSize,
// to dst: one CopyObject when that is the whole object and CopyObject can
// (5 GiB), else a multipart upload of UploadPartCopy ranges, which dst
// shows only once complete.
func (s *Store) copy(ctx context.Context, src string, srcSize int64, dst string, size int64) error {
	if size > srcSize {
		return fmt.Errorf("the upload holds %d bytes, cannot commit %d", srcSize, size)
	}
	if size == srcSize && size <= maxCopy {
		_, err := s.client.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: &s.bucket, Key: &dst, CopySource: aws.String(s.copySource(src))})
		if err != nil {
			return fmt.Errorf("copy to %s: %w", dst, err)
		}
		return nil
	}
	out, err := s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &dst})
	if err != nil {
		return fmt.Errorf("create multipart copy to %s: %w", dst, err)
	}
	mpu := out.UploadId
	var parts []types.CompletedPart
	for off, num := int64(0), int32(1); off < size; off, num = off+maxCopy, num+1 {
		last := min(off+maxCopy, size) - 1
		p, err := s.client.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{
			Bucket: &s.bucket, Key: &dst, UploadId: mpu, PartNumber: aws.Int32(num),
			CopySource:      aws.String(s.copySource(src)),
			CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, last)),
		})
		if err == nil {
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: p.CopyPartResult.ETag})
			continue
		}
		_, _ = s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &awss3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &dst, UploadId: mpu})
		return fmt.Errorf("copy bytes %d-%d to %s: %w", off, last, dst, err)
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &dst, UploadId: mpu,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		_, _ = s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &awss3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &dst, UploadId: mpu})
		return fmt.Errorf("complete multipart copy to %s: %w", dst, err)
	}
	return nil
}

// put writes b as the object at key, whole.
func (s *Store) put(ctx context.Context, key string, b []byte) error {
	_, err := s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b))),
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// copySource names the object at key as CopyObject's source: bucket/key,
// the key URL-escaped.
func (s *Store) copySource(key string) string {
	return s.bucket + "/" + (&url.URL{Path: key}).EscapedPath()
}
