package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ecrd/ecrd/internal/registry"
)

// WriteUploadPart writes r into upload id from offset on, as S3 parts of
// 5 MiB or more or, when fewer than 5 MiB are pending, as a pending chunk
// (see the package doc). A body of declared length
// (registry.DeclaredLength) is streamed into one request (stream.go);
// any other is read into a 20 MiB buffer, because S3 needs each request's
// length before it is sent. The part number is not needed: parts are
// placed by offset. Every request has returned when it does, so the bytes
// are durable. S3's failures are registry.StorageErrors; the body's own
// errors are returned as they are.
func (s *Store) WriteUploadPart(ctx context.Context, id registry.UploadID, part int, offset int64, r io.Reader) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("write upload %s part %d: %w", id, part, err)
	}
	if part < 0 || offset < 0 {
		return 0, fmt.Errorf("write upload %s: invalid part %d at offset %d", id, part, offset)
	}
	key, err := s.uploadKey(id)
	if err != nil {
		return 0, err
	}
	l, err := s.locate(ctx, key, offset, true)
	if err != nil {
		return 0, s.storageError(ctx, fmt.Errorf("write upload %s part %d: %w", id, part, err))
	}
	body := &bodyReader{r: ctxReader{ctx, r}}
	var n int64
	if d, ok := r.(registry.DeclaredLength); ok && d.DeclaredLength() >= 0 && l.tailSize()+d.DeclaredLength() <= maxPart {
		n, err = s.stream(ctx, l, offset, body, d.DeclaredLength())
	} else {
		buf := s.bufs.Get().(*[]byte)
		defer s.bufs.Put(buf)
		w := &partWriter{s: s, l: l, buf: *buf}
		n, err = w.write(ctx, body, offset)
	}
	switch {
	case body.err != nil:
		return n, fmt.Errorf("write upload %s part %d: %w", id, part, body.err)
	case err != nil:
		return n, s.storageError(ctx, fmt.Errorf("write upload %s part %d: %w", id, part, err))
	}
	return n, nil
}

// partWriter sends one part's bytes after the layout l of the bytes before.
type partWriter struct {
	s   *Store
	l   layout
	buf []byte
	// loaded says the pending tail has been read into buf[:tail].
	loaded bool
}

// write reads r into the buffer behind the pending tail's room, sending
// flushPart bytes as an S3 part whenever the buffer fills, and the rest as
// a last S3 part or, under minPart, as the pending chunk at offset.
func (w *partWriter) write(ctx context.Context, r io.Reader, offset int64) (int64, error) {
	tail := int(w.l.tailSize())
	fill, n := tail, int64(0)
	for {
		m, err := io.ReadFull(r, w.buf[fill:])
		fill += m
		n += int64(m)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return n, err
		}
		// Full, and the stream may go on: send the first flushPart bytes
		// and keep the rest, so that the last part is never small.
		if err := w.send(ctx, w.buf[:flushPart]); err != nil {
			return n, err
		}
		fill = copy(w.buf, w.buf[flushPart:fill])
	}
	if fill >= minPart {
		return n, w.send(ctx, w.buf[:fill])
	}
	if n == 0 {
		// Nothing to store; a stale chunk at offset is past the bytes
		// that count and will be overwritten by the next part.
		return 0, nil
	}
	_, err := w.s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: &w.s.bucket, Key: aws.String(pendingKey(w.l.key, offset)),
		Body: bytes.NewReader(w.buf[tail:fill]), ContentLength: aws.Int64(int64(fill - tail)),
	})
	if err != nil {
		return 0, fmt.Errorf("put pending chunk: %w", err)
	}
	return n, nil
}

// send uploads b as the next S3 part, first reading the pending tail into
// the head of the buffer and creating the multipart upload if needed.
func (w *partWriter) send(ctx context.Context, b []byte) error {
	if !w.loaded {
		if err := w.s.readChunks(ctx, w.l.tail, w.buf); err != nil {
			return err
		}
		w.l.tail, w.loaded = nil, true
	}
	if w.l.mpu == "" {
		out, err := w.s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &w.s.bucket, Key: &w.l.key})
		if err != nil {
			return fmt.Errorf("create multipart upload: %w", err)
		}
		w.l.mpu = aws.ToString(out.UploadId)
	}
	num := int32(len(w.l.parts) + 1)
	out, err := w.s.client.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket: &w.s.bucket, Key: &w.l.key, UploadId: &w.l.mpu, PartNumber: &num,
		Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b))),
	})
	if err != nil {
		return fmt.Errorf("upload part %d: %w", num, err)
	}
	w.l.parts = append(w.l.parts, s3Part{num: num, etag: aws.ToString(out.ETag), size: int64(len(b))})
	return nil
}

// readChunks reads the chunks, which follow one another, into buf, up to
// len(buf) bytes.
func (s *Store) readChunks(ctx context.Context, chunks []chunk, buf []byte) error {
	at := 0
	for _, c := range chunks {
		if at >= len(buf) {
			return nil
		}
		out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(c.key)})
		if notFound(err) {
			return fmt.Errorf("pending chunk at %d: %w", c.off, registry.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read pending chunk at %d: %w", c.off, err)
		}
		want := min(int(c.size), len(buf)-at)
		m, err := io.ReadFull(out.Body, buf[at:at+want])
		out.Body.Close()
		if err != nil {
			return fmt.Errorf("read pending chunk at %d: %d of %d bytes: %w", c.off, m, want, err)
		}
		at += m
	}
	return nil
}

// ctxReader fails reads once its context is done, so that a canceled
// request stops within one read.
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

// DeleteUpload aborts upload id's multipart uploads and deletes its
// objects; an unknown upload is not an error. It ignores ctx's
// cancellation: cleanup often runs once a request's context is done.
func (s *Store) DeleteUpload(ctx context.Context, id registry.UploadID) error {
	key, err := s.uploadKey(id)
	if err != nil {
		return err
	}
	if err := s.discard(context.WithoutCancel(ctx), key); err != nil {
		return s.storageError(context.WithoutCancel(ctx), fmt.Errorf("delete upload %s: %w", id, err))
	}
	return nil
}

// discard removes everything of the upload at key: its multipart uploads,
// its assembled object and its pending chunks.
func (s *Store) discard(ctx context.Context, key string) error {
	mpus, err := s.multipartUploads(ctx, key)
	if err != nil {
		return err
	}
	for _, mpu := range mpus {
		_, err := s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: aws.String(mpu)})
		if err != nil && !notFound(err) {
			return fmt.Errorf("abort multipart upload: %w", err)
		}
	}
	in := &awss3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(uploadDir(key))}
	for {
		out, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			return fmt.Errorf("list upload objects: %w", err)
		}
		if len(out.Contents) > 0 {
			ids := make([]types.ObjectIdentifier, len(out.Contents))
			for i, o := range out.Contents {
				ids[i] = types.ObjectIdentifier{Key: o.Key}
			}
			if err := s.deleteObjects(ctx, ids); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// deleteObjects deletes up to 1,000 objects in one request; missing ones
// are not an error.
func (s *Store) deleteObjects(ctx context.Context, ids []types.ObjectIdentifier) error {
	out, err := s.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
		Bucket: &s.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("delete objects: %w", err)
	}
	for _, e := range out.Errors {
		if aws.ToString(e.Code) != "NoSuchKey" {
			return fmt.Errorf("delete %s: %s: %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	return nil
}
