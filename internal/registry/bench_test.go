package registry_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// The CheckLayers benchmarks model a docker push's availability check
// against a large repository: benchLayers layers, every one referred to by
// an image (so the image-reference query has rows to join), and requests of
// benchBatch digests, half held and half not, in shuffled order.
const (
	benchRepo        = "bench/app"
	benchLayers      = 5000
	benchBatch       = 100
	benchImageLayers = 10 // config + 9 layers per image
)

// BenchmarkCheckLayers measures one BatchCheckLayerAvailability's work in
// the core over the real SQLite and filesystem stores.
func BenchmarkCheckLayers(b *testing.B) {
	r, digests := newCheckLayersBench(b)
	b.Run(fmt.Sprintf("layers=%d/digests=%d", benchLayers, benchBatch), func(b *testing.B) {
		ctx := callerCtx()
		b.ReportAllocs()
		for range b.N {
			checks, err := r.CheckLayers(ctx, registry.RepoKey{Name: benchRepo}, digests)
			if err != nil {
				b.Fatal(err)
			}
			if err := checkHalfAvailable(checks); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "digests/s")
	})
}

// BenchmarkCheckLayersParallel is BenchmarkCheckLayers from GOMAXPROCS
// goroutines (scale with -cpu), each with its own shuffle of the digests:
// concurrent pushes share the read pool of the metadata store.
func BenchmarkCheckLayersParallel(b *testing.B) {
	r, digests := newCheckLayersBench(b)
	b.Run(fmt.Sprintf("layers=%d/digests=%d", benchLayers, benchBatch), func(b *testing.B) {
		b.ReportAllocs()
		var seed atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			// Each goroutine's own order, so that no two send the same
			// request at once; RunParallel bodies run one per goroutine.
			mine := append([]string(nil), digests...)
			rng := rand.New(rand.NewPCG(seed.Add(1), 2))
			rng.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
			ctx := callerCtx()
			for pb.Next() {
				checks, err := r.CheckLayers(ctx, registry.RepoKey{Name: benchRepo}, mine)
				if err == nil {
					err = checkHalfAvailable(checks)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "digests/s")
	})
}

// checkHalfAvailable proves the benchmark measured real answers, not an
// error path: half the digests AVAILABLE and half MissingLayerDigest.
func checkHalfAvailable(checks []registry.LayerCheck) error {
	var available, missing int
	for _, c := range checks {
		switch {
		case c.Availability == registry.LayerAvailable && c.Layer.Digest == registry.Digest(c.Digest):
			available++
		case c.FailureCode == registry.FailureMissingLayerDigest:
			missing++
		}
	}
	if len(checks) != benchBatch || available != benchBatch/2 || missing != benchBatch/2 {
		return fmt.Errorf("CheckLayers answered %d digests: %d AVAILABLE, %d MissingLayerDigest; want %d, %d, %d",
			len(checks), available, missing, benchBatch, benchBatch/2, benchBatch/2)
	}
	return nil
}

// newCheckLayersBench returns a registry whose repository benchRepo holds
// benchLayers layers, and a shuffled request of benchBatch digests, half of
// them held. Uploading 5,000 blobs through the core would cost a dozen
// fsyncs each, so the layer records go in through one MetaStore
// transaction, as CompleteLayerUpload would leave them (their bytes are
// not needed: CheckLayers reads only metadata). The images that refer to
// them go through PutImage, so that the references are what a push makes.
func newCheckLayersBench(b *testing.B) (*registry.Registry, []string) {
	b.Helper()
	meta, blobs, _ := openStores(b)
	r := registry.New(registry.Options{Meta: meta, Blobs: blobs, Region: "us-east-1", Limits: registry.DefaultLimits()})
	ctx := callerCtx()
	repo := registry.RepoKey{Registry: account, Name: benchRepo}
	if _, err := r.CreateRepository(ctx, registry.NewRepository{Key: registry.RepoKey{Name: benchRepo}}); err != nil {
		b.Fatal(err)
	}

	held := make([]registry.Digest, benchLayers)
	for i := range held {
		held[i] = benchDigest("layer", i)
	}
	now := time.Now().UTC()
	err := meta.Update(ctx, func(tx registry.Tx) error {
		for i, d := range held {
			size := int64(1000 + i)
			if err := tx.AddBlob(registry.Blob{Digest: d, Size: size, CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.AddLayer(repo, registry.Layer{Digest: d, Size: size, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < benchLayers; i += benchImageLayers {
		if _, err := r.PutImage(ctx, registry.NewImage{Key: registry.RepoKey{Name: benchRepo},
			Manifest: benchManifest(held[i:i+benchImageLayers], i), Tag: fmt.Sprintf("v%d", i/benchImageLayers)}); err != nil {
			b.Fatal(err)
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	digests := make([]string, 0, benchBatch)
	for _, i := range rng.Perm(benchLayers)[:benchBatch/2] {
		digests = append(digests, string(held[i]))
	}
	for i := range benchBatch / 2 {
		digests = append(digests, string(benchDigest("absent", i)))
	}
	rng.Shuffle(len(digests), func(i, j int) { digests[i], digests[j] = digests[j], digests[i] })

	// The setup is only worth measuring if the request gets real answers.
	checks, err := r.CheckLayers(ctx, registry.RepoKey{Name: benchRepo}, digests)
	if err != nil {
		b.Fatal(err)
	}
	if err := checkHalfAvailable(checks); err != nil {
		b.Fatal(err)
	}
	return r, digests
}

// benchDigest is a well-formed sha256 digest, distinct per kind and i.
func benchDigest(kind string, i int) registry.Digest {
	return registry.Digest(fmt.Sprintf("sha256:%x", sha256.Sum256(fmt.Appendf(nil, "%s-%d", kind, i))))
}

// benchManifest is an OCI image manifest with ds[0] as its config and the
// rest as its layers; first is the index of ds[0] among the seeded layers,
// whose sizes are 1000 + index.
func benchManifest(ds []registry.Digest, first int) []byte {
	m := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[`,
		registry.MediaTypeOCIManifest, ds[0], 1000+first)
	for i, d := range ds[1:] {
		if i > 0 {
			m = append(m, ',')
		}
		m = fmt.Appendf(m, `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d}`, d, 1000+first+1+i)
	}
	return append(m, "]}"...)
}
