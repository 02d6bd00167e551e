package registrytest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

func testImageParents(t *testing.T, s registry.MetaStore) {
	key, other := metaKey(metaRegA, "app"), metaKey(metaRegA, "other")
	metaCreateRepos(t, s, key, other)
	c1, c2, c3 := metaDigest("child 1"), metaDigest("child 2"), metaDigest("child 3")
	// i1 has two children; c2 is a child of two indexes; i3 lists c3 twice.
	i1, i2, i3 := metaBareImage("index 1"), metaBareImage("index 2"), metaBareImage("index 3")
	i1.Children = []registry.Digest{c1, c2}
	i2.Children = []registry.Digest{c2}
	i3.Children = []registry.Digest{c3, c3}
	metaPutImages(t, s, key, i1, i2, i3)
	// An index in another repository is no parent here.
	elsewhere := metaBareImage("elsewhere")
	elsewhere.Children = []registry.Digest{c1, c2, c3}
	metaPutImages(t, s, other, elsewhere)
	cases := []struct {
		name  string
		child registry.Digest
		want  []registry.Digest
	}{
		{"OneParent", c1, []registry.Digest{i1.Digest}},
		{"TwoParents", c2, []registry.Digest{i1.Digest, i2.Digest}},
		{"ListedTwice", c3, []registry.Digest{i3.Digest}},
		{"NoParent", i1.Digest, nil},
		{"Absent", metaDigest("absent"), nil},
	}
	metaView(t, s, func(tx registry.Tx) error {
		for _, c := range cases {
			got, err := tx.Parents(key, c.child)
			if err != nil {
				t.Errorf("%s: Parents: %v", c.name, err)
				continue
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(c.want))
			if !slices.Equal(got, want) {
				t.Errorf("%s: Parents = %s, want %s", c.name, got, want)
			}
		}
		return nil
	})
}

func testLayerRefsByStatus(t *testing.T, s registry.MetaStore) {
	key, other, twin := metaKey(metaRegA, "app"), metaKey(metaRegA, "other"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, key, other, twin)
	x, y, z := metaDigest("blob x"), metaDigest("blob y"), metaDigest("blob z")
	blobs := func(ds ...registry.Digest) []registry.ImageBlob {
		var bs []registry.ImageBlob
		for _, d := range ds {
			bs = append(bs, registry.ImageBlob{Digest: d, MediaType: "application/octet-stream", Size: 1})
		}
		return bs
	}
	image := func(name, status string, ds ...registry.Digest) registry.Image {
		img := metaBareImage(name)
		img.Status = status
		if status == registry.ImageActivating {
			img.ActiveAt = time.Now().Add(time.Hour)
		}
		img.Blobs = blobs(ds...)
		return img
	}
	metaPutImages(t, s, key,
		image("a", registry.ImageActive, x, y),
		image("b", registry.ImageActive, x),
		// An image may list a blob twice.
		image("c", registry.ImageArchived, x, x),
		image("d", registry.ImageActivating, y),
		image("e", registry.ImageActivating, y),
		image("index", registry.ImageActive),
	)
	// Images of other repositories count only there.
	metaPutImages(t, s, other, image("f", registry.ImageActive, x, z))
	metaPutImages(t, s, twin, image("a", registry.ImageArchived, x, y, z))
	want := map[registry.Digest]string{x: registry.ImageActive, y: registry.ImageActive}
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.LayerRefs(key, []registry.Digest{x, y, z, metaDigest("absent"), x}, time.Now())
		if err != nil {
			return err
		}
		if !maps.Equal(got, want) {
			t.Errorf("LayerRefs = %v, want %v", got, want)
		}
		for _, ds := range [][]registry.Digest{nil, {}} {
			if got, err := tx.LayerRefs(key, ds, time.Now()); err != nil || len(got) != 0 {
				t.Errorf("LayerRefs(%#v, time.Now()) = %v, %v; want none", ds, got, err)
			}
		}
		return nil
	})
	// A status changes by putting the image again: archiving the active
	// images leaves x archived only, and y archived and being restored,
	// which is the more available.
	metaPutImages(t, s, key, image("a", registry.ImageArchived, x, y), image("b", registry.ImageArchived, x))
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.LayerRefs(key, []registry.Digest{x, y}, time.Now())
		want := map[registry.Digest]string{x: registry.ImageArchived, y: registry.ImageActivating}
		if err != nil || !maps.Equal(got, want) {
			t.Errorf("LayerRefs after archiving = %v, %v; want %v", got, err, want)
		}
		return nil
	})
}

