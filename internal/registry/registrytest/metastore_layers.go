package registrytest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// metaLayer returns a layer with every field set.
func metaLayer(name string) registry.Layer {
	return registry.Layer{
		Digest:    metaDigest(name),
		Size:      1<<40 + 7, // beyond 32 bits
		MediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
		CreatedAt: metaTime(time.Second),
	}
}

func testLayerRoundTrip(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	full := metaLayer("full")
	bare := registry.Layer{Digest: metaDigest("no media type"), Size: 0, CreatedAt: metaTime(0)}
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.AddLayer(key, full); err != nil {
			return err
		}
		return tx.AddLayer(key, bare)
	})
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Layers(key, []registry.Digest{full.Digest, bare.Digest})
		if err != nil {
			return err
		}
		if len(got) != 2 {
			t.Errorf("Layers returned %d layers, want 2: %v", len(got), got)
		}
		for _, want := range []registry.Layer{full, bare} {
			metaSame(t, "Layer "+string(want.Digest), got[want.Digest], want, normLayer)
		}
		return nil
	})
}

func testLayersSubset(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	held := []registry.Layer{metaLayer("one"), metaLayer("two"), metaLayer("three")}
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, l := range held {
			if err := tx.AddLayer(key, l); err != nil {
				return err
			}
		}
		return nil
	})
	missing := metaDigest("missing")
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Layers(key, []registry.Digest{held[2].Digest, missing, held[0].Digest, held[0].Digest})
		if err != nil {
			return err
		}
		if len(got) != 2 {
			t.Errorf("Layers returned %d layers, want 2: %v", len(got), got)
		}
		if _, ok := got[missing]; ok {
			t.Errorf("Layers returned a layer for a digest the repository does not hold")
		}
		if _, ok := got[held[1].Digest]; ok {
			t.Errorf("Layers returned a layer that was not asked for")
		}
		metaSame(t, "Layer one", got[held[0].Digest], held[0], normLayer)
		metaSame(t, "Layer three", got[held[2].Digest], held[2], normLayer)
		return nil
	})
}

func testLayersNoDigests(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.AddLayer(key, metaLayer("one")) })
	metaView(t, s, func(tx registry.Tx) error {
		for _, ds := range [][]registry.Digest{nil, {}} {
			got, err := tx.Layers(key, ds)
			if err != nil || len(got) != 0 {
				t.Errorf("Layers(%#v) = %v, %v; want no layers", ds, got, err)
			}
		}
		return nil
	})
}

// testLayersMany asks for more digests than a store may bind in one query,
// and sets the media types of as many layers in one SetLayerMediaTypes.
func testLayersMany(t *testing.T, s registry.MetaStore) {
	// Every other digest asked for is held.
	const asked, held = 2500, 1250
	key, twin := metaKey(metaRegA, "app"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, key, twin)
	var digests []registry.Digest
	for i := range asked {
		digests = append(digests, metaDigest(fmt.Sprint("layer ", i)))
	}
	metaUpdate(t, s, func(tx registry.Tx) error {
		for i := 0; i < asked; i += 2 {
			for _, k := range []registry.RepoKey{key, twin} {
				if err := tx.AddLayer(k, registry.Layer{Digest: digests[i], Size: int64(i), CreatedAt: metaTime(0)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Layers(key, digests)
		if err != nil {
			return err
		}
		if len(got) != held {
			t.Errorf("Layers returned %d layers, want %d", len(got), held)
		}
		for d, l := range got {
			if l.Digest != d || l.Size%2 != 0 || digests[l.Size] != d {
				t.Errorf("Layers[%s] = %+v, not the layer added", d, l)
			}
		}
		if n, err := tx.CountLayers(key); err != nil || n != held {
			t.Errorf("CountLayers = %d, %v; want %d", n, err, held)
		}
		return nil
	})
	testSetLayerMediaTypesMany(t, s, key, twin, digests)
}

// testSetLayerMediaTypesMany sets the media types of every digest, held
// or not, in one call, twice: the second call changes some and keeps
// others. Only the layers of key change; those of twin, the same
// repository name in another registry, keep no media type.
func testSetLayerMediaTypesMany(t *testing.T, s registry.MetaStore, key, twin registry.RepoKey, digests []registry.Digest) {
	const config, gzip, zstd = "application/vnd.oci.image.config.v1+json",
		"application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar+zstd"
	first, second := make(map[registry.Digest]string), make(map[registry.Digest]string)
	for i, d := range digests {
		first[d] = gzip
		second[d] = []string{gzip, zstd, config}[i%3]
	}
	first[digests[0]] = config
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, types := range []map[registry.Digest]string{nil, {}, first, second} {
			if err := tx.SetLayerMediaTypes(key, types); err != nil {
				return fmt.Errorf("SetLayerMediaTypes of %d digests: %w", len(types), err)
			}
		}
		return nil
	})
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Layers(key, digests)
		if err != nil {
			return err
		}
		wrong := 0
		for i := 0; i < len(digests); i += 2 {
			if l := got[digests[i]]; l.MediaType != second[digests[i]] {
				wrong++
				if wrong <= 3 {
					t.Errorf("layer %d after SetLayerMediaTypes has media type %q, want %q", i, l.MediaType, second[digests[i]])
				}
			}
		}
		if len(got) != len(digests)/2 || wrong > 0 {
			t.Errorf("SetLayerMediaTypes: %d layers read back, %d with the wrong media type; want %d, 0", len(got), wrong, len(digests)/2)
		}
		others, err := tx.Layers(twin, digests)
		if err != nil {
			return err
		}
		for d, l := range others {
			if l.MediaType != "" {
				t.Errorf("layer %s of the same repository name in another registry got media type %q", d, l.MediaType)
				break
			}
		}
		return nil
	})
}

