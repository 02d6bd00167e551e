package e2e

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// BenchmarkBatchCheckLayerAvailability: one call of 100 digests, half of
// them present, over real HTTP with the Go SDK. Reports digests/s.
func BenchmarkBatchCheckLayerAvailability(b *testing.B) {
	s := startServerB(b)
	c := s.client()
	if _, err := c.CreateRepository(b.Context(), &ecr.CreateRepositoryInput{RepositoryName: aws.String("bench/check")}); err != nil {
		b.Fatal(err)
	}
	digests := make([]string, 100)
	for i := range digests {
		data := []byte(fmt.Sprint("layer ", i))
		digests[i] = digestOf(data)
		if i%2 == 0 {
			pushLayerB(b, c, "bench/check", data)
		}
	}
	in := &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("bench/check"), LayerDigests: digests}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			out, err := c.BatchCheckLayerAvailability(b.Context(), in)
			if err != nil || len(out.Layers) != 50 {
				b.Errorf("got %v, %v", out, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "digests/s")
}

// BenchmarkUploadLayer: a layer of -bench.layer MiB (default 512) pushed in
// 20 MiB parts. Reports MB/s and the peak Go heap of the test process (the
// server runs in-process), which stays flat however large the layer is:
// the bytes are streamed to disk, never held whole.
func BenchmarkUploadLayer(b *testing.B) {
	s := startServerB(b)
	c := s.client()
	if _, err := c.CreateRepository(b.Context(), &ecr.CreateRepositoryInput{RepositoryName: aws.String("bench/upload")}); err != nil {
		b.Fatal(err)
	}
	const partSize = 20 * mib
	part := layerBytes(partSize, 1)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	defer close(stop)
	b.SetBytes(int64(*layerMiB) * mib)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		up, err := c.InitiateLayerUpload(b.Context(), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("bench/upload")})
		if err != nil {
			b.Fatal(err)
		}
		part[0] = byte(i) // a different layer each round
		for off := int64(0); off < int64(*layerMiB)*mib; off += partSize {
			if _, err := c.UploadLayerPart(b.Context(), &ecr.UploadLayerPartInput{RepositoryName: aws.String("bench/upload"), UploadId: up.UploadId,
				PartFirstByte: aws.Int64(off), PartLastByte: aws.Int64(off + partSize - 1), LayerPartBlob: part}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peak.Load())/mib, "peak-heap-MiB")
}
