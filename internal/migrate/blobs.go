package migrate

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/ecrd/ecrd/internal/registry"
)

// copyBlobs copies the blobs the bucket lacks, o.Parallel at a time, and
// stops at the first failure. A blob the bucket holds already (an earlier
// run's) is skipped: the bucket is content-addressed, and its blobs were
// verified when they were written.
func copyBlobs(ctx context.Context, o Options, src *source, dst registry.BlobStore, blobs []sourceBlob, p *progress, sum *Summary) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan sourceBlob)
	var (
		wg sync.WaitGroup
		mu sync.Mutex // guards sum's copy counts and AfterBlob's order
	)
	for range o.Parallel {
		wg.Go(func() {
			for b := range work {
				copied, err := copyBlob(ctx, src.store, dst, b, p)
				if err == nil && copied {
					mu.Lock()
					sum.Copied++
					sum.CopiedBytes += b.size
					if o.AfterBlob != nil {
						err = o.AfterBlob(sum.Copied)
					}
					mu.Unlock()
				}
				if err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for _, b := range blobs {
		select {
		case work <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("copying blobs (the %d this run copied stay in the bucket: run again to resume): %w", sum.Copied, err)
	}
	return nil
}

// copyBlob streams blob b from src into dst through an upload, verifying
// its size and digest on the way: a blob whose bytes do not match its
// name is discarded, never committed. It reports whether it copied (false:
// dst had it).
func copyBlob(ctx context.Context, src, dst registry.BlobStore, b sourceBlob, p *progress) (bool, error) {
	size, err := dst.Stat(ctx, b.digest)
	switch {
	case err == nil && size == b.size:
		p.add(1, size)
		return false, nil
	case err == nil:
		return false, fmt.Errorf("blob %s: the bucket holds %d bytes under its digest, the data dir %d", b.digest, size, b.size)
	case !errors.Is(err, registry.ErrNotFound):
		return false, fmt.Errorf("blob %s: %w", b.digest, err)
	}
	h, err := hasher(b.digest)
	if err != nil {
		return false, err
	}
	rc, err := src.Open(ctx, b.digest, 0)
	if err != nil {
		return false, fmt.Errorf("blob %s in the data dir: %w", b.digest, err)
	}
	defer rc.Close()
	id := registry.NewUploadID()
	body := sized{Reader: io.TeeReader(rc, &counter{h: h, p: p}), n: b.size}
	n, err := dst.WriteUploadPart(ctx, id, 0, 0, body)
	if err == nil && n != b.size {
		err = fmt.Errorf("the data dir holds %d bytes, its record says %d", n, b.size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); err == nil && got != b.digest.Hex() {
		err = fmt.Errorf("the data dir's bytes hash to %s:%s: the blob is damaged", b.digest.Algorithm(), got)
	}
	if err == nil {
		err = dst.CommitUpload(ctx, id, 1, n, b.digest)
	}
	if err != nil {
		// The upload's parts are garbage either way; its removal failing
		// leaves them to the bucket's lifecycle, not the registry's.
		_ = dst.DeleteUpload(context.WithoutCancel(ctx), id)
		return false, fmt.Errorf("blob %s: %w", b.digest, err)
	}
	p.add(1, 0)
	return true, nil
}

// sized is a blob's bytes with the length its record gives. Its
// DeclaredLength method is registry.DeclaredLength's: the S3 store streams
// such a body in one request rather than through a part buffer. A source
// file of another length fails the copy either way.
type sized struct {
	io.Reader
	n int64
}

// DeclaredLength is the number of bytes the blob should hold.
func (s sized) DeclaredLength() int64 { return s.n }

// hasher returns the hash digest d is named by.
func hasher(d registry.Digest) (hash.Hash, error) {
	switch d.Algorithm() {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("blob %s: digest algorithm %s is not supported", d, d.Algorithm())
}

// counter hashes the bytes streamed and counts them into the progress.
type counter struct {
	h hash.Hash
	p *progress
}

func (c *counter) Write(b []byte) (int, error) {
	c.h.Write(b)
	c.p.addCopied(int64(len(b)))
	return len(b), nil
}
