package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// A blob store's bytes may not seek (an S3 object body is a stream), but
// the front ends serve Range and conditional requests with
// http.ServeContent, which seeks. seekingBlob gives any store's blob a
// Seek: the size comes from the metadata, and a read at a position the
// open body is not at reopens the blob there (Open's offset, an S3 ranged
// GET). The front ends open at the start of the range they were asked for,
// so a single-range request costs one Open, the one that was made anyway.

// seekable returns rc as an io.ReadSeekCloser: itself when it seeks (a
// file, which keeps net/http's sendfile), else a seekingBlob of l at offset.
func (r *Registry) seekable(ctx context.Context, l Layer, offset int64, rc io.ReadCloser) io.ReadSeekCloser {
	if rs, ok := rc.(io.ReadSeekCloser); ok {
		return rs
	}
	return &seekingBlob{ctx: ctx, blobs: r.blobs, d: l.Digest, size: l.Size, pos: offset, body: rc, bodyAt: offset}
}

type seekingBlob struct {
	ctx   context.Context
	blobs BlobStore
	d     Digest
	size  int64
	// pos is where the next Read reads; body, when set, is open at bodyAt.
	pos, bodyAt int64
	body        io.ReadCloser
}

func (b *seekingBlob) Read(p []byte) (int, error) {
	if b.pos >= b.size {
		return 0, io.EOF
	}
	if b.body == nil || b.bodyAt != b.pos {
		if b.body != nil {
			b.body.Close()
			b.body = nil
		}
		body, err := b.blobs.Open(b.ctx, b.d, b.pos)
		if err != nil {
			return 0, err
		}
		b.body, b.bodyAt = body, b.pos
	}
	n, err := b.body.Read(p)
	b.pos += int64(n)
	b.bodyAt += int64(n)
	if errors.Is(err, io.EOF) && b.pos < b.size {
		// The store ended the body before the metadata's size: a cut-off
		// answer, never the blob's end.
		return n, fmt.Errorf("blob %s: %w after %d of %d bytes", b.d, io.ErrUnexpectedEOF, b.pos, b.size)
	}
	return n, err
}

func (b *seekingBlob) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += b.size
	default:
		return b.pos, fmt.Errorf("blob %s: seek whence %d", b.d, whence)
	}
	if offset < 0 {
		return b.pos, fmt.Errorf("blob %s: seek to %d, before the start", b.d, offset)
	}
	b.pos = offset
	return offset, nil
}

func (b *seekingBlob) Close() error {
	if b.body == nil {
		return nil
	}
	err := b.body.Close()
	b.body = nil
	return err
}
