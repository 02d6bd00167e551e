package registrytest

import (
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

// testReadImage checks that ReadImage answers what RepositoryAccess, Tag
// and ImageManifest answer together: by tag, by digest, by both (the image
// by its digest, the tag's digest beside it), for what is missing, and
// for a repository that does not exist.
func testReadImage(t *testing.T, s registry.MetaStore) {
	key, twin := metaKey(metaRegA, "app"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, key, twin)
	full, bare := metaImage("full"), metaBareImage("bare")
	metaPutImages(t, s, key, full, bare)
	at := metaTime(0)
	tagged := []registry.ResourceTag{{Key: "team", Value: "a"}}
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.SetTag(key, "v1", full.Digest, at); err != nil {
			return err
		}
		repo, err := tx.Repository(key)
		if err != nil {
			return err
		}
		repo.Tags = tagged
		if err := tx.UpdateRepository(repo); err != nil {
			return err
		}
		if err := tx.PutRepositoryPolicy(key, "repository policy"); err != nil {
			return err
		}
		return tx.PutRegistryPolicy(metaRegA, "registry policy")
	})
	absent := metaDigest("absent")
	cases := []struct {
		name   string
		key    registry.RepoKey
		tag    string
		d      registry.Digest
		tagged registry.Digest
		want   registry.Image
	}{
		{"ByTag", key, "v1", "", full.Digest, full},
		{"ByDigest", key, "", bare.Digest, "", bare},
		{"ByTagAndItsDigest", key, "v1", full.Digest, full.Digest, full},
		{"ByTagAndAnotherDigest", key, "v1", bare.Digest, full.Digest, bare},
		{"TagOfNothing", key, "v2", "", "", registry.Image{}},
		{"TagOfNothingAndDigest", key, "v2", bare.Digest, "", bare},
		{"AbsentDigest", key, "", absent, "", registry.Image{}},
		{"Neither", key, "", "", "", registry.Image{}},
		{"OtherRegistry", twin, "v1", full.Digest, "", registry.Image{}},
	}
	metaView(t, s, func(tx registry.Tx) error {
		for _, c := range cases {
			rd, err := tx.ReadImage(c.key, c.tag, c.d)
			if err != nil {
				t.Errorf("%s: ReadImage: %v", c.name, err)
				continue
			}
			a := rd.Access
			if c.key == key {
				if !a.Exists || a.Policy != "repository policy" || a.RegistryPolicy != "registry policy" {
					t.Errorf("%s: access %+v; want the repository and both policies", c.name, a)
				}
				metaSame(t, c.name+": the repository's key and tags", a.Repository,
					registry.Repository{Registry: key.Registry, Name: key.Name, Tags: tagged}, normRepository)
			} else if !a.Exists || a.Policy != "" || a.RegistryPolicy != "" {
				t.Errorf("%s: access %+v; want the repository, without policies", c.name, a)
			}
			if rd.Tagged != c.tagged {
				t.Errorf("%s: tagged %q, want %q", c.name, rd.Tagged, c.tagged)
			}
			want := c.want
			want.Blobs, want.Children = nil, nil // as ImageManifest reads it
			metaSame(t, c.name+": the image", rd.Image, want, normImage)
			if c.want.Digest != "" {
				img, err := tx.ImageManifest(c.key, c.want.Digest)
				if err != nil {
					return err
				}
				metaSame(t, c.name+": ReadImage's image and ImageManifest's", rd.Image, img, normImage)
			}
		}
		rd, err := tx.ReadImage(metaKey(metaRegA, "missing"), "v1", full.Digest)
		if err != nil || rd.Access.Exists || rd.Access.RegistryPolicy != "registry policy" || rd.Tagged != "" || rd.Image.Digest != "" {
			t.Errorf("no repository: ReadImage = %+v, %v; want no repository, registry A's policy, nothing else", rd, err)
		}
		return nil
	})
}
