package s3

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/ecrd/ecrd/internal/registry"
)

// TestSmallChunks writes three 1 MiB /v2/-style chunks: each is a pending
// object, no multipart upload is made, and the commit leaves only the blob.
func TestSmallChunks(t *testing.T) {
	s := openStore(t, nil)
	data := random(1, 3*mib)
	id := registry.NewUploadID()
	for i := range 3 {
		writePart(t, s, id, i, i*mib, data[i*mib:(i+1)*mib])
	}
	key, _ := s.uploadKey(id)
	if got, want := listKeys(t, s, "uploads/"), []string{
		strings.TrimPrefix(pendingKey(key, 0), s.prefix),
		strings.TrimPrefix(pendingKey(key, mib), s.prefix),
		strings.TrimPrefix(pendingKey(key, 2*mib), s.prefix),
	}; !slices.Equal(got, want) {
		t.Errorf("objects before the commit: %q, want %q", got, want)
	}
	if parts := s3Parts(t, s, id); parts != nil {
		t.Errorf("S3 parts before the commit: %v, want no multipart upload", parts)
	}
	d := commit(t, s, id, 3, data)
	checkOnly(t, s, d, data)
}

// TestFiveMiBParts writes a 12 MiB upload as ECR parts of 5, 5 and 2 MiB:
// the first two are S3 parts 1 and 2, the last a pending chunk until the
// commit makes it part 3.
func TestFiveMiBParts(t *testing.T) {
	s := openStore(t, nil)
	data := random(2, 12*mib)
	id := registry.NewUploadID()
	for i, off := range []int{0, 5 * mib, 10 * mib} {
		end := min(off+5*mib, len(data))
		writePart(t, s, id, i, off, data[off:end])
	}
	if got, want := s3Parts(t, s, id), []int64{5 * mib, 5 * mib}; !slices.Equal(got, want) {
		t.Errorf("S3 part sizes: %v, want %v", got, want)
	}
	key, _ := s.uploadKey(id)
	if got, want := listKeys(t, s, "uploads/"), []string{strings.TrimPrefix(pendingKey(key, 10*mib), s.prefix)}; !slices.Equal(got, want) {
		t.Errorf("pending chunks: %q, want %q", got, want)
	}
	d := commit(t, s, id, 3, data)
	checkOnly(t, s, d, data)
}

// TestStreamedPart writes one 40 MiB part, as a /v2/ PATCH does: it is cut
// into S3 parts of 15 MiB and a last one of 10, none below 5 MiB.
func TestStreamedPart(t *testing.T) {
	s := openStore(t, nil)
	data := random(3, 40*mib)
	id := registry.NewUploadID()
	writePart(t, s, id, 0, 0, data)
	if got, want := s3Parts(t, s, id), []int64{15 * mib, 15 * mib, 10 * mib}; !slices.Equal(got, want) {
		t.Errorf("S3 part sizes: %v, want %v", got, want)
	}
	d := commit(t, s, id, 1, data)
	checkOnly(t, s, d, data)
}

// TestRewriteFailedPart writes a part again after a write that failed
// after sending S3 parts, and after one that failed having folded pending
// chunks into an S3 part: the second write wins, and the chunks it needs
// are still there.
func TestRewriteFailedPart(t *testing.T) {
	t.Run("AfterSendingParts", func(t *testing.T) {
		s := openStore(t, nil)
		data := random(4, 13*mib)
		id := registry.NewUploadID()
		writePart(t, s, id, 0, 0, data[:5*mib])
		// 36 MiB of garbage, then a reset: S3 parts 2 and 3 hold garbage.
		failPart(t, s, id, 1, 5*mib, 36*mib)
		writePart(t, s, id, 1, 5*mib, data[5*mib:11*mib])
		writePart(t, s, id, 2, 11*mib, data[11*mib:])
		checkOnly(t, s, commit(t, s, id, 3, data), data)
	})
	t.Run("AfterFoldingChunks", func(t *testing.T) {
		s := openStore(t, nil)
		data := random(5, 4*mib)
		id := registry.NewUploadID()
		for i := range 3 {
			writePart(t, s, id, i, i*mib, data[i*mib:(i+1)*mib])
		}
		// 21 MiB of garbage folds the three chunks into an S3 part.
		failPart(t, s, id, 3, 3*mib, 21*mib)
		if got := s3Parts(t, s, id); len(got) != 1 {
			t.Fatalf("S3 parts after the failed fold: %v, want one", got)
		}
		writePart(t, s, id, 3, 3*mib, data[3*mib:])
		checkOnly(t, s, commit(t, s, id, 4, data), data)
	})
	t.Run("SucceededThenRewrittenSmaller", func(t *testing.T) {
		s := openStore(t, nil)
		data := random(6, 7*mib)
		id := registry.NewUploadID()
		writePart(t, s, id, 0, 0, random(7, 30*mib)) // succeeded, never recorded
		writePart(t, s, id, 0, 0, data[:mib])        // a pending chunk now
		writePart(t, s, id, 1, mib, data[mib:])
		checkOnly(t, s, commit(t, s, id, 2, data), data)
	})
}

