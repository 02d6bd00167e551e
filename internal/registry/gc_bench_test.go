package registry_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/blobstore/fs"
	"github.com/ecrd/ecrd/internal/metastore/postgres"
	"github.com/ecrd/ecrd/internal/metastore/postgres/pgtest"
	"github.com/ecrd/ecrd/internal/metastore/sqlite"
	"github.com/ecrd/ecrd/internal/registry"
)

var (
	gcLayers = flag.Int("bench.gc.layers", 20_000,
		"layer records BenchmarkGCAtScale seeds on each store (the issue's figure is 1000000)")
	gcPages = flag.String("bench.gc.pages", "",
		"LAYERS,BLOBS: the page sizes BenchmarkGCAtScale's collection uses instead of CollectGarbage's")
)

// BenchmarkGCAtScale seeds each MetaStore with -bench.gc.layers layer
// records shaped as a registry's are, then runs one collection while a
// pusher pushes small images through the core, and reports the pass's
// duration, what it read and removed, and the pusher's latency before and
// during the pass. Run it at the size with
//
//	go test ./internal/registry -run x -bench GCAtScale -benchtime 1x -bench.gc.layers 1000000
//
// Each repository holds 1,000 layer records: 150 images of a config, five
// layers of its own and three of the repository's ten base layers, drawn
// from 200 bases every repository shares; 90 layers no image refers to;
// and the registry holds one orphan blob per 100 layer records. A pass
// removes exactly the 90 per repository, their blobs and the orphans, which
// the benchmark checks.
func BenchmarkGCAtScale(b *testing.B) {
	for _, store := range []struct {
		name string
		open func(b *testing.B) registry.MetaStore
	}{
		{"sqlite", func(b *testing.B) registry.MetaStore {
			s, err := sqlite.Open(filepath.Join(b.TempDir(), "metadata.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
		{"postgres", func(b *testing.B) registry.MetaStore {
			s, err := postgres.Open(context.Background(), pgtest.FreshDatabase(b), postgres.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
	} {
		b.Run(fmt.Sprintf("%s/layers=%d", store.name, *gcLayers), func(b *testing.B) {
			meta := store.open(b)
			blobs, err := fs.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			seedStart := time.Now()
			want := seedGC(b, meta, *gcLayers)
			b.Logf("seeded %d layer records, %d blobs in %v", want.layers, want.blobs, time.Since(seedStart).Round(time.Millisecond))
			r := registry.New(registry.Options{Meta: meta, Blobs: blobs, Region: "us-east-1", Limits: registry.DefaultLimits()})
			p := newBenchPusher(b, r)

			// A warm-up lets the seeding's aftermath (SQLite's checkpoint of
			// its write-ahead log, PostgreSQL's autovacuum) pass first.
			p.run(func() { time.Sleep(5 * time.Second) })
			quiet := p.run(func() { time.Sleep(10 * time.Second) })
			b.ResetTimer()
			var st registry.GCStats
			var gcTime time.Duration
			during := p.run(func() {
				start := time.Now()
				defer func() { gcTime = time.Since(start) }()
				if *gcPages == "" {
					st, err = r.CollectGarbage(context.Background(), time.Hour)
					return
				}
				var lp, bp int
				if _, err = fmt.Sscanf(*gcPages, "%d,%d", &lp, &bp); err == nil {
					st, err = r.CollectGarbagePaged(context.Background(), time.Hour, lp, bp)
				}
			})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if st.Layers != want.garbageLayers || st.Blobs != want.garbageBlobs {
				b.Fatalf("the pass removed %d layer records and %d blobs, want %d and %d", st.Layers, st.Blobs, want.garbageLayers, want.garbageBlobs)
			}
			// Later passes find nothing: the figures are the first's.
			for i := 1; i < b.N; i++ {
				if _, err := r.CollectGarbage(context.Background(), time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(gcTime.Seconds(), "gc-s")
			b.ReportMetric(float64(st.LayersVisited), "layers-visited")
			b.ReportMetric(float64(st.Layers), "layers-deleted")
			b.ReportMetric(float64(st.BlobsVisited), "blobs-visited")
			b.ReportMetric(float64(st.Blobs), "blobs-deleted")
			b.ReportMetric(quiet.percentile(50), "push-p50-ms")
			b.ReportMetric(quiet.percentile(99), "push-p99-ms")
			b.ReportMetric(during.percentile(50), "gc-push-p50-ms")
			b.ReportMetric(during.percentile(99), "gc-push-p99-ms")
			b.Logf("gc %v: %+v; pushes without gc %d (p50 %.1f ms, p99 %.1f ms), during gc %d (p50 %.1f ms, p99 %.1f ms)",
				gcTime.Round(time.Millisecond), st, len(quiet), quiet.percentile(50), quiet.percentile(99),
				len(during), during.percentile(50), during.percentile(99))
		})
	}
}

// gcSeed is what seedGC stored and what a collection should remove.
type gcSeed struct {
	layers, blobs               int
	garbageLayers, garbageBlobs int
}

// seedGC fills meta with about n layer records (see BenchmarkGCAtScale),
// created two days ago, ten repositories per transaction.
func seedGC(b *testing.B, meta registry.MetaStore, n int) gcSeed {
	const (
		perRepo      = 1000
		images       = 150
		ownLayers    = 5
		repoBases    = 10
		imageBases   = 3
		loose        = perRepo - images*(1+ownLayers) - repoBases
		sharedBases  = 200
		reposPerTx   = 10
		orphanPerTxn = reposPerTx * perRepo / 100
	)
	repos := max(1, n/perRepo)
	created := time.Now().UTC().Add(-48 * time.Hour)
	var seed gcSeed
	rng := rand.New(rand.NewPCG(uint64(n), 15))
	ctx := context.Background()
	baseAdded := map[int]bool{} // the shared bases' blobs, added when first held
	for first := 0; first < repos; first += reposPerTx {
		// Update may run fn again: what it counts starts again with it.
		var newBases int
		added := maps.Clone(baseAdded)
		err := meta.Update(ctx, func(tx registry.Tx) error {
			newBases = 0
			clear(baseAdded)
			maps.Copy(baseAdded, added)
			for ri := first; ri < min(first+reposPerTx, repos); ri++ {
				key := registry.RepoKey{Registry: account, Name: registry.RepositoryName(fmt.Sprintf("team%03d/app%04d", ri%97, ri))}
				if err := tx.CreateRepository(registry.Repository{Registry: key.Registry, Name: key.Name, CreatedAt: created,
					TagMutability: "MUTABLE", EncryptionType: "AES256"}); err != nil {
					return err
				}
				add := func(d registry.Digest, size int64, newBlob bool) error {
					if newBlob {
						if err := tx.AddBlob(registry.Blob{Digest: d, Size: size, CreatedAt: created}); err != nil {
							return err
						}
					}
					return tx.AddLayer(key, registry.Layer{Digest: d, Size: size, CreatedAt: created})
				}
				bases := make([]registry.Digest, repoBases)
				for i, bi := range rng.Perm(sharedBases)[:repoBases] {
					bases[i] = benchDigest("base", bi)
					if err := add(bases[i], 1<<20, !baseAdded[bi]); err != nil {
						return err
					}
					if !baseAdded[bi] {
						baseAdded[bi] = true
						newBases++
					}
				}
				for im := range images {
					id := fmt.Sprintf("%d/%d", ri, im)
					img := registry.Image{Digest: benchDigest("image "+id, 0), Manifest: []byte("manifest " + id),
						MediaType: registry.MediaTypeOCIManifest, Status: registry.ImageActive, PushedAt: created}
					cfg := benchDigest("config "+id, 0)
					if err := add(cfg, 1000, true); err != nil {
						return err
					}
					img.Blobs = append(img.Blobs, registry.ImageBlob{Digest: cfg, MediaType: "application/vnd.oci.image.config.v1+json", Size: 1000})
					for _, bi := range rng.Perm(repoBases)[:imageBases] {
						img.Blobs = append(img.Blobs, registry.ImageBlob{Digest: bases[bi], MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 1 << 20})
					}
					for l := range ownLayers {
						d := benchDigest("layer "+id, l)
						if err := add(d, 50_000, true); err != nil {
							return err
						}
						img.Blobs = append(img.Blobs, registry.ImageBlob{Digest: d, MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 50_000})
					}
					if err := tx.PutImage(key, img); err != nil {
						return err
					}
				}
				for l := range loose {
					if err := add(benchDigest(fmt.Sprint("loose ", ri), l), 50_000, true); err != nil {
						return err
					}
				}
			}
			for o := range orphanPerTxn {
				if err := tx.AddBlob(registry.Blob{Digest: benchDigest(fmt.Sprint("orphan ", first), o), Size: 10, CreatedAt: created}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		in := min(first+reposPerTx, repos) - first
		seed.layers += in * perRepo
		seed.blobs += in*(perRepo-repoBases) + newBases + orphanPerTxn
		seed.garbageLayers += in * loose
		seed.garbageBlobs += in*loose + orphanPerTxn
	}
	return seed
}

// benchPusher pushes small images through the core: two layer uploads
// (a layer, a config) and a PutImage, each push new bytes.
type benchPusher struct {
	b *testing.B
	r *registry.Registry
	n int
}

const pushRepo = "bench/pusher"

func newBenchPusher(b *testing.B, r *registry.Registry) *benchPusher {
	if _, err := r.CreateRepository(callerCtx(), registry.NewRepository{Key: key(pushRepo)}); err != nil {
		b.Fatal(err)
	}
	return &benchPusher{b: b, r: r}
}

// latencies are push durations.
type latencies []time.Duration

// percentile returns the p-th percentile, in milliseconds.
func (l latencies) percentile(p int) float64 {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return float64(s[min(len(s)-1, len(s)*p/100)]) / float64(time.Millisecond)
}

// run pushes one image after another while during runs, and returns each
// push's duration.
func (p *benchPusher) run(during func()) latencies {
	var (
		out  latencies
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			start := time.Now()
			if err := p.push(); err != nil {
				p.b.Error(err)
				return
			}
			out = append(out, time.Since(start))
		}
	}()
	during()
	close(done)
	wg.Wait()
	return out
}

func (p *benchPusher) push() error {
	p.n++
	ctx := callerCtx()
	layer := fmt.Appendf(bytes.Repeat([]byte{'l'}, 4096), "push %d", p.n)
	cfg := fmt.Appendf(nil, `{"push":%d}`, p.n)
	var ds []registry.Digest
	for _, blob := range [][]byte{cfg, layer} {
		u, err := p.r.InitiateLayerUpload(ctx, key(pushRepo))
		if err != nil {
			return err
		}
		if _, err := p.r.UploadLayerPart(ctx, key(pushRepo), u.ID, 0, int64(len(blob))-1, int64(len(blob)), bytes.NewReader(blob)); err != nil {
			return err
		}
		d, err := p.r.CompleteLayerUpload(ctx, key(pushRepo), u.ID, []string{digest(blob)})
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d}]}`,
		registry.MediaTypeOCIManifest, ds[0], len(cfg), ds[1], len(layer))
	_, err := p.r.PutImage(ctx, registry.NewImage{Key: key(pushRepo), Manifest: []byte(manifest), Tag: fmt.Sprint("p", p.n)})
	return err
}
