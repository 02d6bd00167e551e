package registrytest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// metaImage returns an image with every field set, its Blobs and Children
// in an order other than digest order so that a store that sorts them shows.
// The last blob names the first again, under a media type with characters
// that need quoting in SQL, JSON and Go, so that a store must keep every
// blob as given, in place.
func metaImage(name string) registry.Image {
	blobs := []registry.ImageBlob{
		{Digest: metaDigest(name + " config"), MediaType: "application/vnd.oci.image.config.v1+json", Size: 1234},
		{Digest: metaDigest(name + " layer 1"), MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 1<<40 + 5},
		{Digest: metaDigest(name + " layer 2"), MediaType: "application/vnd.oci.image.layer.v1.tar+zstd", Size: 0},
	}
	slices.SortFunc(blobs, func(a, b registry.ImageBlob) int { return strings.Compare(string(b.Digest), string(a.Digest)) })
	blobs = append(blobs, registry.ImageBlob{Digest: blobs[0].Digest, MediaType: "x/y; q=\"'\\<&>\u00e9\t\u2028", Size: blobs[0].Size})
	children := []registry.Digest{metaDigest(name + " child 1"), metaDigest(name + " child 2"), metaDigest(name + " child 3")}
	slices.Sort(children)
	slices.Reverse(children)
	return registry.Image{
		Digest:            metaDigest("image " + name),
		Manifest:          []byte(`{"schemaVersion":2,"name":"` + name + "\"}\n\x00\xff"),
		MediaType:         "application/vnd.oci.image.manifest.v1+json",
		ArtifactMediaType: "application/vnd.example.sbom.v1+json",
		Size:              1<<40 + 1234,
		PushedAt:          metaTime(time.Minute),
		LastPulledAt:      metaTime(2 * time.Minute),
		Status:            registry.ImageActivating,
		LastArchivedAt:    metaTime(3 * time.Minute),
		LastActivatedAt:   metaTime(4 * time.Minute),
		ActiveAt:          metaTime(5 * time.Minute),
		Subject:           metaDigest(name + " subject"),
		Blobs:             blobs,
		Children:          children,
	}
}

// metaBareImage returns an active image with only a digest, a manifest and
// a push time.
func metaBareImage(name string) registry.Image {
	return registry.Image{
		Digest:   metaDigest("image " + name),
		Manifest: []byte(name),
		Status:   registry.ImageActive,
		PushedAt: metaTime(0),
	}
}

func normImage(img registry.Image) registry.Image {
	for _, tm := range []*time.Time{&img.PushedAt, &img.LastPulledAt, &img.LastArchivedAt, &img.LastActivatedAt, &img.ActiveAt} {
		if !tm.IsZero() {
			*tm = metaMicro(*tm)
		}
	}
	if len(img.Manifest) == 0 {
		img.Manifest = nil
	}
	if len(img.Blobs) == 0 {
		img.Blobs = nil
	}
	if len(img.Children) == 0 {
		img.Children = nil
	}
	return img
}

// metaPutImages puts imgs into the repository key in one Update.
func metaPutImages(t *testing.T, s registry.MetaStore, key registry.RepoKey, imgs ...registry.Image) {
	t.Helper()
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, img := range imgs {
			if err := tx.PutImage(key, img); err != nil {
				return err
			}
		}
		return nil
	})
}

// metaDigests returns the digests of imgs.
func metaDigests(imgs []registry.Image) []registry.Digest {
	var ds []registry.Digest
	for _, img := range imgs {
		ds = append(ds, img.Digest)
	}
	return ds
}

func testImageRoundTrip(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	full := metaImage("full")
	// Zero times (never pulled, archived or restored) and no blobs,
	// children or subject, given as nil and as empty slices.
	zero := registry.Image{Digest: metaDigest("zero"), Manifest: []byte("{}"), Status: registry.ImageActive}
	empty := registry.Image{Digest: metaDigest("empty"), Manifest: []byte{}, Status: registry.ImageArchived,
		PushedAt: metaTime(0), Blobs: []registry.ImageBlob{}, Children: []registry.Digest{}}
	want := []registry.Image{full, zero, empty}
	metaPutImages(t, s, key, want...)
	metaView(t, s, func(tx registry.Tx) error {
		for _, w := range want {
			got, err := tx.Image(key, w.Digest)
			if err != nil {
				return err
			}
			metaSame(t, "Image "+string(w.Digest), got, w, normImage)
			// ImageManifest has every field but the blobs and children.
			got, err = tx.ImageManifest(key, w.Digest)
			if err != nil {
				return err
			}
			bare := w
			bare.Blobs, bare.Children = nil, nil
			metaSame(t, "ImageManifest "+string(w.Digest), got, bare, normImage)
		}
		// Every field but the manifest bytes, blobs and children comes back
		// through the listings too.
		listed, err := tx.Images(key, registry.ImageQuery{Limit: 10})
		if err != nil {
			return err
		}
		for _, got := range listed {
			i := slices.IndexFunc(want, func(w registry.Image) bool { return w.Digest == got.Digest })
			if i < 0 {
				t.Errorf("Images listed %s, which was not put", got.Digest)
				continue
			}
			if got.Manifest != nil {
				t.Errorf("Images listed %s with its manifest bytes", got.Digest)
			}
			w := want[i]
			w.Manifest, w.Blobs, w.Children = nil, nil, nil
			metaSame(t, "listed image "+string(got.Digest), got, w, normImage)
		}
		if len(listed) != len(want) {
			t.Errorf("Images listed %d images, want %d", len(listed), len(want))
		}
		return nil
	})
}

