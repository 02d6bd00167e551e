package registrytest

import (
	"slices"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

func testTagNotFound(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	img := metaImage("img")
	metaPutImages(t, s, key, img)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.SetTag(key, "latest", img.Digest, metaTime(0)) })
	metaView(t, s, func(tx registry.Tx) error {
		for _, tag := range []string{"absent", "Latest", "latest "} {
			_, err := tx.Tag(key, tag)
			metaWantErr(t, "Tag("+tag+")", err, registry.ErrNotFound)
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteTag(key, "absent") })
	metaWantErr(t, "DeleteTag of an absent tag", err, registry.ErrNotFound)
	// A deleted tag is gone, its image stays, and deleting it again fails.
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteTag(key, "latest") })
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Tag(key, "latest")
		metaWantErr(t, "Tag after DeleteTag", err, registry.ErrNotFound)
		if _, err := tx.Image(key, img.Digest); err != nil {
			t.Errorf("Image after deleting its tag: %v", err)
		}
		return nil
	})
	err = s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteTag(key, "latest") })
	metaWantErr(t, "second DeleteTag", err, registry.ErrNotFound)
}

func testTagSetCreatesAndMoves(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	one, two := metaImage("one"), metaImage("two")
	metaPutImages(t, s, key, one, two)
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.SetTag(key, "latest", one.Digest, metaTime(0)); err != nil {
			return err
		}
		if err := tx.SetTag(key, "v1", one.Digest, metaTime(0)); err != nil {
			return err
		}
		// Setting a tag to the image it already names changes nothing,
		// not even when it was set.
		return tx.SetTag(key, "v1", one.Digest, metaTime(time.Hour))
	})
	metaView(t, s, func(tx registry.Tx) error {
		if d, err := tx.Tag(key, "latest"); err != nil || d != one.Digest {
			t.Errorf("Tag(latest) = %s, %v; want %s", d, err, one.Digest)
		}
		return nil
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.SetTag(key, "latest", two.Digest, metaTime(2*time.Hour)) })
	metaView(t, s, func(tx registry.Tx) error {
		// A moved tag was set when it moved.
		want := []registry.TagRef{
			{Tag: "latest", Digest: two.Digest, CreatedAt: metaMicro(metaTime(2 * time.Hour))},
			{Tag: "v1", Digest: one.Digest, CreatedAt: metaMicro(metaTime(0))},
		}
		if refs, err := tx.Tags(key, "", 10); err != nil || !slices.EqualFunc(refs, want, sameTagRef) {
			t.Errorf("Tags = %v, %v; want %v", refs, err, want)
		}
		if d, err := tx.Tag(key, "latest"); err != nil || d != two.Digest {
			t.Errorf("Tag(latest) after moving = %s, %v; want %s", d, err, two.Digest)
		}
		if tags, err := tx.ImageTags(key, one.Digest); err != nil || !slices.Equal(tags, []string{"v1"}) {
			t.Errorf("ImageTags of the image the tag moved from = %q, %v; want [v1]", tags, err)
		}
		if tags, err := tx.ImageTags(key, two.Digest); err != nil || !slices.Equal(tags, []string{"latest"}) {
			t.Errorf("ImageTags of the image the tag moved to = %q, %v; want [latest]", tags, err)
		}
		return nil
	})
}

// metaTagNames are tags that collation-aware orders would sort differently
// from bytes: digits < upper case < '_' < lower case, and '-' < '.'.
var metaTagNames = []string{"latest", "v1", "V1", "1.0", "a-b", "a.b", "a_b", "A", "10", "9", "z"}

func testImageTagsSorted(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	img, other := metaImage("img"), metaImage("other")
	metaPutImages(t, s, key, img, other)
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, tag := range metaTagNames {
			if err := tx.SetTag(key, tag, img.Digest, metaTime(0)); err != nil {
				return err
			}
		}
		return tx.SetTag(key, "other", other.Digest, metaTime(0))
	})
	metaView(t, s, func(tx registry.Tx) error {
		want := slices.Sorted(slices.Values(metaTagNames))
		if tags, err := tx.ImageTags(key, img.Digest); err != nil || !slices.Equal(tags, want) {
			t.Errorf("ImageTags = %q, %v; want %q", tags, err, want)
		}
		if tags, err := tx.ImageTags(key, metaDigest("absent")); err != nil || len(tags) != 0 {
			t.Errorf("ImageTags of an absent image = %q, %v; want none", tags, err)
		}
		return nil
	})
}

func testTagsPagination(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key, metaKey(metaRegA, "other"))
	one, two := metaImage("one"), metaImage("two")
	metaPutImages(t, s, key, one, two)
	metaPutImages(t, s, metaKey(metaRegA, "other"), one)
	names := metaTagNames
	digestOf := func(tag string) registry.Digest {
		if slices.Index(names, tag)%2 == 0 {
			return one.Digest
		}
		return two.Digest
	}
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, tag := range names {
			if err := tx.SetTag(key, tag, digestOf(tag), metaTime(0)); err != nil {
				return err
			}
		}
		// Tags of another repository must never show up.
		for _, tag := range []string{"0", "a-a", "zz"} {
			if err := tx.SetTag(metaKey(metaRegA, "other"), tag, one.Digest, metaTime(0)); err != nil {
				return err
			}
		}
		return nil
	})
	sorted := slices.Sorted(slices.Values(names))
	cases := []struct {
		name  string
		after string
		limit int
		want  []string
	}{
		{"FirstPage", "", 3, sorted[:3]},
		{"MiddlePage", sorted[2], 4, sorted[3:7]},
		{"LastPartialPage", sorted[7], 10, sorted[8:]},
		{"AllAtOnce", "", 100, sorted},
		{"AfterAbsentTag", "B", 2, []string{"V1", "a-b"}},
		{"AfterLast", "z", 5, nil},
		{"ZeroLimit", "", 0, nil},
	}
	metaView(t, s, func(tx registry.Tx) error {
		for _, c := range cases {
			got, err := tx.Tags(key, c.after, c.limit)
			if err != nil {
				t.Errorf("%s: Tags(%q, %d): %v", c.name, c.after, c.limit, err)
				continue
			}
			var gotTags []string
			for _, r := range got {
				gotTags = append(gotTags, r.Tag)
				if r.Digest != digestOf(r.Tag) {
					t.Errorf("%s: tag %q names %s, want %s", c.name, r.Tag, r.Digest, digestOf(r.Tag))
				}
			}
			if !slices.Equal(gotTags, c.want) {
				t.Errorf("%s: Tags(%q, %d) = %q, want %q", c.name, c.after, c.limit, gotTags, c.want)
			}
		}
		return nil
	})
}

func sameTagRef(a, b registry.TagRef) bool {
	return a.Tag == b.Tag && a.Digest == b.Digest && a.CreatedAt.Equal(b.CreatedAt)
}
