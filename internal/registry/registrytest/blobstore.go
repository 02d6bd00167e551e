// Package registrytest holds the contract suites that every store
// implementation runs, so that all backends behave the same way.
package registrytest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/ecrd/ecrd/internal/registry"
)

// BlobStore runs the registry.BlobStore contract against the stores that
// newStore returns, calling it once per subtest so that no case sees
// another's blobs. newStore should register its own cleanup with t.
func BlobStore(t *testing.T, newStore func(t *testing.T) registry.BlobStore) {
	t.Run("MultiPart", func(t *testing.T) { testBlobMultiPart(t, newStore) })
	t.Run("RewritePart", func(t *testing.T) { testBlobRewritePart(t, newStore) })
	cases := []struct {
		name string
		run  func(t *testing.T, s registry.BlobStore)
	}{
		{"SinglePart", testBlobSinglePart},
		{"CommitFewerBytesThanWritten", testBlobCommitShorter},
		{"CommitExistingBlob", testBlobCommitExisting},
		{"DeleteUpload", testBlobDeleteUpload},
		{"UnknownDigest", testBlobUnknownDigest},
		{"Delete", testBlobDelete},
		{"ParallelUploads", testBlobParallelUploads},
		{"ParallelCommitsOfOneDigest", testBlobParallelCommits},
		{"CanceledBeforeWrite", testBlobCanceledBeforeWrite},
		{"CanceledDuringWrite", testBlobCanceledDuringWrite},
		{"CanceledBeforeCommit", testBlobCanceledBeforeCommit},
		{"Large", testBlobLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

func testBlobSinglePart(t *testing.T, s registry.BlobStore) {
	data := blobRandom(1, 100_000)
	d := blobUpload(t, s, data, len(data))
	blobCheck(t, s, d, data)
	for _, off := range []int{0, 1, len(data) / 2, len(data) - 1, len(data)} {
		got, err := blobReadAt(t.Context(), s, d, int64(off))
		if err != nil || !bytes.Equal(got, data[off:]) {
			t.Errorf("Open at %d: read %d bytes (%v), want the last %d", off, len(got), err, len(data)-off)
		}
	}
	if _, err := blobReadAt(t.Context(), s, d, int64(len(data))+1); err == nil {
		t.Errorf("Open at offset size+1: no error")
	}
}

func testBlobMultiPart(t *testing.T, newStore func(t *testing.T) registry.BlobStore) {
	for _, tc := range []struct {
		name  string
		parts []int
	}{
		{"ThreeParts", []int{5000, 70_000, 123}},
		{"EmptyLastPart", []int{4096, 4096, 0}},
		{"OneByteParts", []int{1, 1, 1, 1, 1}},
		{"PartsAcrossMiBBoundaries", []int{1<<20 + 1, 1<<20 - 1, 1 << 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, total, off := newStore(t), 0, 0
			for _, n := range tc.parts {
				total += n
			}
			data, id := blobRandom(2, total), registry.NewUploadID()
			for i, n := range tc.parts {
				blobWritePart(t, s, id, i, off, data[off:off+n])
				off += n
			}
			d := blobDigest(data)
			blobCommit(t, s, id, len(tc.parts), len(data), d)
			blobCheck(t, s, d, data)
		})
	}
}

// testBlobRewritePart writes part 1 badly, then correctly: the second write
// wins whether the first was shorter or longer, failed or succeeded.
func testBlobRewritePart(t *testing.T, newStore func(t *testing.T) registry.BlobStore) {
	for _, tc := range []struct {
		name    string
		garbage int
		fail    bool
	}{
		{"FailedShort", 5000, true},
		{"FailedLong", 45_000, true},
		{"FailedEmpty", 0, true},
		{"Succeeded", 20_000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, data, id := newStore(t), blobRandom(3, 30_000), registry.NewUploadID()
			blobWritePart(t, s, id, 0, 0, data[:10_000])
			var r io.Reader = bytes.NewReader(blobRandom(4, tc.garbage))
			if tc.fail {
				// A client that disconnects mid-part.
				r = io.MultiReader(r, iotest.ErrReader(errors.New("connection reset")))
			}
			if _, err := s.WriteUploadPart(t.Context(), id, 1, 10_000, r); (err != nil) != tc.fail {
				t.Fatalf("first WriteUploadPart of part 1: got %v, want an error: %v", err, tc.fail)
			}
			blobWritePart(t, s, id, 1, 10_000, data[10_000:])
			d := blobDigest(data)
			blobCommit(t, s, id, 2, len(data), d)
			blobCheck(t, s, d, data)
		})
	}
}

func testBlobCommitShorter(t *testing.T, s registry.BlobStore) {
	data := blobRandom(5, 10_000)
	blobCheck(t, s, blobUpload(t, s, data, 6000), data[:6000])
}

func testBlobCommitExisting(t *testing.T, s registry.BlobStore) {
	first := blobRandom(6, 5000)
	d := blobUpload(t, s, first, len(first))
	// The caller verifies digests, so the store cannot tell these bytes
	// are wrong; it must keep the blob it has rather than overwrite it.
	id := registry.NewUploadID()
	blobWritePart(t, s, id, 0, 0, blobRandom(7, len(first)))
	blobCommit(t, s, id, 1, len(first), d)
	blobCheck(t, s, d, first)
	if err := s.DeleteUpload(t.Context(), id); err != nil {
		t.Errorf("DeleteUpload of a committed upload: %v", err)
	}
}

func testBlobDeleteUpload(t *testing.T, s registry.BlobStore) {
	ctx := t.Context()
	if err := s.DeleteUpload(ctx, registry.NewUploadID()); err != nil {
		t.Errorf("DeleteUpload of an unknown upload: %v", err)
	}
	data := blobRandom(8, 1000)
	id := registry.NewUploadID()
	blobWritePart(t, s, id, 0, 0, data)
	for i := range 2 {
		if err := s.DeleteUpload(ctx, id); err != nil {
			t.Fatalf("DeleteUpload #%d: %v", i+1, err)
		}
	}
	d := blobDigest(data)
	if err := s.CommitUpload(ctx, id, 1, int64(len(data)), d); err == nil {
		t.Errorf("CommitUpload after DeleteUpload: no error")
	}
	blobCheckNotFound(t, s, d)
}

func testBlobUnknownDigest(t *testing.T, s registry.BlobStore) {
	blobCheckNotFound(t, s, blobDigest([]byte("never stored")))
}

func testBlobDelete(t *testing.T, s registry.BlobStore) {
	ctx := t.Context()
	data := blobRandom(9, 1000)
	d := blobUpload(t, s, data, len(data))
	for i := range 2 {
		if err := s.Delete(ctx, d); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
		blobCheckNotFound(t, s, d)
	}
	if err := s.Delete(ctx, blobDigest([]byte("never stored"))); err != nil {
		t.Errorf("Delete of an unknown blob: %v", err)
	}
	blobUpload(t, s, data, len(data)) // a deleted digest can be stored again
	blobCheck(t, s, d, data)
}

// testBlobParallelUploads interleaves the parts of several uploads.
func testBlobParallelUploads(t *testing.T, s registry.BlobStore) {
	const uploads, parts, partSize = 4, 3, 200_000
	var wg sync.WaitGroup
	for u := range uploads {
		wg.Go(func() {
			data := blobRandom(uint64(100+u), parts*partSize)
			id := registry.NewUploadID()
			for p := range parts {
				b := bytes.NewReader(data[p*partSize : (p+1)*partSize])
				if n, err := s.WriteUploadPart(t.Context(), id, p, int64(p*partSize), b); err != nil || n != partSize {
					t.Errorf("upload %d part %d: wrote %d, %v", u, p, n, err)
					return
				}
			}
			d := blobDigest(data)
			if err := s.CommitUpload(t.Context(), id, parts, int64(len(data)), d); err != nil {
				t.Errorf("upload %d: CommitUpload: %v", u, err)
				return
			}
			blobCheck(t, s, d, data)
		})
	}
	wg.Wait()
}

// testBlobParallelCommits commits several uploads of the same bytes at
// once, as two clients pushing the same layer do.
func testBlobParallelCommits(t *testing.T, s registry.BlobStore) {
	data := blobRandom(10, 300_000)
	d := blobDigest(data)
	ids := make([]registry.UploadID, 4)
	for i := range ids {
		ids[i] = registry.NewUploadID()
		blobWritePart(t, s, ids[i], 0, 0, data)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if err := s.CommitUpload(t.Context(), id, 1, int64(len(data)), d); err != nil {
				t.Errorf("CommitUpload %s: %v", id, err)
			}
		})
	}
	wg.Wait()
	blobCheck(t, s, d, data)
}

