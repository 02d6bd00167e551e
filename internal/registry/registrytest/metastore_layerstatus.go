package registrytest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// testLayerStatus checks that LayerStatus answers what RepositoryAccess,
// Layers and LayerRefs answer together, for every status LayerRefs knows.
func testLayerStatus(t *testing.T, s registry.MetaStore) {
	key, other, twin := metaKey(metaRegA, "app"), metaKey(metaRegA, "other"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, key, other, twin)
	now := time.Now()
	layer := func(name string) registry.Layer {
		l := metaLayer(name)
		metaUpdate(t, s, func(tx registry.Tx) error { return tx.AddLayer(key, l) })
		return l
	}
	bare := registry.Layer{Digest: metaDigest("no media type"), Size: 0, CreatedAt: metaTime(0)}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.AddLayer(key, bare) })
	active, archived, restoring, restored, unused := layer("active"), layer("archived"), layer("restoring"), layer("restored"), layer("unused")
	image := func(name, status string, activeAt time.Time, ls ...registry.Layer) registry.Image {
		img := metaBareImage(name)
		img.Status, img.ActiveAt = status, activeAt
		for _, l := range ls {
			img.Blobs = append(img.Blobs, registry.ImageBlob{Digest: l.Digest, MediaType: l.MediaType, Size: l.Size})
		}
		return img
	}
	metaPutImages(t, s, key,
		image("a", registry.ImageActive, time.Time{}, active),
		image("b", registry.ImageArchived, time.Time{}, active, archived, restoring),
		image("c", registry.ImageActivating, now.Add(time.Hour), restoring),
		image("d", registry.ImageActivating, now.Add(-time.Hour), restored),
	)
	// Images of other repositories count only there, and their layers
	// are not this one's.
	elsewhere := metaLayer("elsewhere")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.AddLayer(other, elsewhere) })
	metaPutImages(t, s, other, image("e", registry.ImageActive, time.Time{}, archived, unused, elsewhere))
	cases := []struct {
		name  string
		key   registry.RepoKey
		d     registry.Digest
		want  registry.Layer
		use   string
		noRep bool
	}{
		{"Active", key, active.Digest, active, registry.ImageActive, false},
		{"NoImage", key, unused.Digest, unused, "", false},
		{"NoMediaType", key, bare.Digest, bare, "", false},
		{"Archived", key, archived.Digest, archived, registry.ImageArchived, false},
		{"Restoring", key, restoring.Digest, restoring, registry.ImageActivating, false},
		{"RestoredByClock", key, restored.Digest, restored, registry.ImageActive, false},
		{"NotHeld", key, elsewhere.Digest, registry.Layer{}, "", false},
		{"Absent", key, metaDigest("absent"), registry.Layer{}, "", false},
		{"OtherRegistry", twin, active.Digest, registry.Layer{}, "", false},
		{"NoRepository", metaKey(metaRegA, "missing"), active.Digest, registry.Layer{}, "", true},
	}
	// What decides access comes along: the repository's tags and policy,
	// the registry's policy (also for a repository that does not exist).
	tagged := registry.Repository{Registry: key.Registry, Name: key.Name, Tags: []registry.ResourceTag{{Key: "team", Value: "a"}}}
	metaUpdate(t, s, func(tx registry.Tx) error {
		repo, err := tx.Repository(key)
		if err != nil {
			return err
		}
		repo.Tags = tagged.Tags
		if err := tx.UpdateRepository(repo); err != nil {
			return err
		}
		if err := tx.PutRepositoryPolicy(key, "repository policy"); err != nil {
			return err
		}
		return tx.PutRegistryPolicy(metaRegA, "registry policy")
	})
	metaView(t, s, func(tx registry.Tx) error {
		for _, c := range cases {
			st, err := tx.LayerStatus(c.key, c.d, now)
			if err != nil {
				t.Errorf("%s: LayerStatus: %v", c.name, err)
				continue
			}
			a := st.Access
			switch {
			case c.noRep:
				if a.Exists || a.Policy != "" || a.RegistryPolicy != "registry policy" || st.Layer.Digest != "" {
					t.Errorf("%s: LayerStatus = %+v; want no repository, registry A's policy", c.name, st)
				}
				continue
			case c.key == key:
				if !a.Exists || a.Policy != "repository policy" || a.RegistryPolicy != "registry policy" {
					t.Errorf("%s: access %+v; want the repository and both policies", c.name, a)
				}
				metaSame(t, c.name+": the repository's key and tags", a.Repository, tagged, normRepository)
			case !a.Exists || a.Policy != "" || a.RegistryPolicy != "" && c.key.Registry != metaRegA:
				t.Errorf("%s: access %+v; want the repository, without policies", c.name, a)
			}
			l, use := st.Layer, st.Use
			metaSame(t, c.name+": LayerStatus's layer", l, c.want, normLayer)
			if use != c.use {
				t.Errorf("%s: LayerStatus's use = %q, want %q", c.name, use, c.use)
			}
			// LayerRefs agrees for every held layer.
			if c.want.Digest != "" {
				refs, err := tx.LayerRefs(c.key, []registry.Digest{c.d}, now)
				if err != nil {
					return err
				}
				if refs[c.d] != use {
					t.Errorf("%s: LayerStatus's use %q, LayerRefs's %q", c.name, use, refs[c.d])
				}
			}
		}
		// HeldLayers answers for all of them at once what each got:
		// the held layers, with their use.
		for _, k := range []registry.RepoKey{key, twin} {
			var ds []registry.Digest
			want := map[registry.Digest]registry.HeldLayer{}
			for _, c := range cases {
				if c.key == k || c.key.Name == "missing" {
					ds = append(ds, c.d, c.d) // asked twice, answered once
				}
				if c.key == k && c.want.Digest != "" {
					want[c.d] = registry.HeldLayer{Layer: normLayer(c.want), Use: c.use}
				}
			}
			held, err := tx.HeldLayers(k, ds, now)
			if err != nil {
				return err
			}
			metaSame(t, fmt.Sprintf("HeldLayers of %s", k.Name), held, want, func(m map[registry.Digest]registry.HeldLayer) map[registry.Digest]registry.HeldLayer {
				for d, h := range m {
					h.Layer = normLayer(h.Layer)
					m[d] = h
				}
				return m
			})
		}
		if held, err := tx.HeldLayers(key, nil, now); err != nil || len(held) != 0 {
			t.Errorf("HeldLayers of no digest = %v, %v; want none", held, err)
		}
		return nil
	})
}