// TestCommitExistingDigest commits a multipart upload of a digest that
// exists: the blob keeps its bytes and the upload leaves nothing behind.
func TestCommitExistingDigest(t *testing.T) {
	s := openStore(t, nil)
	first := random(8, 6*mib)
	id := registry.NewUploadID()
	writePart(t, s, id, 0, 0, first)
	d := commit(t, s, id, 1, first)

	id = registry.NewUploadID()
	writePart(t, s, id, 0, 0, random(9, 6*mib))
	if err := s.CommitUpload(t.Context(), id, 1, int64(len(first)), d); err != nil {
		t.Fatalf("CommitUpload of an existing digest: %v", err)
	}
	checkOnly(t, s, d, first)
}

// TestNoPartialBlob proves that the digest's key holds nothing or the
// whole blob at every request of a commit, and that a commit failing after
// the multipart upload is complete succeeds when retried.
func TestNoPartialBlob(t *testing.T) {
	hook := newHookTransport()
	s := openStore(t, &http.Client{Transport: hook})
	probe := openStore(t, nil)
	probe.prefix = s.prefix
	data := random(10, 12*mib)
	id := registry.NewUploadID()
	for i, off := range []int{0, 5 * mib, 10 * mib} {
		writePart(t, s, id, i, off, data[off:min(off+5*mib, len(data))])
	}
	d := digest(data)
	var failCopy atomic.Bool
	failCopy.Store(true)
	hook.setBefore(func(op string) error {
		if op == "CopyObject" && failCopy.Load() {
			return errInjected
		}
		n, err := probe.Stat(t.Context(), d)
		switch {
		case errors.Is(err, registry.ErrNotFound):
		case err != nil:
			t.Errorf("before %s: Stat: %v", op, err)
		case n != int64(len(data)):
			t.Errorf("before %s: the digest's key holds %d bytes, not %d", op, n, len(data))
		}
		return nil
	})
	t.Cleanup(func() { hook.setBefore(nil) })
	if err := s.CommitUpload(t.Context(), id, 3, int64(len(data)), d); !errors.Is(err, errInjected) {
		t.Fatalf("CommitUpload with CopyObject failing: got %v, want the injected failure", err)
	}
	if _, err := probe.Stat(t.Context(), d); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Stat after the failed commit: got %v, want ErrNotFound", err)
	}
	failCopy.Store(false)
	if err := s.CommitUpload(t.Context(), id, 3, int64(len(data)), d); err != nil {
		t.Fatalf("CommitUpload retried: %v", err)
	}
	hook.setBefore(nil)
	checkOnly(t, s, d, data)
}

