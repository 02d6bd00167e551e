package registry_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

var sharedSizes = flag.String("bench.shared", "1000,10000",
	"images in the repository of the shared-layer benchmarks, comma-separated (go run ./bench -growth measures bigger ones through the API)")

// BenchmarkCheckLayersShared is BatchCheckLayerAvailability's work in the
// core against a repository whose images share base layers, as real ones
// do: each of the 40 base layers is referred to by a twentieth of the
// images, so a query that counts (or visits) the images referring to a
// digest costs more with every image pushed. BenchmarkCheckLayers cannot
// see that: each of its layers has one image. The figure must stay flat
// across sizes.
func BenchmarkCheckLayersShared(b *testing.B) {
	for _, n := range benchSizes(b) {
		r, g := newSharedBench(b, n)
		rng := rand.New(rand.NewPCG(uint64(n), 3))
		digests := make([]string, 0, 100)
		for _, d := range g.Bases {
			digests = append(digests, string(d))
		}
		for len(digests) < 100 {
			digests = append(digests, string(g.Apps[rng.IntN(len(g.Apps))]))
		}
		b.Run(fmt.Sprintf("images=%d/digests=%d", n, len(digests)), func(b *testing.B) {
			ctx := callerCtx()
			b.ReportAllocs()
			for range b.N {
				checks, err := r.CheckLayers(ctx, registry.RepoKey{Name: g.Key.Name}, digests)
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range checks {
					if c.FailureCode != "" || c.Availability == "" {
						b.Fatalf("CheckLayers(%s) = %+v; want the layer", c.Digest, c)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("images=%d/blob-head-of-a-base-layer", n), func(b *testing.B) {
			ctx := callerCtx()
			for range b.N {
				if _, err := r.DownloadableLayer(ctx, registry.RepoKey{Name: g.Key.Name}, string(g.Bases[0])); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("images=%d/delete-100-tags", n), func(b *testing.B) {
			ctx := callerCtx()
			for i := range b.N {
				// Pushed untimed: 100 images on the shared base layers,
				// each with one tag, which BatchDeleteImage then removes
				// with their images.
				b.StopTimer()
				ids := make([]registry.ImageID, 100)
				for j := range ids {
					tag := fmt.Sprintf("doomed-%d-%d", i, j)
					m := sharedManifest(g.Apps[(i*100+j)%len(g.Apps)], g.Bases[2*(j%20)], g.Bases[2*(j%20)+1])
					if _, err := r.PutImage(ctx, registry.NewImage{Key: registry.RepoKey{Name: g.Key.Name}, Manifest: m, Tag: tag}); err != nil {
						b.Fatal(err)
					}
					ids[j] = registry.ImageID{Tag: tag}
				}
				b.StartTimer()
				deleted, failures, err := r.BatchDeleteImage(ctx, registry.RepoKey{Name: g.Key.Name}, ids)
				if err != nil || len(deleted) != 100 || len(failures) != 0 {
					b.Fatalf("BatchDeleteImage = %d deleted, %v, %v; want 100", len(deleted), failures, err)
				}
			}
		})
		b.Run(fmt.Sprintf("images=%d/referrers-of-one-image", n), func(b *testing.B) {
			ctx := callerCtx()
			for range b.N {
				refs, err := r.Referrers(ctx, registry.RepoKey{Name: g.Key.Name}, g.Subjects[0])
				if err != nil || len(refs) != 3 {
					b.Fatalf("Referrers = %d, %v; want 3", len(refs), err)
				}
			}
		})
	}
}

func benchSizes(b *testing.B) []int {
	var sizes []int
	for _, s := range strings.Split(*sharedSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 200 {
			b.Fatalf("-bench.shared: %q is not a size of at least 200 images", s)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// newSharedBench returns a registry over the real stores with a repository
// grown to n images (registrytest.Grow).
func newSharedBench(b *testing.B, n int) (*registry.Registry, registrytest.Grown) {
	b.Helper()
	meta, blobs, _ := openStores(b)
	r := registry.New(registry.Options{Meta: meta, Blobs: blobs, Region: "us-east-1", Limits: registry.DefaultLimits()})
	return r, registrytest.Grow(b, meta, registry.RepoKey{Registry: account, Name: "shared/app"}, n)
}

// sharedManifest is an OCI image manifest of config on two base layers,
// with the sizes registrytest.Grow gave them.
func sharedManifest(config, base1, base2 registry.Digest) []byte {
	return fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":1000},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d}]}`,
		registry.MediaTypeOCIManifest, config, base1, 30<<20, base2, 30<<20)
}
