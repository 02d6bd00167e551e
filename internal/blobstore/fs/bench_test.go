package fs_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/blobstore/fs"
	"github.com/ecrd/ecrd/internal/registry"
)

// benchSizes are the blob sizes measured: a small layer, where the fsyncs
// dominate, and a large one, where the bytes do. Each iteration deletes
// what it wrote, so the disk holds at most one of each at a time.
var benchSizes = []struct {
	name string
	size int64
}{
	{"size=1MiB", 1 << 20},
	{"size=64MiB", 64 << 20},
}

// BenchmarkWriteUploadPart streams a whole layer as one part into a new
// upload, fsync included, as UploadLayerPart and the OCI PATCH do.
func BenchmarkWriteUploadPart(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			s := openBenchStore(b)
			ctx := context.Background()
			pat := newPattern()
			b.SetBytes(bs.size)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				id := registry.NewUploadID()
				n, err := s.WriteUploadPart(ctx, id, 0, 0, pat.reader(bs.size))
				if err != nil {
					b.Fatal(err)
				}
				if n != bs.size {
					b.Fatalf("WriteUploadPart wrote %d bytes, want %d", n, bs.size)
				}
				b.StopTimer()
				if err := s.DeleteUpload(ctx, id); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkCommitAndOpen commits a written upload as a blob and reads the
// whole blob back through Open, as a push's last step and a pull's download
// do. Writing the upload and deleting the blob are not timed.
func BenchmarkCommitAndOpen(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			s := openBenchStore(b)
			ctx := context.Background()
			pat := newPattern()
			h := sha256.New()
			if _, err := io.Copy(h, pat.reader(bs.size)); err != nil {
				b.Fatal(err)
			}
			d := registry.Digest(fmt.Sprintf("sha256:%x", h.Sum(nil)))
			// The commit's share is reported apart: it is fsyncs, where the
			// read back is bytes from the page cache.
			var committing time.Duration
			b.SetBytes(bs.size)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				id := registry.NewUploadID()
				if _, err := s.WriteUploadPart(ctx, id, 0, 0, pat.reader(bs.size)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()

				start := time.Now()
				if err := s.CommitUpload(ctx, id, 1, bs.size, d); err != nil {
					b.Fatal(err)
				}
				committing += time.Since(start)
				rc, err := s.Open(ctx, d, 0)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, rc)
				rc.Close()
				if err != nil {
					b.Fatal(err)
				}
				if n != bs.size {
					b.Fatalf("read %d bytes of blob %s back, want %d", n, d, bs.size)
				}

				b.StopTimer()
				if err := s.Delete(ctx, d); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(committing.Nanoseconds())/float64(b.N), "commit-ns/op")
		})
	}
}

func openBenchStore(b *testing.B) *fs.Store {
	b.Helper()
	s, err := fs.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// pattern is a fixed pseudo-random 1 MiB: deterministic, incompressible
// within a block, and made once per benchmark so that producing a blob's
// bytes costs only a copy.
type pattern []byte

func newPattern() pattern {
	p := make(pattern, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(p); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			p[i+j] = byte(v >> (8 * j))
		}
	}
	return p
}

// reader yields n bytes of the pattern, repeated.
func (p pattern) reader(n int64) io.Reader { return &patternReader{pattern: p, n: n} }

// patternReader has no WriteTo, so the store reads it through its own
// buffer as it would a request body.
type patternReader struct {
	pattern pattern
	off     int64
	n       int64
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	n := 0
	for n < len(p) {
		n += copy(p[n:], r.pattern[(r.off+int64(n))%int64(len(r.pattern)):])
	}
	r.off += int64(n)
	return n, nil
}
