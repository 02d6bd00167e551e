package registrytest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// testImageQueries pages through every combination of ImageQuery's tag
// status and image status, two images a page, and compares each listing
// with the images that should pass, worked out here from what was put.
// The tags move and go between listings, so that a store whose notion of
// "tagged" is kept by SetTag and DeleteTag must keep it right.
func testImageQueries(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key, metaKey(metaRegA, "other"))
	now := metaTime(time.Hour)
	statuses := []struct {
		stored   string
		activeAt time.Time
	}{
		{registry.ImageActive, time.Time{}},
		{registry.ImageArchived, time.Time{}},
		{registry.ImageActivating, now.Add(time.Minute)},  // still restoring
		{registry.ImageActivating, now.Add(-time.Minute)}, // restored by the clock
		{registry.ImageActivating, now},                   // restored at this instant
	}
	var imgs []registry.Image
	for i := range 15 {
		img := metaBareImage(fmt.Sprint("query ", i))
		st := statuses[i%len(statuses)]
		img.Status, img.ActiveAt = st.stored, st.activeAt
		imgs = append(imgs, img)
	}
	metaPutImages(t, s, key, imgs...)
	// The same images elsewhere must never show.
	metaPutImages(t, s, metaKey(metaRegA, "other"), imgs...)
	status := func(img registry.Image) string {
		if img.Status == registry.ImageActivating && !now.Before(img.ActiveAt) {
			return registry.ImageActive
		}
		return img.Status
	}
	tagged := map[registry.Digest]bool{}
	check := func(when string) {
		t.Helper()
		for _, ts := range []string{"", registry.TagStatusTagged, registry.TagStatusUntagged} {
			for _, st := range []string{"", registry.ImageActive, registry.ImageArchived, registry.ImageActivating} {
				var want []registry.Digest
				for _, img := range imgs {
					if (ts == "" || (ts == registry.TagStatusTagged) == tagged[img.Digest]) && (st == "" || st == status(img)) {
						want = append(want, img.Digest)
					}
				}
				slices.Sort(want)
				for _, bare := range []bool{false, true} {
					var got []registry.Digest
					q := registry.ImageQuery{Limit: 2, TagStatus: ts, Status: st, Now: now, DigestsOnly: bare}
					metaView(t, s, func(tx registry.Tx) error {
						for range len(imgs) + 1 {
							page, err := tx.Images(key, q)
							if err != nil || len(page) == 0 {
								return err
							}
							if len(page) > q.Limit {
								t.Errorf("%s: Images(%+v) returned %d images", when, q, len(page))
							}
							for _, img := range page {
								w := imgs[slices.IndexFunc(imgs, func(i registry.Image) bool { return i.Digest == img.Digest })]
								if img.Status != w.Status || !img.ActiveAt.Equal(metaMicro(w.ActiveAt)) && !w.ActiveAt.IsZero() {
									t.Errorf("%s: Images(%+v) listed %s as %s until %v, stored as %s until %v", when, q, img.Digest, img.Status, img.ActiveAt, w.Status, w.ActiveAt)
								}
							}
							got = append(got, metaDigests(page)...)
							q.After = page[len(page)-1].Digest
						}
						return nil
					})
					if !slices.Equal(got, want) {
						t.Errorf("%s: tag status %q, status %q, digests only %v listed\n %s\nwant\n %s", when, ts, st, bare, got, want)
					}
				}
			}
		}
	}
	check("nothing tagged")

	metaUpdate(t, s, func(tx registry.Tx) error {
		for i, img := range imgs {
			if i%2 == 0 {
				if err := tx.SetTag(key, fmt.Sprint("t", i), img.Digest, now); err != nil {
					return err
				}
				tagged[img.Digest] = true
			}
		}
		// A second tag on image 0, a tag set again to the image it names.
		if err := tx.SetTag(key, "also", imgs[0].Digest, now); err != nil {
			return err
		}
		return tx.SetTag(key, "t2", imgs[2].Digest, now)
	})
	check("even images tagged")

	metaUpdate(t, s, func(tx registry.Tx) error {
		// Moving image 4's only tag to image 5 untags 4 and tags 5.
		if err := tx.SetTag(key, "t4", imgs[5].Digest, now); err != nil {
			return err
		}
		tagged[imgs[4].Digest], tagged[imgs[5].Digest] = false, true
		// Image 0 keeps its other tag.
		if err := tx.DeleteTag(key, "t0"); err != nil {
			return err
		}
		// Image 2 loses its only one.
		if err := tx.DeleteTag(key, "t2"); err != nil {
			return err
		}
		tagged[imgs[2].Digest] = false
		// Putting a tagged image again keeps it tagged.
		return tx.PutImage(key, imgs[6])
	})
	check("tags moved and deleted")

	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.DeleteImage(key, imgs[8].Digest); err != nil {
			return err
		}
		imgs = slices.Delete(imgs, 8, 9)
		return nil
	})
	check("a tagged image deleted")

	metaView(t, s, func(tx registry.Tx) error {
		for _, q := range []registry.ImageQuery{{Limit: 1, Status: "PENDING"}, {Limit: 1, TagStatus: "ANY"}} {
			if _, err := tx.Images(key, q); err == nil {
				t.Errorf("Images(%+v) answered a query it cannot know", q)
			}
		}
		return nil
	})
}