func testLayersPerRepository(t *testing.T, s registry.MetaStore) {
	a, b, twin := metaKey(metaRegA, "app"), metaKey(metaRegA, "other"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, a, b, twin)
	l := metaLayer("one")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.AddLayer(a, l) })
	metaView(t, s, func(tx registry.Tx) error {
		if got, err := tx.Layers(a, []registry.Digest{l.Digest}); err != nil || len(got) != 1 {
			t.Errorf("Layers of the repository it was added to = %v, %v; want the layer", got, err)
		}
		for _, k := range []registry.RepoKey{b, twin} {
			got, err := tx.Layers(k, []registry.Digest{l.Digest})
			if err != nil || len(got) != 0 {
				t.Errorf("Layers(%s/%s) = %v, %v; want none: layers do not leak across repositories", k.Registry, k.Name, got, err)
			}
			if n, err := tx.CountLayers(k); err != nil || n != 0 {
				t.Errorf("CountLayers(%s/%s) = %d, %v; want 0", k.Registry, k.Name, n, err)
			}
		}
		return nil
	})
	// The same digest can then be added to each other repository.
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.AddLayer(b, l); err != nil {
			return err
		}
		return tx.AddLayer(twin, l)
	})
}

func testLayerAddExisting(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	want := metaLayer("one")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.AddLayer(key, want) })
	again := registry.Layer{Digest: want.Digest, Size: 1, MediaType: "other", CreatedAt: metaTime(time.Hour)}
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.AddLayer(key, again) })
	metaWantErr(t, "second AddLayer", err, registry.ErrExists)
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Layers(key, []registry.Digest{want.Digest})
		if err != nil {
			return err
		}
		metaSame(t, "Layer after refused add", got[want.Digest], want, normLayer)
		return nil
	})
}

func testLayersCount(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	for want := range 4 {
		metaView(t, s, func(tx registry.Tx) error {
			if n, err := tx.CountLayers(key); err != nil || n != want {
				t.Errorf("CountLayers = %d, %v; want %d", n, err, want)
			}
			return nil
		})
		metaUpdate(t, s, func(tx registry.Tx) error { return tx.AddLayer(key, metaLayer(fmt.Sprint(want))) })
	}
}

func testBlobRoundTrip(t *testing.T, s registry.MetaStore) {
	want := registry.Blob{Digest: metaDigest("blob"), Size: 1<<40 + 3, CreatedAt: metaTime(0)}
	sha512 := registry.Blob{Digest: registry.Digest("sha512:" + metaDigest("a").Hex() + metaDigest("b").Hex()), Size: 0, CreatedAt: metaTime(1)}
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.AddBlob(want); err != nil {
			return err
		}
		return tx.AddBlob(sha512)
	})
	metaView(t, s, func(tx registry.Tx) error {
		for _, b := range []registry.Blob{want, sha512} {
			got, err := tx.Blob(b.Digest)
			if err != nil {
				return err
			}
			metaSame(t, "Blob", got, b, normBlob)
		}
		return nil
	})
}

func testBlobNotFound(t *testing.T, s registry.MetaStore) {
	metaUpdate(t, s, func(tx registry.Tx) error {
		return tx.AddBlob(registry.Blob{Digest: metaDigest("present"), Size: 1, CreatedAt: metaTime(0)})
	})
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Blob(metaDigest("absent"))
		metaWantErr(t, "Blob of an unknown digest", err, registry.ErrNotFound)
		return nil
	})
}

func testBlobAddIdempotent(t *testing.T, s registry.MetaStore) {
	first := registry.Blob{Digest: metaDigest("blob"), Size: 10, CreatedAt: metaTime(0)}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.AddBlob(first) })
	// Adding again, in a later transaction and twice in one, is no error
	// and leaves the first record as it is.
	metaUpdate(t, s, func(tx registry.Tx) error {
		later := registry.Blob{Digest: first.Digest, Size: 10, CreatedAt: metaTime(time.Hour)}
		if err := tx.AddBlob(later); err != nil {
			return err
		}
		return tx.AddBlob(later)
	})
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Blob(first.Digest)
		if err != nil {
			return err
		}
		metaSame(t, "Blob after adding it again", got, first, normBlob)
		return nil
	})
}

// testLayerDelete: DeleteLayer removes only that repository's record.
func testLayerDelete(t *testing.T, s registry.MetaStore) {
	a, b := metaKey(metaRegA, "del/a"), metaKey(metaRegA, "del/b")
	metaCreateRepos(t, s, a, b)
	l := metaLayer("deleted")
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.AddLayer(a, l); err != nil {
			return err
		}
		return tx.AddLayer(b, l)
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteLayer(a, l.Digest) })
	var err error
	metaUpdate(t, s, func(tx registry.Tx) error { err = tx.DeleteLayer(a, l.Digest); return nil })
	metaWantErr(t, "DeleteLayer twice", err, registry.ErrNotFound)
	metaView(t, s, func(tx registry.Tx) error {
		inA, _ := tx.Layers(a, []registry.Digest{l.Digest})
		inB, _ := tx.Layers(b, []registry.Digest{l.Digest})
		if len(inA) != 0 || len(inB) != 1 {
			t.Errorf("after deleting from a: a has %v, b has %v", inA, inB)
		}
		return nil
	})
}