// testLayerRefsMany asks for more digests than a store may bind in one
// query.
func testLayerRefsMany(t *testing.T, s registry.MetaStore) {
	const asked = 1500
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	var digests []registry.Digest
	for i := range asked {
		digests = append(digests, metaDigest(fmt.Sprint("layer ", i)))
	}
	// One active image refers to every even digest, one archived image to
	// every multiple of three.
	active, archived := metaBareImage("active"), metaBareImage("archived")
	archived.Status = registry.ImageArchived
	for i, d := range digests {
		if i%2 == 0 {
			active.Blobs = append(active.Blobs, registry.ImageBlob{Digest: d, Size: int64(i)})
		}
		if i%3 == 0 {
			archived.Blobs = append(archived.Blobs, registry.ImageBlob{Digest: d, Size: int64(i)})
		}
	}
	metaPutImages(t, s, key, active, archived)
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.LayerRefs(key, digests, time.Now())
		if err != nil {
			return err
		}
		want := map[registry.Digest]string{}
		for i, d := range digests {
			switch {
			case i%2 == 0:
				want[d] = registry.ImageActive
			case i%3 == 0:
				want[d] = registry.ImageArchived
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("LayerRefs of %d digests: got %d entries, want %d", asked, len(got), len(want))
		}
		// The image's blobs come back in order, all of them.
		img, err := tx.Image(key, active.Digest)
		if err != nil {
			return err
		}
		metaSame(t, "image with many blobs", img, active, normImage)
		return nil
	})
}

func testSetLayerMediaType(t *testing.T, s registry.MetaStore) {
	key, twin := metaKey(metaRegA, "app"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, key, twin)
	l := registry.Layer{Digest: metaDigest("layer"), Size: 10, CreatedAt: metaTime(0)}
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.AddLayer(key, l); err != nil {
			return err
		}
		return tx.AddLayer(twin, l)
	})
	const mt = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	metaUpdate(t, s, func(tx registry.Tx) error {
		// A layer the repository does not hold is no error.
		return tx.SetLayerMediaTypes(key, map[registry.Digest]string{l.Digest: mt, metaDigest("absent"): mt})
	})
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Layers(key, []registry.Digest{l.Digest, metaDigest("absent")})
		if err != nil {
			return err
		}
		want := l
		want.MediaType = mt
		if len(got) != 1 {
			t.Errorf("Layers = %v, want only the layer added", got)
		}
		metaSame(t, "Layer after SetLayerMediaTypes", got[l.Digest], want, normLayer)
		got, err = tx.Layers(twin, []registry.Digest{l.Digest})
		if err != nil {
			return err
		}
		metaSame(t, "Layer of the same name in another registry", got[l.Digest], l, normLayer)
		return nil
	})
}

// testLayerRefsRestoreByClock: an ACTIVATING image counts as active once
// its ActiveAt has passed, and as activating before.
func testLayerRefsRestoreByClock(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "restore/clock")
	metaCreateRepos(t, s, key)
	layer := metaDigest("restoring layer")
	at := metaTime(time.Hour)
	img := metaBareImage("restoring")
	img.Status, img.ActiveAt = registry.ImageActivating, at
	img.Blobs = []registry.ImageBlob{{Digest: layer, MediaType: "application/octet-stream", Size: 1}}
	metaPutImages(t, s, key, img)
	for _, c := range []struct {
		now  time.Time
		want string
	}{
		{at.Add(-time.Second), registry.ImageActivating},
		{at, registry.ImageActive},
		{at.Add(time.Second), registry.ImageActive},
	} {
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.LayerRefs(key, []registry.Digest{layer}, c.now)
			if err != nil || got[layer] != c.want {
				t.Errorf("LayerRefs at %v = %v, %v; want %v", c.now.Sub(at), got, err, c.want)
			}
			return nil
		})
	}
}