// testTagsCarryImageStatus: TagsWithStatus reports the status and restore
// time of each tag's image, as stored, and otherwise what Tags does.
func testTagsCarryImageStatus(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	active, restoring := metaBareImage("active"), metaBareImage("restoring")
	restoring.Status, restoring.ActiveAt = registry.ImageActivating, metaTime(time.Hour)
	metaPutImages(t, s, key, active, restoring)
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.SetTag(key, "a", active.Digest, metaTime(0)); err != nil {
			return err
		}
		return tx.SetTag(key, "b", restoring.Digest, metaTime(0))
	})
	metaView(t, s, func(tx registry.Tx) error {
		tags, err := tx.TagsWithStatus(key, "", 10)
		if err != nil {
			return err
		}
		plain, err := tx.Tags(key, "", 10)
		if err != nil {
			return err
		}
		for i := range min(len(tags), len(plain)) {
			if p := tags[i]; p.Status == "" || (registry.TagRef{Tag: p.Tag, Digest: p.Digest, CreatedAt: p.CreatedAt}) != plain[i] {
				t.Errorf("TagsWithStatus[%d] = %+v, Tags[%d] = %+v; want the same tag, with a status", i, p, i, plain[i])
			}
		}
		if page, err := tx.TagsWithStatus(key, "a", 1); err != nil || len(page) != 1 || page[0].Tag != "b" {
			t.Errorf("TagsWithStatus after a, limit 1 = %+v, %v; want b", page, err)
		}
		if len(tags) != 2 || tags[0].Status != registry.ImageActive || !tags[0].ActiveAt.IsZero() ||
			tags[1].Status != registry.ImageActivating || !tags[1].ActiveAt.Equal(metaMicro(restoring.ActiveAt)) {
			t.Errorf("Tags = %+v; want a ACTIVE and b ACTIVATING until %v", tags, restoring.ActiveAt)
		}
		return nil
	})
	// A status changes by putting the image again; its tags follow.
	active.Status, restoring.Status, restoring.ActiveAt = registry.ImageArchived, registry.ImageActive, time.Time{}
	metaPutImages(t, s, key, active, restoring)
	metaView(t, s, func(tx registry.Tx) error {
		tags, err := tx.TagsWithStatus(key, "", 10)
		if err != nil || len(tags) != 2 || tags[0].Status != registry.ImageArchived ||
			tags[1].Status != registry.ImageActive || !tags[1].ActiveAt.IsZero() {
			t.Errorf("TagsWithStatus after the statuses changed = %+v, %v; want a ARCHIVED, b ACTIVE", tags, err)
		}
		return nil
	})
}