func testImagePutReplaces(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	first := metaImage("img")
	metaPutImages(t, s, key, first)
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.SetTag(key, "latest", first.Digest, metaTime(0)); err != nil {
			return err
		}
		return tx.SetTag(key, "v1", first.Digest, metaTime(0))
	})
	// Same digest, every other field changed, fewer blobs and no children.
	second := metaImage("other")
	second.Digest = first.Digest
	second.Status = registry.ImageArchived
	second.Blobs = second.Blobs[:1]
	second.Children = nil
	metaPutImages(t, s, key, second)
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Image(key, first.Digest)
		if err != nil {
			return err
		}
		metaSame(t, "Image after replacing", got, second, normImage)
		if tags, err := tx.ImageTags(key, first.Digest); err != nil || !slices.Equal(tags, []string{"latest", "v1"}) {
			t.Errorf("ImageTags after replacing = %q, %v; want the tags kept", tags, err)
		}
		if n, err := tx.CountImages(key); err != nil || n != 1 {
			t.Errorf("CountImages after replacing = %d, %v; want 1", n, err)
		}
		refs, err := tx.LayerRefs(key, []registry.Digest{first.Blobs[0].Digest, first.Blobs[1].Digest}, time.Now())
		if err != nil {
			return err
		}
		if len(refs) != 0 {
			t.Errorf("LayerRefs of the blobs only the replaced image had = %v, want none", refs)
		}
		if ps, err := tx.Parents(key, first.Children[0]); err != nil || len(ps) != 0 {
			t.Errorf("Parents of a child only the replaced image had = %v, %v; want none", ps, err)
		}
		return nil
	})
}

func testImagePutMissingRepository(t *testing.T, s registry.MetaStore) {
	metaCreateRepos(t, s, metaKey(metaRegA, "app"))
	for _, k := range []registry.RepoKey{metaKey(metaRegA, "missing"), metaKey(metaRegB, "app")} {
		err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.PutImage(k, metaImage("img")) })
		metaWantErr(t, "PutImage into "+string(k.Registry)+"/"+string(k.Name), err, registry.ErrNotFound)
	}
}

func testImageNotFound(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	metaPutImages(t, s, key, metaImage("present"))
	absent := metaDigest("absent")
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Image(key, absent)
		metaWantErr(t, "Image of an absent digest", err, registry.ErrNotFound)
		_, err = tx.ImageManifest(key, absent)
		metaWantErr(t, "ImageManifest of an absent digest", err, registry.ErrNotFound)
		// An image of another repository is not found either.
		_, err = tx.ImageManifest(metaKey(metaRegB, "app"), metaImage("present").Digest)
		metaWantErr(t, "ImageManifest of an image of another registry", err, registry.ErrNotFound)
		return nil
	})
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteImage(key, absent) })
	metaWantErr(t, "DeleteImage of an absent digest", err, registry.ErrNotFound)
}