// TestAppendAfterFailedCommit appends a part to an upload whose commit
// failed after making its pending tail an S3 part, then commits it.
func TestAppendAfterFailedCommit(t *testing.T) {
	hook := newHookTransport()
	s := openStore(t, &http.Client{Transport: hook})
	data := random(12, 14*mib)
	id := registry.NewUploadID()
	writePart(t, s, id, 0, 0, data[:5*mib])
	writePart(t, s, id, 1, 5*mib, data[5*mib:7*mib])
	hook.setBefore(func(op string) error {
		if op == "CompleteMultipartUpload" {
			return errInjected
		}
		return nil
	})
	t.Cleanup(func() { hook.setBefore(nil) })
	if err := s.CommitUpload(t.Context(), id, 2, 7*mib, digest(data[:7*mib])); !errors.Is(err, errInjected) {
		t.Fatalf("CommitUpload with CompleteMultipartUpload failing: got %v, want the injected failure", err)
	}
	hook.setBefore(nil)
	if got, want := s3Parts(t, s, id), []int64{5 * mib, 2 * mib}; !slices.Equal(got, want) {
		t.Errorf("S3 parts after the failed commit: %v, want %v", got, want)
	}
	writePart(t, s, id, 2, 7*mib, data[7*mib:])
	checkOnly(t, s, commit(t, s, id, 3, data), data)
}

// TestCommitFewerBytesThanAPart commits 5.5 MiB of a 6 MiB S3 part: the
// blob is copied by range.
func TestCommitFewerBytesThanAPart(t *testing.T) {
	s := openStore(t, nil)
	data := random(11, 6*mib)
	id := registry.NewUploadID()
	writePart(t, s, id, 0, 0, data)
	want := data[:11*mib/2]
	d := digest(want)
	if err := s.CommitUpload(t.Context(), id, 1, int64(len(want)), d); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
	checkOnly(t, s, d, want)
}

func writePart(t *testing.T, s *Store, id registry.UploadID, part, off int, b []byte) {
	t.Helper()
	n, err := s.WriteUploadPart(t.Context(), id, part, int64(off), bytes.NewReader(b))
	if err != nil || n != int64(len(b)) {
		t.Fatalf("WriteUploadPart part %d at %d: wrote %d of %d, %v", part, off, n, len(b), err)
	}
}

// failPart writes n bytes of garbage as part, then fails the read, as a
// client that disconnects does.
func failPart(t *testing.T, s *Store, id registry.UploadID, part, off, n int) {
	t.Helper()
	r := io.MultiReader(bytes.NewReader(random(99, n)), iotest.ErrReader(errors.New("connection reset")))
	if _, err := s.WriteUploadPart(t.Context(), id, part, int64(off), r); err == nil {
		t.Fatalf("WriteUploadPart part %d failing midway: no error", part)
	}
}

func commit(t *testing.T, s *Store, id registry.UploadID, parts int, data []byte) registry.Digest {
	t.Helper()
	d := digest(data)
	if err := s.CommitUpload(t.Context(), id, parts, int64(len(data)), d); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
	return d
}

// checkOnly checks that blob d holds want and that the store's prefix
// holds nothing else: no object, no multipart upload.
func checkOnly(t *testing.T, s *Store, d registry.Digest, want []byte) {
	t.Helper()
	if n, err := s.Stat(t.Context(), d); err != nil || n != int64(len(want)) {
		t.Errorf("Stat: %d, %v; want %d", n, err, len(want))
	}
	r, err := s.Open(t.Context(), d, 0)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("blob: read %d bytes (%v), want %d as written", len(got), err, len(want))
	}
	if got, want := listKeys(t, s, ""), []string{"blobs/sha256/" + d.Hex()}; !slices.Equal(got, want) {
		t.Errorf("objects under the prefix: %q, want only %q", got, want)
	}
	if mpus := multipartKeys(t, s); len(mpus) != 0 {
		t.Errorf("multipart uploads under the prefix: %q, want none", mpus)
	}
}

// s3Parts returns the sizes of the S3 parts of upload id, nil when it has
// no multipart upload.
func s3Parts(t *testing.T, s *Store, id registry.UploadID) []int64 {
	t.Helper()
	key, _ := s.uploadKey(id)
	mpus, err := s.multipartUploads(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if len(mpus) == 0 {
		return nil
	}
	parts, err := s.listParts(t.Context(), key, mpus[0])
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int64{}
	for _, p := range parts {
		sizes = append(sizes, p.size)
	}
	return sizes
}

func random(seed uint64, n int) []byte {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

func digest(b []byte) registry.Digest {
	return registry.Digest(fmt.Sprintf("sha256:%x", sha256.Sum256(b)))
}