// testReferrers: Referrers finds the images whose subject is a digest, in
// digest order and by pages, in their repository only, with their
// manifests.
func testReferrers(t *testing.T, s registry.MetaStore) {
	key, other := metaKey(metaRegA, "app"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, key, other)
	subject, unrelated := metaDigest("subject"), metaDigest("unrelated")
	var refs []registry.Image
	for i := range 5 {
		img := metaBareImage(fmt.Sprint("referrer ", i))
		img.Subject = subject
		img.Manifest = []byte(fmt.Sprintf(`{"n":%d}`, i))
		if i == 3 {
			img.Status = registry.ImageArchived
		}
		refs = append(refs, img)
	}
	plain := metaBareImage("no subject")
	elsewhere := metaBareImage("referrer of another")
	elsewhere.Subject = unrelated
	metaPutImages(t, s, key, append([]registry.Image{plain, elsewhere}, refs...)...)
	metaPutImages(t, s, other, refs[0])
	want := slices.Sorted(slices.Values(metaDigests(refs)))
	metaView(t, s, func(tx registry.Tx) error {
		var got []registry.Digest
		after := registry.Digest("")
		for range len(refs) + 1 {
			page, err := tx.Referrers(key, subject, after, 2)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			for _, img := range page {
				i := slices.IndexFunc(refs, func(r registry.Image) bool { return r.Digest == img.Digest })
				if i < 0 {
					t.Errorf("Referrers listed %s, not a referrer", img.Digest)
					continue
				}
				metaSame(t, "referrer "+string(img.Digest), img, refs[i], normImage)
			}
			got = append(got, metaDigests(page)...)
			after = page[len(page)-1].Digest
		}
		if !slices.Equal(got, want) {
			t.Errorf("Referrers listed\n %s\nwant\n %s", got, want)
		}
		for _, d := range []registry.Digest{plain.Digest, metaDigest("absent"), ""} {
			if page, err := tx.Referrers(key, d, "", 10); err != nil || len(page) != 0 {
				t.Errorf("Referrers of %q = %d images, %v; want none", d, len(page), err)
			}
		}
		if page, err := tx.Referrers(key, subject, "", 0); err != nil || len(page) != 0 {
			t.Errorf("Referrers with limit 0 = %d images, %v; want none", len(page), err)
		}
		return nil
	})
}

// testRepositoryEmpty: a repository is empty without layers and images,
// archived images included; another repository's records do not count.
func testRepositoryEmpty(t *testing.T, s registry.MetaStore) {
	key, other := metaKey(metaRegA, "app"), metaKey(metaRegA, "other")
	metaCreateRepos(t, s, key, other)
	empty := func(when string, want bool) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			if got, err := tx.RepositoryEmpty(key); err != nil || got != want {
				t.Errorf("%s: RepositoryEmpty = %v, %v; want %v", when, got, err, want)
			}
			return nil
		})
	}
	archived := metaBareImage("archived")
	archived.Status = registry.ImageArchived
	metaPutImages(t, s, other, archived)
	empty("new, beside a repository with an image", true)
	l := registry.Layer{Digest: metaDigest("layer"), Size: 1, CreatedAt: metaTime(0)}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.AddLayer(key, l) })
	empty("with a layer", false)
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.DeleteLayer(key, l.Digest); err != nil {
			return err
		}
		return tx.PutImage(key, archived)
	})
	empty("with an archived image only", false)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteImage(key, archived.Digest) })
	empty("emptied", true)
}

// testSetTagNeedsImage: a tag can only name an image of its own
// repository; a refused SetTag writes nothing.
func testSetTagNeedsImage(t *testing.T, s registry.MetaStore) {
	key, other := metaKey(metaRegA, "app"), metaKey(metaRegA, "other")
	metaCreateRepos(t, s, key, other)
	elsewhere := metaBareImage("elsewhere")
	metaPutImages(t, s, other, elsewhere)
	for _, d := range []registry.Digest{metaDigest("absent"), elsewhere.Digest} {
		err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.SetTag(key, "latest", d, metaTime(0)) })
		metaWantErr(t, "SetTag to an image the repository does not hold", err, registry.ErrNotFound)
	}
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Tag(key, "latest")
		metaWantErr(t, "Tag after a refused SetTag", err, registry.ErrNotFound)
		return nil
	})
}
