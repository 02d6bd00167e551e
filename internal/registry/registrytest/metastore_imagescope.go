package registrytest

import (
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// testImagesPerRepository shows that images and tags never leak across
// repositories or registries, even under the same digest and tag.
func testImagesPerRepository(t *testing.T, s registry.MetaStore) {
	a, b, twin := metaKey(metaRegA, "app"), metaKey(metaRegA, "other"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, a, b, twin)
	img := metaImage("img")
	metaPutImages(t, s, a, img)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.SetTag(a, "latest", img.Digest, metaTime(0)) })
	metaView(t, s, func(tx registry.Tx) error {
		for _, k := range []registry.RepoKey{b, twin} {
			where := " in " + string(k.Registry) + "/" + string(k.Name)
			_, err := tx.Image(k, img.Digest)
			metaWantErr(t, "Image"+where, err, registry.ErrNotFound)
			_, err = tx.Tag(k, "latest")
			metaWantErr(t, "Tag"+where, err, registry.ErrNotFound)
			for _, q := range []registry.ImageQuery{{Limit: 10}, {Limit: 10, TagStatus: registry.TagStatusUntagged},
				{Limit: 10, TagStatus: registry.TagStatusTagged, Status: registry.ImageActive}} {
				if imgs, err := tx.Images(k, q); err != nil || len(imgs) != 0 {
					t.Errorf("Images(%+v)%s = %d images, %v; want none", q, where, len(imgs), err)
				}
			}
			if refs, err := tx.Referrers(k, img.Digest, "", 10); err != nil || len(refs) != 0 {
				t.Errorf("Referrers%s = %d images, %v; want none", where, len(refs), err)
			}
			if tags, err := tx.Tags(k, "", 10); err != nil || len(tags) != 0 {
				t.Errorf("Tags%s = %v, %v; want none", where, tags, err)
			}
			if tags, err := tx.ImageTags(k, img.Digest); err != nil || len(tags) != 0 {
				t.Errorf("ImageTags%s = %q, %v; want none", where, tags, err)
			}
			if ps, err := tx.Parents(k, img.Children[0]); err != nil || len(ps) != 0 {
				t.Errorf("Parents%s = %v, %v; want none", where, ps, err)
			}
			if refs, err := tx.LayerRefs(k, []registry.Digest{img.Blobs[0].Digest}, time.Now()); err != nil || len(refs) != 0 {
				t.Errorf("LayerRefs%s = %v, %v; want none", where, refs, err)
			}
			if n, err := tx.CountImages(k); err != nil || n != 0 {
				t.Errorf("CountImages%s = %d, %v; want 0", where, n, err)
			}
		}
		return nil
	})

	// The same digest and tag elsewhere are separate records: changing or
	// deleting them there leaves a's as they are.
	twinImg := metaBareImage("twin")
	twinImg.Digest = img.Digest
	metaPutImages(t, s, twin, twinImg)
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.SetTag(twin, "latest", img.Digest, metaTime(0)); err != nil {
			return err
		}
		if err := tx.DeleteTag(twin, "latest"); err != nil {
			return err
		}
		return tx.DeleteImage(twin, img.Digest)
	})
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Image(a, img.Digest)
		if err != nil {
			return err
		}
		metaSame(t, "Image after changes in another registry", got, img, normImage)
		if d, err := tx.Tag(a, "latest"); err != nil || d != img.Digest {
			t.Errorf("Tag after changes in another registry = %s, %v; want %s", d, err, img.Digest)
		}
		return nil
	})

	// A tag cannot name an image of another repository.
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.SetTag(b, "latest", img.Digest, metaTime(0)) })
	if err == nil {
		t.Errorf("SetTag in %s/%s to an image of %s/%s succeeded", b.Registry, b.Name, a.Registry, a.Name)
	}
}

// testRepositoryDeleteCascadesImages shows that deleting a repository
// deletes its images and tags, and only its own.
func testRepositoryDeleteCascadesImages(t *testing.T, s registry.MetaStore) {
	gone, kept := metaKey(metaRegA, "app"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, gone, kept)
	img := metaImage("img")
	for _, k := range []registry.RepoKey{gone, kept} {
		metaPutImages(t, s, k, img, metaBareImage("untagged"))
		metaUpdate(t, s, func(tx registry.Tx) error { return tx.SetTag(k, "latest", img.Digest, metaTime(0)) })
	}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteRepository(gone) })

	// A repository created again under the same name starts empty.
	metaCreateRepos(t, s, gone)
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Image(gone, img.Digest)
		metaWantErr(t, "Image of the re-created repository", err, registry.ErrNotFound)
		_, err = tx.Tag(gone, "latest")
		metaWantErr(t, "Tag of the re-created repository", err, registry.ErrNotFound)
		if n, err := tx.CountImages(gone); err != nil || n != 0 {
			t.Errorf("CountImages of the re-created repository = %d, %v; want 0", n, err)
		}
		if imgs, err := tx.Images(gone, registry.ImageQuery{Limit: 10}); err != nil || len(imgs) != 0 {
			t.Errorf("Images of the re-created repository = %d images, %v; want none", len(imgs), err)
		}
		if tags, err := tx.Tags(gone, "", 10); err != nil || len(tags) != 0 {
			t.Errorf("Tags of the re-created repository = %v, %v; want none", tags, err)
		}
		if ps, err := tx.Parents(gone, img.Children[0]); err != nil || len(ps) != 0 {
			t.Errorf("Parents in the re-created repository = %v, %v; want none", ps, err)
		}
		if refs, err := tx.LayerRefs(gone, []registry.Digest{img.Blobs[0].Digest}, time.Now()); err != nil || len(refs) != 0 {
			t.Errorf("LayerRefs in the re-created repository = %v, %v; want none", refs, err)
		}

		if n, err := tx.CountImages(kept); err != nil || n != 2 {
			t.Errorf("CountImages of the other registry's repository = %d, %v; want 2", n, err)
		}
		if d, err := tx.Tag(kept, "latest"); err != nil || d != img.Digest {
			t.Errorf("Tag of the other registry's repository = %s, %v; want %s", d, err, img.Digest)
		}
		got, err := tx.Image(kept, img.Digest)
		if err != nil {
			return err
		}
		metaSame(t, "Image of the other registry's repository", got, img, normImage)
		return nil
	})
}
