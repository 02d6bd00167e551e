package registrytest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Grown is a repository seeded by Grow: what a benchmark or a query-plan
// test needs to ask about it.
type Grown struct {
	Key registry.RepoKey
	// Bases are the layers every image shares with a twentieth of the
	// others (two per base image); Apps the one layer each image has
	// alone, in image order.
	Bases, Apps []registry.Digest
	// Images are the image manifests' digests in the order put; Tags
	// their tags ("" for the untagged tenth).
	Images []registry.Digest
	Tags   []string
	// Subjects are images with three referrers each.
	Subjects []registry.Digest
}

// growBases is how many base images the grown images are built on.
const growBases = 20

// Grow seeds repository key (created if missing) through the store's own
// transactions with n images built as real ones are: each a config, the
// two layers of one of growBases base images, and one layer of its own;
// nine in ten tagged; one in a hundred archived and one in a hundred being
// restored; and for every hundredth image an index of it and the next,
// tagged, and three untagged referrers of it. It is the data of the
// query-plan tests and of the benchmarks that must see a repository's size.
func Grow(tb testing.TB, s registry.MetaStore, key registry.RepoKey, n int) Grown {
	tb.Helper()
	g := Grown{Key: key}
	now := time.Now().UTC()
	layer := func(kind string, i int) registry.Digest {
		return metaDigest(fmt.Sprintf("%s/%s %d", key.Name, kind, i))
	}
	for i := range growBases * 2 {
		g.Bases = append(g.Bases, layer("base", i))
	}
	add := func(tx registry.Tx, d registry.Digest, size int64) error {
		if err := tx.AddBlob(registry.Blob{Digest: d, Size: size, CreatedAt: now}); err != nil {
			return err
		}
		return tx.AddLayer(key, registry.Layer{Digest: d, Size: size, MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", CreatedAt: now})
	}
	err := s.Update(tb.Context(), func(tx registry.Tx) error {
		if _, err := tx.Repository(key); err != nil {
			if err := tx.CreateRepository(registry.Repository{Registry: key.Registry, Name: key.Name, CreatedAt: now,
				TagMutability: "MUTABLE", EncryptionType: "AES256"}); err != nil {
				return err
			}
		}
		for _, d := range g.Bases {
			if err := add(tx, d, 30<<20); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("Grow: %v", err)
	}
	const batch = 1000
	for start := 0; start < n; start += batch {
		err := s.Update(tb.Context(), func(tx registry.Tx) error {
			for i := start; i < min(n, start+batch); i++ {
				if err := g.put(tx, i, now, add, layer); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("Grow: %v", err)
		}
	}
	return g
}

// put puts image i of a grown repository, with its tag, and for every
// hundredth image its index and referrers.
func (g *Grown) put(tx registry.Tx, i int, now time.Time, add func(registry.Tx, registry.Digest, int64) error,
	layer func(string, int) registry.Digest) error {
	config, app := layer("config", i), layer("app", i)
	for _, d := range []registry.Digest{config, app} {
		if err := add(tx, d, 1000); err != nil {
			return err
		}
	}
	base := i % growBases
	img := registry.Image{
		Digest: metaDigest(fmt.Sprintf("%s/image %d", g.Key.Name, i)), Manifest: fmt.Appendf(nil, `{"image":%d}`, i),
		MediaType: registry.MediaTypeOCIManifest, ArtifactMediaType: "application/vnd.oci.image.config.v1+json",
		Size: 60<<20 + 2000, PushedAt: now, Status: registry.ImageActive,
		Blobs: []registry.ImageBlob{
			{Digest: config, MediaType: "application/vnd.oci.image.config.v1+json", Size: 1000},
			{Digest: g.Bases[2*base], MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 30 << 20},
			{Digest: g.Bases[2*base+1], MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 30 << 20},
			{Digest: app, MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 1000},
		},
	}
	switch i % 100 {
	case 37:
		img.Status, img.LastArchivedAt = registry.ImageArchived, now
	case 73:
		img.Status, img.ActiveAt = registry.ImageActivating, now.Add(time.Hour)
	}
	if err := tx.PutImage(g.Key, img); err != nil {
		return err
	}
	tag := ""
	if i%10 != 9 {
		tag = fmt.Sprintf("v%07d", i)
		if err := tx.SetTag(g.Key, tag, img.Digest, now); err != nil {
			return err
		}
	}
	g.Apps, g.Images, g.Tags = append(g.Apps, app), append(g.Images, img.Digest), append(g.Tags, tag)
	if i%100 != 1 {
		return nil
	}
	// Image i-1 is put by now: the index refers to it and to image i.
	index := registry.Image{
		Digest: metaDigest(fmt.Sprintf("%s/index %d", g.Key.Name, i)), Manifest: fmt.Appendf(nil, `{"index":%d}`, i),
		MediaType: registry.MediaTypeOCIIndex, Size: img.Size, PushedAt: now, Status: registry.ImageActive,
		Children: []registry.Digest{g.Images[i-1], img.Digest},
	}
	if err := tx.PutImage(g.Key, index); err != nil {
		return err
	}
	if err := tx.SetTag(g.Key, fmt.Sprintf("multi-%07d", i), index.Digest, now); err != nil {
		return err
	}
	for r, artifact := range []string{"application/vnd.example.sig", "application/vnd.example.sig", "application/spdx+json"} {
		ref := registry.Image{
			Digest: metaDigest(fmt.Sprintf("%s/referrer %d/%d", g.Key.Name, i, r)), Manifest: fmt.Appendf(nil, `{"referrer":%d}`, r),
			MediaType: registry.MediaTypeOCIManifest, ArtifactMediaType: artifact, Size: 1000, PushedAt: now,
			Status: registry.ImageActive, Subject: img.Digest,
			Blobs: []registry.ImageBlob{{Digest: config, MediaType: "application/vnd.oci.empty.v1+json", Size: 1000}},
		}
		if err := tx.PutImage(g.Key, ref); err != nil {
			return err
		}
	}
	g.Subjects = append(g.Subjects, img.Digest)
	return nil
}