func testImageDeleteRemovesTags(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	gone, kept := metaImage("gone"), metaImage("kept")
	metaPutImages(t, s, key, gone, kept)
	metaUpdate(t, s, func(tx registry.Tx) error {
		for tag, d := range map[string]registry.Digest{"a": gone.Digest, "b": gone.Digest, "c": kept.Digest} {
			if err := tx.SetTag(key, tag, d, metaTime(0)); err != nil {
				return err
			}
		}
		return nil
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteImage(key, gone.Digest) })
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Image(key, gone.Digest)
		metaWantErr(t, "Image after delete", err, registry.ErrNotFound)
		for _, tag := range []string{"a", "b"} {
			_, err := tx.Tag(key, tag)
			metaWantErr(t, "Tag "+tag+" of the deleted image", err, registry.ErrNotFound)
		}
		if tags, err := tx.ImageTags(key, gone.Digest); err != nil || len(tags) != 0 {
			t.Errorf("ImageTags of the deleted image = %q, %v; want none", tags, err)
		}
		if refs, err := tx.Tags(key, "", 10); err != nil || !slices.Equal(refs, []registry.TagRef{{Tag: "c", Digest: kept.Digest, CreatedAt: metaMicro(metaTime(0))}}) {
			t.Errorf("Tags after delete = %v, %v; want only the other image's", refs, err)
		}
		if ps, err := tx.Parents(key, gone.Children[0]); err != nil || len(ps) != 0 {
			t.Errorf("Parents after delete = %v, %v; want none", ps, err)
		}
		if refs, err := tx.LayerRefs(key, []registry.Digest{gone.Blobs[0].Digest}, time.Now()); err != nil || len(refs) != 0 {
			t.Errorf("LayerRefs after delete = %v, %v; want none", refs, err)
		}
		return nil
	})
	// The digest can be put again, and starts without tags.
	metaPutImages(t, s, key, gone)
	metaView(t, s, func(tx registry.Tx) error {
		if tags, err := tx.ImageTags(key, gone.Digest); err != nil || len(tags) != 0 {
			t.Errorf("ImageTags of the image put again = %q, %v; want none", tags, err)
		}
		return nil
	})
}

// testImagesPagination pages through Images, which lists in digest order,
// without a filter and for untagged images.
func testImagesPagination(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key, metaKey(metaRegA, "other"))
	var imgs []registry.Image
	for i := range 9 {
		imgs = append(imgs, metaBareImage(fmt.Sprint(i)))
	}
	metaPutImages(t, s, key, imgs...)
	metaPutImages(t, s, metaKey(metaRegA, "other"), metaBareImage("elsewhere"))
	all := slices.Sorted(slices.Values(metaDigests(imgs)))
	// Every third image, in digest order, is tagged.
	var untagged []registry.Digest
	metaUpdate(t, s, func(tx registry.Tx) error {
		for i, d := range all {
			if i%3 != 0 {
				untagged = append(untagged, d)
				continue
			}
			if err := tx.SetTag(key, fmt.Sprint("t", i), d, metaTime(0)); err != nil {
				return err
			}
		}
		return nil
	})
	cases := []struct {
		name     string
		untagged bool
		after    registry.Digest
		limit    int
		want     []registry.Digest
	}{
		{"Images/FirstPage", false, "", 4, all[:4]},
		{"Images/MiddlePage", false, all[3], 3, all[4:7]},
		{"Images/LastPartialPage", false, all[6], 5, all[7:]},
		{"Images/AfterAbsentDigest", false, "sha256:", 2, all[:2]},
		{"Images/AfterLast", false, all[8], 5, nil},
		{"Images/ZeroLimit", false, "", 0, nil},
		{"Untagged/FirstPage", true, "", 2, untagged[:2]},
		{"Untagged/AfterTagged", true, all[3], 3, untagged[2:5]},
		{"Untagged/All", true, "", 100, untagged},
		{"Untagged/AfterLast", true, untagged[len(untagged)-1], 5, nil},
	}
	metaView(t, s, func(tx registry.Tx) error {
		for _, c := range cases {
			q := registry.ImageQuery{After: c.after, Limit: c.limit}
			if c.untagged {
				q.TagStatus = registry.TagStatusUntagged
			}
			got, err := tx.Images(key, q)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if ds := metaDigests(got); !slices.Equal(ds, c.want) {
				t.Errorf("%s: after %s limit %d listed\n %s\nwant\n %s", c.name, c.after, c.limit, ds, c.want)
			}
		}
		return nil
	})
}

func testImagesCount(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	for want := range 4 {
		metaView(t, s, func(tx registry.Tx) error {
			if n, err := tx.CountImages(key); err != nil || n != want {
				t.Errorf("CountImages = %d, %v; want %d", n, err, want)
			}
			return nil
		})
		metaPutImages(t, s, key, metaBareImage(fmt.Sprint(want)))
	}
	// Putting an image again does not count it twice.
	metaPutImages(t, s, key, metaBareImage("0"))
	metaView(t, s, func(tx registry.Tx) error {
		if n, err := tx.CountImages(key); err != nil || n != 4 {
			t.Errorf("CountImages after putting an image again = %d, %v; want 4", n, err)
		}
		return nil
	})
}

// testRecordPull: RecordPull sets LastPulledAt and nothing else; an unknown
// image is ignored.
func testRecordPull(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "pull/record")
	metaCreateRepos(t, s, key)
	img := metaImage("pulled")
	metaPutImages(t, s, key, img)
	at := metaTime(time.Hour)
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.RecordPull(key, img.Digest, at); err != nil {
			return err
		}
		return tx.RecordPull(key, metaDigest("unknown"), at)
	})
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Image(key, img.Digest)
		if err != nil {
			return err
		}
		img.LastPulledAt = at
		metaSame(t, "pulled image", got, img, normImage)
		return nil
	})
}