func testBlobCanceledBeforeWrite(t *testing.T, s registry.BlobStore) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.WriteUploadPart(ctx, registry.NewUploadID(), 0, 0, bytes.NewReader(blobRandom(11, 1000)))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WriteUploadPart with a canceled context: got %v, want context.Canceled", err)
	}
}

func testBlobCanceledDuringWrite(t *testing.T, s registry.BlobStore) {
	data := blobRandom(12, 4<<20)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &blobCancelingReader{r: bytes.NewReader(data), after: 64 << 10, cancel: cancel}
	id := registry.NewUploadID()
	if _, err := s.WriteUploadPart(ctx, id, 0, 0, r); !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteUploadPart canceled midway: got %v, want context.Canceled", err)
	}
	blobWritePart(t, s, id, 0, 0, data)
	d := blobDigest(data)
	blobCommit(t, s, id, 1, len(data), d)
	blobCheck(t, s, d, data)
}

func testBlobCanceledBeforeCommit(t *testing.T, s registry.BlobStore) {
	data := blobRandom(13, 1000)
	id := registry.NewUploadID()
	blobWritePart(t, s, id, 0, 0, data)
	d := blobDigest(data)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.CommitUpload(ctx, id, 1, int64(len(data)), d); !errors.Is(err, context.Canceled) {
		t.Errorf("CommitUpload with a canceled context: got %v, want context.Canceled", err)
	}
	blobCheckNotFound(t, s, d)
	blobCommit(t, s, id, 1, len(data), d) // the upload survived the attempt
	blobCheck(t, s, d, data)
}

