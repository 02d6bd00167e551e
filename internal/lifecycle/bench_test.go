package lifecycle

import (
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/blobstore/fs"
	"github.com/ecrd/ecrd/internal/metastore/sqlite"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

var benchSizes = flag.String("bench.images", "1000,10000,100000", "repository sizes (images) of the lifecycle benchmarks")

// benchPolicy is what a team sets: keep the latest 1,000 release tags,
// archive the rest of the tagged images after 90 days unpulled, keep 100
// untagged images, and expire archived ones after a year.
const benchPolicy = `{"rules":[
 {"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":1000},"action":{"type":"expire"}},
 {"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":100},"action":{"type":"expire"}},
 {"rulePriority":3,"selection":{"tagStatus":"tagged","tagPatternList":["multi-*"],"countType":"sinceImagePulled","countUnit":"days","countNumber":90},"action":{"type":"transition","targetStorageClass":"archive"}},
 {"rulePriority":4,"selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365},"action":{"type":"expire"}}]}`

func sizes(b *testing.B) []int {
	var out []int
	for _, f := range strings.Split(*benchSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			b.Fatalf("-bench.images: %v", err)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkEvaluate: the pure evaluation of benchPolicy over a repository
// held in memory, as registrytest.Grow builds them.
func BenchmarkEvaluate(b *testing.B) {
	p, _, err := Parse(benchPolicy)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for _, n := range sizes(b) {
		images := make([]Image, n)
		for i := range images {
			images[i] = Image{Digest: registry.Digest(fmt.Sprintf("sha256:%064d", i)), PushedAt: now.Add(-time.Duration(n-i) * time.Minute), Status: registry.ImageActive}
			switch {
			case i%100 == 1:
				images[i].Tags = []string{fmt.Sprintf("multi-%07d", i)}
				images[i].Children = []registry.Digest{images[i-1].Digest}
			case i%10 != 9:
				images[i].Tags = []string{fmt.Sprintf("v%07d", i)}
			}
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var acted int
			for b.Loop() {
				acted = len(Evaluate(p, images, now))
			}
			b.ReportMetric(float64(acted), "actions")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/image")
		})
	}
}

// BenchmarkDecide: what a run does before it acts, over SQLite: read the
// repository's snapshot (images, tags, indexes' children) and evaluate.
// BenchmarkPreview adds writing the results, as a preview does.
func BenchmarkDecide(b *testing.B)  { benchStore(b, false) }
func BenchmarkPreview(b *testing.B) { benchStore(b, true) }

func benchStore(b *testing.B, preview bool) {
	p, _, err := Parse(benchPolicy)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range sizes(b) {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			dir := b.TempDir()
			meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer meta.Close()
			blobs, err := fs.Open(filepath.Join(dir, "blobs"))
			if err != nil {
				b.Fatal(err)
			}
			key := registry.RepoKey{Registry: "123456789012", Name: "bench/app"}
			registrytest.Grow(b, meta, key, n)
			reg := registry.New(registry.Options{Meta: meta, Blobs: blobs})
			s := New(reg, Options{})
			defer s.Close()
			start := registry.LifecyclePreview{Status: registry.PreviewInProgress, StartedAt: time.Now().UTC().Truncate(time.Microsecond)}
			var acted int
			for b.Loop() {
				images, decisions, err := s.decide(b.Context(), key, p, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				if preview {
					// As the service's background preview does: the core's own
					// write, which no caller's policy decides.
					err := reg.UpdateRepository(registry.AsCore(b.Context()), "StartLifecyclePolicyPreview", key, func(tx registry.Tx) error {
						if err := tx.DeleteLifecyclePreviewResults(key); err != nil {
							return err
						}
						return tx.PutLifecyclePreview(key, start)
					})
					if err == nil {
						_, _, err = s.recordResults(b.Context(), key, start, images, decisions)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				acted = len(decisions)
			}
			b.ReportMetric(float64(acted), "actions")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/image")
		})
	}
}
