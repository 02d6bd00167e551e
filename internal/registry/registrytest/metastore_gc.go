package registrytest

import (
	"slices"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// testGCUnreferencedLayers: only layer records that no image of their own
// repository refers to, and older than the cut-off, are removed.
func testGCUnreferencedLayers(t *testing.T, s registry.MetaStore) {
	a, b := metaKey(metaRegA, "gc/a"), metaKey(metaRegB, "gc/a")
	metaCreateRepos(t, s, a, b)
	old, young, used := metaLayer("old"), metaLayer("young"), metaLayer("used")
	young.CreatedAt = metaTime(time.Hour)
	img := metaBareImage("user")
	img.Blobs = []registry.ImageBlob{{Digest: used.Digest, MediaType: used.MediaType, Size: used.Size}}
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, l := range []registry.Layer{old, young, used} {
			if err := tx.AddLayer(a, l); err != nil {
				return err
			}
		}
		// In b, "used" is not used: the image is a's.
		return tx.AddLayer(b, used)
	})
	metaPutImages(t, s, a, img)
	n := metaSweepLayers(t, s, metaTime(time.Minute), 100)
	if n != 2 {
		t.Fatalf("removed %d layer records, want 2 (old in a, used in b)", n)
	}
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Layers(a, []registry.Digest{old.Digest, young.Digest, used.Digest})
		if err != nil || len(got) != 2 || got[old.Digest] != (registry.Layer{}) {
			t.Errorf("a keeps %v, %v; want young and used", got, err)
		}
		got, err = tx.Layers(b, []registry.Digest{used.Digest})
		if err != nil || len(got) != 0 {
			t.Errorf("b keeps %v, %v; want nothing", got, err)
		}
		return nil
	})
}

// testGCBlobs: MarkGarbageBlobs takes only blobs no layer names, created
// and pinned before the cut-offs; marked blobs refuse pins and AddBlob, are
// returned again until deleted; AddBlob clears a pin.
func testGCBlobs(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "gc/blobs")
	metaCreateRepos(t, s, key)
	named, free, pinned, young := metaLayer("named"), metaDigest("free"), metaDigest("pinned"), metaDigest("young")
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, b := range []registry.Blob{
			{Digest: named.Digest, Size: 1, CreatedAt: metaTime(0)},
			{Digest: free, Size: 1, CreatedAt: metaTime(0)},
			{Digest: young, Size: 1, CreatedAt: metaTime(2 * time.Hour)},
		} {
			if err := tx.AddBlob(b); err != nil {
				return err
			}
		}
		if err := tx.PinBlob(pinned, 1, metaTime(0)); err != nil {
			return err
		}
		if err := tx.PinBlob(pinned, 1, metaTime(90*time.Minute)); err != nil { // pinned again later
			return err
		}
		return tx.AddLayer(key, named)
	})
	mark := func(before, pinnedBefore time.Duration) []registry.Digest {
		return metaMarkBlobs(t, s, metaTime(before), metaTime(pinnedBefore), 100)
	}
	if got := mark(time.Hour, time.Hour); !slices.Equal(got, []registry.Digest{free}) {
		t.Fatalf("marked %v, want only %s", got, free)
	}
	metaUpdate(t, s, func(tx registry.Tx) error {
		metaWantErr(t, "PinBlob of a marked blob", tx.PinBlob(free, 1, metaTime(3*time.Hour)), registry.ErrConflict)
		metaWantErr(t, "AddBlob of a marked blob", tx.AddBlob(registry.Blob{Digest: free, Size: 1, CreatedAt: metaTime(0)}), registry.ErrConflict)
		return nil
	})
	// Not deleted yet: marked again (an interrupted collection resumes).
	if got := mark(time.Hour, time.Hour); !slices.Equal(got, []registry.Digest{free}) {
		t.Fatalf("second mark %v, want %s again", got, free)
	}
	// Unmarked (its bytes could not be deleted), it takes pins again, and
	// the next sweep marks it again.
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.UnmarkBlob(free); err != nil {
			return err
		}
		if err := tx.UnmarkBlob(metaDigest("never recorded")); err != nil {
			return err
		}
		return tx.PinBlob(free, 1, metaTime(0))
	})
	if got := mark(time.Hour, time.Hour); !slices.Equal(got, []registry.Digest{free}) {
		t.Fatalf("mark after unmark %v, want %s again", got, free)
	}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteBlob(free) })
	metaUpdate(t, s, func(tx registry.Tx) error {
		metaWantErr(t, "DeleteBlob twice", tx.DeleteBlob(free), registry.ErrNotFound)
		// After deletion the digest can be pinned and stored anew.
		return tx.PinBlob(free, 1, metaTime(4*time.Hour))
	})
	// A later cut-off for pins takes the pinned blob; AddBlob clears a pin.
	metaUpdate(t, s, func(tx registry.Tx) error {
		return tx.AddBlob(registry.Blob{Digest: free, Size: 1, CreatedAt: metaTime(4 * time.Hour)})
	})
	want := []registry.Digest{free, pinned, young}
	slices.Sort(want)
	if got := mark(5*time.Hour, 2*time.Hour); !slices.Equal(got, want) {
		t.Fatalf("marked %v, want %v", got, want)
	}
}

// testLeases: one holder at a time; the holder may renew; an expired lease
// goes to whoever asks; only the holder drops it.
func testLeases(t *testing.T, s registry.MetaStore) {
	take := func(holder string, at time.Duration) bool {
		var ok bool
		metaUpdate(t, s, func(tx registry.Tx) (err error) {
			ok, err = tx.TakeLease("gc", holder, metaTime(at), time.Minute)
			return err
		})
		return ok
	}
	steps := []struct {
		holder string
		at     time.Duration
		want   bool
	}{
		{"a", 0, true},
		{"b", 30 * time.Second, false},
		{"a", 50 * time.Second, true}, // renewal, until 110 s
		{"b", 100 * time.Second, false},
		{"b", 111 * time.Second, true}, // a's lease expired
		{"a", 112 * time.Second, false},
	}
	for _, st := range steps {
		if got := take(st.holder, st.at); got != st.want {
			t.Fatalf("%s takes the lease at %v: %v, want %v", st.holder, st.at, got, st.want)
		}
	}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DropLease("gc", "a") }) // not a's: no effect
	if take("a", 113*time.Second) {
		t.Fatal("a dropped b's lease")
	}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DropLease("gc", "b") })
	if !take("a", 114*time.Second) {
		t.Fatal("the dropped lease is not free")
	}
}

// testGCReleasedLayers: a layer's grace period restarts when an image
// that referred to it is deleted.
func testGCReleasedLayers(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "gc/released")
	metaCreateRepos(t, s, key)
	old, kept := metaLayer("released old"), metaLayer("released recently")
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.AddLayer(key, old); err != nil {
			return err
		}
		if err := tx.AddLayer(key, kept); err != nil {
			return err
		}
		return tx.ReleaseLayers(key, []registry.Digest{kept.Digest, metaDigest("not held")}, metaTime(time.Hour))
	})
	n := metaSweepLayers(t, s, metaTime(time.Minute), 100)
	if n != 1 {
		t.Fatalf("removed %d, want only the layer not released since", n)
	}
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Layers(key, []registry.Digest{old.Digest, kept.Digest})
		if _, ok := got[kept.Digest]; err != nil || !ok || len(got) != 1 {
			t.Errorf("layers left %v, %v; want the recently released one", got, err)
		}
		return nil
	})
}