// testBlobLarge streams 64 MiB in four parts and reads it back through
// hashes, proving that no size limit or whole-part buffer lies on the way.
func testBlobLarge(t *testing.T, s registry.BlobStore) {
	const size, parts, seed = 64 << 20, 4, 14
	stream := blobPRNG(seed)
	id := registry.NewUploadID()
	for p := range parts {
		off := int64(p * size / parts)
		n, err := s.WriteUploadPart(t.Context(), id, p, off, io.LimitReader(stream, size/parts))
		if err != nil || n != size/parts {
			t.Fatalf("part %d: wrote %d, %v", p, n, err)
		}
	}
	d := blobHash(t, io.LimitReader(blobPRNG(seed), size))
	blobCommit(t, s, id, parts, size, d)
	if n, err := s.Stat(t.Context(), d); err != nil || n != size {
		t.Fatalf("Stat: %d, %v; want %d", n, err, size)
	}
	for _, off := range []int64{0, size - size/parts + 7} {
		want := blobPRNG(seed)
		want.Read(make([]byte, off)) // skip to off
		r, err := s.Open(t.Context(), d, off)
		if err != nil {
			t.Fatalf("Open at %d: %v", off, err)
		}
		defer r.Close()
		if blobHash(t, r) != blobHash(t, io.LimitReader(want, size-off)) {
			t.Errorf("Open at %d: the bytes read differ from those written", off)
		}
	}
}

// blobUpload writes data as one part and commits its first size bytes.
func blobUpload(t *testing.T, s registry.BlobStore, data []byte, size int) registry.Digest {
	t.Helper()
	id := registry.NewUploadID()
	blobWritePart(t, s, id, 0, 0, data)
	d := blobDigest(data[:size])
	blobCommit(t, s, id, 1, size, d)
	return d
}

func blobWritePart(t *testing.T, s registry.BlobStore, id registry.UploadID, part, off int, b []byte) {
	t.Helper()
	n, err := s.WriteUploadPart(t.Context(), id, part, int64(off), bytes.NewReader(b))
	if err != nil || n != int64(len(b)) {
		t.Fatalf("WriteUploadPart part %d at %d: wrote %d of %d, %v", part, off, n, len(b), err)
	}
}

func blobCommit(t *testing.T, s registry.BlobStore, id registry.UploadID, parts, size int, d registry.Digest) {
	t.Helper()
	if err := s.CommitUpload(t.Context(), id, parts, int64(size), d); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
}

// blobCheck reports whether blob d holds exactly want; goroutines may call it.
func blobCheck(t *testing.T, s registry.BlobStore, d registry.Digest, want []byte) {
	t.Helper()
	if n, err := s.Stat(t.Context(), d); err != nil || n != int64(len(want)) {
		t.Errorf("Stat %s: %d, %v; want %d", d, n, err, len(want))
	}
	if got, err := blobReadAt(t.Context(), s, d, 0); err != nil || !bytes.Equal(got, want) {
		t.Errorf("blob %s: read %d bytes (%v), want %d bytes as written", d, len(got), err, len(want))
	}
}

func blobReadAt(ctx context.Context, s registry.BlobStore, d registry.Digest, off int64) ([]byte, error) {
	r, err := s.Open(ctx, d, off)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func blobCheckNotFound(t *testing.T, s registry.BlobStore, d registry.Digest) {
	t.Helper()
	if _, err := s.Stat(t.Context(), d); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Stat %s: got %v, want ErrNotFound", d, err)
	}
	if _, err := blobReadAt(t.Context(), s, d, 0); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Open %s: got %v, want ErrNotFound", d, err)
	}
}

func blobDigest(b []byte) registry.Digest {
	return registry.Digest(fmt.Sprintf("sha256:%x", sha256.Sum256(b)))
}

func blobHash(t *testing.T, r io.Reader) registry.Digest {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatalf("reading: %v", err)
	}
	return registry.Digest(fmt.Sprintf("sha256:%x", h.Sum(nil)))
}

// blobPRNG returns an endless deterministic byte stream whose Read always
// fills p; ChaCha8 is fast enough that 64 MiB costs little next to the
// store's own work.
func blobPRNG(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return rand.NewChaCha8(s)
}

func blobRandom(seed uint64, n int) []byte {
	b := make([]byte, n)
	blobPRNG(seed).Read(b)
	return b
}

// blobCancelingReader cancels its context once it has delivered after
// bytes and keeps delivering, so that only the store's check can stop it.
type blobCancelingReader struct {
	r      io.Reader
	after  int
	read   int
	cancel context.CancelFunc
}

func (c *blobCancelingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.read += n; c.read >= c.after {
		c.cancel()
	}
	return n, err
}
