package s3

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ecrd/ecrd/internal/registry"
)

// stream sends a part whose length n is declared up front straight from
// the client's body, without the buffer: as the pending chunk at offset
// when the pending tail and it make fewer than 5 MiB, else as one S3 part
// of the pending chunks (read back as the request goes) and the body. It
// returns the bytes read from body. A body that ends early fails the
// request, so nothing is written, and gives no error: the core refuses a
// part shorter than declared (registry.DeclaredLength).
//
// The request's payload is UNSIGNED-PAYLOAD: SigV4 over HTTP would hash
// the body before sending it, which is the buffering this avoids. Over
// HTTPS, TLS protects the bytes in transit; over plain HTTP (a private
// network), only TCP's checksums do. The registry verifies every digest
// over the client's bytes either way. Nor can the SDK retry the request
// (on SlowDown, say): the body cannot be rewound. The failure is the
// client's to retry, as AWS SDKs and registry clients do with a 5xx; a
// buffered part would be retried by the SDK, at the price of the copy.
func (s *Store) stream(ctx context.Context, l layout, offset int64, body *bodyReader, n int64) (int64, error) {
	if n == 0 {
		return 0, nil // as in partWriter.write
	}
	tail := l.tailSize()
	if tail+n < minPart {
		_, err := s.client.PutObject(ctx, &awss3.PutObjectInput{
			Bucket: &s.bucket, Key: aws.String(pendingKey(l.key, offset)),
			Body: body, ContentLength: aws.Int64(n),
		}, unsignedPayload)
		return s.streamed(body, n, err, "put pending chunk")
	}
	if l.mpu == "" {
		out, err := s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &l.key})
		if err != nil {
			return 0, fmt.Errorf("create multipart upload: %w", err)
		}
		l.mpu = aws.ToString(out.UploadId)
	}
	num := int32(len(l.parts) + 1)
	chunks := &chunkReader{s: s, ctx: ctx, chunks: l.tail}
	_, err := s.client.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket: &s.bucket, Key: &l.key, UploadId: &l.mpu, PartNumber: &num,
		Body: io.MultiReader(chunks, body), ContentLength: aws.Int64(tail + n),
	}, unsignedPayload)
	if err != nil && chunks.err != nil {
		// The pending chunks failed, not S3's write or the client.
		return 0, fmt.Errorf("upload part %d: %w", num, chunks.err)
	}
	return s.streamed(body, n, err, fmt.Sprintf("upload part %d", num))
}

// streamed is the outcome of a request that sent body's n bytes: a body
// that ended before them is reported as its count, with no error,
// whatever the request made of it. A request that failed before reading
// the body to its end is S3's failure, not a short body.
func (s *Store) streamed(body *bodyReader, n int64, err error, what string) (int64, error) {
	if body.eof && body.n < n {
		return body.n, nil
	}
	if err != nil {
		return body.n, fmt.Errorf("%s: %w", what, err)
	}
	return body.n, nil
}

// unsignedPayload makes a request's payload UNSIGNED-PAYLOAD (see stream).
func unsignedPayload(o *awss3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// chunkReader reads pending chunks one after another, each opened when
// the one before it ends, so that a tail of many small chunks holds one
// connection at a time. Each must hold the bytes its listing said.
type chunkReader struct {
	s      *Store
	ctx    context.Context
	chunks []chunk
	cur    io.ReadCloser
	left   int64 // bytes of the current chunk not yet read
	err    error // the first failure, for stream's error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.err == nil {
		if c.cur == nil {
			if len(c.chunks) == 0 {
				return 0, io.EOF
			}
			ch := c.chunks[0]
			out, err := c.s.client.GetObject(c.ctx, &awss3.GetObjectInput{Bucket: &c.s.bucket, Key: aws.String(ch.key)})
			switch {
			case notFound(err):
				c.err = fmt.Errorf("pending chunk at %d: %w", ch.off, registry.ErrNotFound)
			case err != nil:
				c.err = fmt.Errorf("read pending chunk at %d: %w", ch.off, err)
			default:
				c.cur, c.left = out.Body, ch.size
			}
			continue
		}
		if c.left == 0 {
			c.cur.Close()
			c.cur, c.chunks = nil, c.chunks[1:]
			continue
		}
		m, err := c.cur.Read(p[:min(int64(len(p)), c.left)])
		c.left -= int64(m)
		if err == io.EOF && c.left > 0 {
			err = fmt.Errorf("pending chunk at %d: %d bytes short: %w", c.chunks[0].off, c.left, io.ErrUnexpectedEOF)
		} else if err == io.EOF {
			err = nil
		}
		if err != nil {
			c.cur.Close()
			c.err = fmt.Errorf("read pending chunk at %d: %w", c.chunks[0].off, err)
		}
		if m > 0 {
			return m, nil
		}
	}
	return 0, c.err
}
