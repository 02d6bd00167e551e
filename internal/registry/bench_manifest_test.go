package registry_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// The large-manifest benchmarks model the push that issue 12 found slow: a
// 3.7 MiB OCI image manifest of largeLayers layers, every one held by the
// repository, put and then pulled back by tag.
const (
	largeRepo   = "bench/large"
	largeLayers = 25000
)

// BenchmarkPutImageLargeManifest measures one PutImage of a largeLayers
// manifest in the core over the real SQLite and filesystem stores. Each
// iteration puts a manifest of its own (an annotation makes the digest
// differ), so that every put does the whole work rather than stopping at
// ImageAlreadyExists.
func BenchmarkPutImageLargeManifest(b *testing.B) {
	for _, distinct := range []int{largeLayers, 100} {
		b.Run(fmt.Sprintf("layers=%d/distinct=%d", largeLayers, distinct), func(b *testing.B) {
			r, held := newLargeManifestBench(b, distinct)
			ctx := callerCtx()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer() // building the manifest is the client's work
				m := largeManifest(held, largeLayers, fmt.Sprint(i))
				b.StartTimer()
				img, err := r.PutImage(ctx, registry.NewImage{Key: registry.RepoKey{Name: largeRepo}, Manifest: m, Tag: fmt.Sprint("v", i)})
				if err != nil {
					b.Fatal(err)
				}
				if want := largeSize(held, largeLayers); img.Size != want {
					b.Fatalf("PutImage: imageSizeInBytes %d, want %d", img.Size, want)
				}
			}
		})
	}
}

// BenchmarkBatchGetImageLargeManifest measures pulling the largeLayers
// manifest back by tag, as a docker pull's manifest GET does.
func BenchmarkBatchGetImageLargeManifest(b *testing.B) {
	r, held := newLargeManifestBench(b, largeLayers)
	ctx := callerCtx()
	m := largeManifest(held, largeLayers, "pulled")
	if _, err := r.PutImage(ctx, registry.NewImage{Key: registry.RepoKey{Name: largeRepo}, Manifest: m, Tag: "latest"}); err != nil {
		b.Fatal(err)
	}
	ids := []registry.ImageID{{Tag: "latest"}}
	b.Run(fmt.Sprintf("layers=%d/byTag", largeLayers), func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			found, failures, err := r.BatchGetImage(ctx, registry.RepoKey{Name: largeRepo}, ids, nil)
			if err != nil {
				b.Fatal(err)
			}
			if len(failures) != 0 || len(found) != 1 || len(found[0].Image.Manifest) != len(m) {
				b.Fatalf("BatchGetImage: %d found, failures %v; want the manifest", len(found), failures)
			}
		}
	})
}

// BenchmarkReadLargeImage measures the store reads a pull of the
// largeLayers image can make: Image, which reads a record per layer, and
// ImageManifest, which reads the image's own record only (what serving
// the manifest needs).
func BenchmarkReadLargeImage(b *testing.B) {
	r, meta, held := newLargeManifestStores(b, largeLayers)
	ctx := callerCtx()
	m := largeManifest(held, largeLayers, "read")
	img, err := r.PutImage(ctx, registry.NewImage{Key: registry.RepoKey{Name: largeRepo}, Manifest: m})
	if err != nil {
		b.Fatal(err)
	}
	repo := registry.RepoKey{Registry: account, Name: largeRepo}
	for _, read := range []struct {
		name  string
		blobs int
		get   func(tx registry.Tx) (registry.Image, error)
	}{
		{"Image", largeLayers + 1, func(tx registry.Tx) (registry.Image, error) { return tx.Image(repo, img.Digest) }},
		{"ImageManifest", 0, func(tx registry.Tx) (registry.Image, error) { return tx.ImageManifest(repo, img.Digest) }},
	} {
		b.Run(fmt.Sprintf("layers=%d/%s", largeLayers, read.name), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				err := meta.View(ctx, func(tx registry.Tx) error {
					got, err := read.get(tx)
					if err == nil && (len(got.Manifest) != len(m) || len(got.Blobs) != read.blobs) {
						err = fmt.Errorf("read %d manifest bytes and %d blobs, want %d and %d", len(got.Manifest), len(got.Blobs), len(m), read.blobs)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// newLargeManifestBench returns a registry whose repository largeRepo holds
// distinct layers (config first), recorded through one MetaStore
// transaction as CompleteLayerUpload would leave them, and their digests.
func newLargeManifestBench(b *testing.B, distinct int) (*registry.Registry, []registry.Digest) {
	b.Helper()
	r, _, held := newLargeManifestStores(b, distinct)
	return r, held
}

// newLargeManifestStores is newLargeManifestBench that also returns the
// metadata store under the registry.
func newLargeManifestStores(b *testing.B, distinct int) (*registry.Registry, registry.MetaStore, []registry.Digest) {
	b.Helper()
	meta, blobs, _ := openStores(b)
	r := registry.New(registry.Options{Meta: meta, Blobs: blobs, Region: "us-east-1", Limits: registry.DefaultLimits()})
	ctx := callerCtx()
	if _, err := r.CreateRepository(ctx, registry.NewRepository{Key: registry.RepoKey{Name: largeRepo}}); err != nil {
		b.Fatal(err)
	}
	repo := registry.RepoKey{Registry: account, Name: largeRepo}
	held := make([]registry.Digest, distinct)
	now := time.Now().UTC()
	err := meta.Update(ctx, func(tx registry.Tx) error {
		for i := range held {
			held[i] = benchDigest("large", i)
			size := int64(1000 + i)
			if err := tx.AddBlob(registry.Blob{Digest: held[i], Size: size, CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.AddLayer(repo, registry.Layer{Digest: held[i], Size: size, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return r, meta, held
}

// largeManifest is an OCI image manifest with held[0] as its config and n
// layers cycling through held[1:] (held[0] too when held has one digest);
// the sizes are those newLargeManifestBench gave. note goes into an
// annotation.
func largeManifest(held []registry.Digest, n int, note string) []byte {
	m := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":1000},"layers":[`,
		registry.MediaTypeOCIManifest, held[0])
	for i := range n {
		if i > 0 {
			m = append(m, ',')
		}
		j := largeLayer(held, i)
		m = fmt.Appendf(m, `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d}`, held[j], 1000+j)
	}
	return fmt.Appendf(m, `],"annotations":{"note":%q}}`, note)
}

// largeLayer is the index in held of layer i of largeManifest.
func largeLayer(held []registry.Digest, i int) int {
	if len(held) == 1 {
		return 0
	}
	return 1 + i%(len(held)-1)
}

// largeSize is the imageSizeInBytes of largeManifest: the layers' sizes,
// duplicates included, without the config's.
func largeSize(held []registry.Digest, n int) int64 {
	var size int64
	for i := range n {
		size += int64(1000 + largeLayer(held, i))
	}
	return size
}
