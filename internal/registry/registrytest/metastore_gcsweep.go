package registrytest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// metaSweepLayers runs DeleteUnreferencedLayers from the first record to
// the last, a page of limit per transaction, and returns how many it
// removed.
func metaSweepLayers(t *testing.T, s registry.MetaStore, before time.Time, limit int) int {
	t.Helper()
	deleted := 0
	for after := (registry.LayerCursor{}); ; {
		var page registry.LayerSweep
		metaUpdate(t, s, func(tx registry.Tx) (err error) {
			page, err = tx.DeleteUnreferencedLayers(after, before, limit)
			return err
		})
		deleted += page.Deleted
		if page.Visited < limit {
			return deleted
		}
		after = page.Last
	}
}

// metaMarkBlobs runs MarkGarbageBlobs over every blob record, a page of
// limit per transaction, and returns what it marked, in digest order.
func metaMarkBlobs(t *testing.T, s registry.MetaStore, before, pinnedBefore time.Time, limit int) []registry.Digest {
	t.Helper()
	var marked []registry.Digest
	for after := registry.Digest(""); ; {
		var page registry.BlobSweep
		metaUpdate(t, s, func(tx registry.Tx) (err error) {
			page, err = tx.MarkGarbageBlobs(after, before, pinnedBefore, limit)
			return err
		})
		marked = append(marked, page.Marked...)
		if page.Visited < limit {
			return marked
		}
		after = page.Last
	}
}

// sweepLayerPage runs one page of the layer sweep.
func sweepLayerPage(t *testing.T, s registry.MetaStore, after registry.LayerCursor, before time.Time, limit int) registry.LayerSweep {
	t.Helper()
	var page registry.LayerSweep
	metaUpdate(t, s, func(tx registry.Tx) (err error) {
		page, err = tx.DeleteUnreferencedLayers(after, before, limit)
		return err
	})
	return page
}

// markBlobPage runs one page of the blob sweep.
func markBlobPage(t *testing.T, s registry.MetaStore, after registry.Digest, before, pinnedBefore time.Time, limit int) registry.BlobSweep {
	t.Helper()
	var page registry.BlobSweep
	metaUpdate(t, s, func(tx registry.Tx) (err error) {
		page, err = tx.MarkGarbageBlobs(after, before, pinnedBefore, limit)
		return err
	})
	return page
}

// testGCLayerPages: a sweep's pages visit every layer record once, in
// (registry, repository, digest) byte order, across registries and
// repositories; a page of exactly the records left is full and the next
// is empty; one record more makes a page of one; an empty store gives an
// empty page that keeps the cursor.
func testGCLayerPages(t *testing.T, s registry.MetaStore) {
	const n = 3
	cutoff := metaTime(time.Minute)
	if page := sweepLayerPage(t, s, registry.LayerCursor{}, cutoff, n); page.Visited != 0 || page.Deleted != 0 || page.Last != (registry.LayerCursor{}) {
		t.Fatalf("empty store: %+v, want an empty page at the start", page)
	}
	// Keys chosen so that byte order differs from insertion order and
	// crosses registries and repositories: a/b sorts before a/b-c and
	// a/b/c ('-' < '/').
	keys := []registry.RepoKey{metaKey(metaRegB, "a/b"), metaKey(metaRegA, "a/b/c"), metaKey(metaRegA, "a/b-c"), metaKey(metaRegA, "a/b")}
	metaCreateRepos(t, s, keys...)
	var all []registry.LayerCursor
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, k := range keys {
			for i := range 2 {
				l := metaLayer(fmt.Sprint("page ", k.Registry, k.Name, i))
				if err := tx.AddLayer(k, l); err != nil {
					return err
				}
				all = append(all, registry.LayerCursor{Repo: k, Digest: l.Digest})
			}
		}
		return nil
	})
	slices.SortFunc(all, compareLayerCursors)
	// 8 records, pages of 3: 3, 3, 2. A young cut-off deletes nothing, so
	// the visits are all there is to see.
	var seen []registry.LayerCursor
	after := registry.LayerCursor{}
	for _, want := range []int{3, 3, 2} {
		page := sweepLayerPage(t, s, after, metaTime(-time.Hour), n)
		if page.Visited != want || page.Deleted != 0 {
			t.Fatalf("page after %+v: %+v, want %d visited, none deleted", after, page, want)
		}
		seen = append(seen, page.Last)
		after = page.Last
	}
	if want := []registry.LayerCursor{all[2], all[5], all[7]}; !slices.Equal(seen, want) {
		t.Fatalf("pages ended at %v, want %v", seen, want)
	}
	// Exactly n records left after a cursor: a full page, then an empty one.
	if page := sweepLayerPage(t, s, all[4], metaTime(-time.Hour), n); page.Visited != n || page.Last != all[7] {
		t.Fatalf("the last %d records: %+v, want a full page ending at %v", n, page, all[7])
	}
	if page := sweepLayerPage(t, s, all[7], cutoff, n); page.Visited != 0 || page.Last != all[7] {
		t.Fatalf("past the end: %+v, want an empty page keeping the cursor", page)
	}
	// n+1 records: a full page, then a page of one that deletes it.
	full := sweepLayerPage(t, s, all[3], cutoff, n)
	if full.Visited != n || full.Deleted != n || full.Last != all[6] {
		t.Fatalf("n+1 records, first page: %+v, want %d visited and deleted, ending at %v", full, n, all[6])
	}
	if one := sweepLayerPage(t, s, full.Last, cutoff, n); one.Visited != 1 || one.Deleted != 1 || one.Last != all[7] {
		t.Fatalf("n+1 records, second page: %+v, want the last record deleted", one)
	}
	if deleted := metaSweepLayers(t, s, cutoff, n); deleted != 4 {
		t.Fatalf("the full sweep deleted %d, want the 4 records left", deleted)
	}
}

// testGCBlobPages: the blob sweep's pages in digest order, with the same
// edges as the layer sweep's.
func testGCBlobPages(t *testing.T, s registry.MetaStore) {
	const n = 3
	if page := markBlobPage(t, s, "", metaTime(time.Hour), metaTime(time.Hour), n); page.Visited != 0 || len(page.Marked) != 0 || page.Last != "" {
		t.Fatalf("empty store: %+v, want an empty page at the start", page)
	}
	var all []registry.Digest
	metaUpdate(t, s, func(tx registry.Tx) error {
		for i := range 4 {
			d := metaDigest(fmt.Sprint("blob page ", i))
			all = append(all, d)
			if err := tx.AddBlob(registry.Blob{Digest: d, Size: 1, CreatedAt: metaTime(0)}); err != nil {
				return err
			}
		}
		return nil
	})
	slices.Sort(all)
	young := metaTime(-time.Hour)
	if page := markBlobPage(t, s, "", young, young, n); page.Visited != n || len(page.Marked) != 0 || page.Last != all[2] {
		t.Fatalf("first page of n+1: %+v, want %d visited ending at %s, none marked", page, n, all[2])
	}
	if page := markBlobPage(t, s, all[2], young, young, n); page.Visited != 1 || page.Last != all[3] {
		t.Fatalf("second page of n+1: %+v, want the last blob", page)
	}
	if page := markBlobPage(t, s, all[0], young, young, n); page.Visited != n || page.Last != all[3] {
		t.Fatalf("exactly n left: %+v, want a full page ending at %s", page, all[3])
	}
	if page := markBlobPage(t, s, all[3], young, young, n); page.Visited != 0 || page.Last != all[3] {
		t.Fatalf("past the end: %+v, want an empty page keeping the cursor", page)
	}
	page := markBlobPage(t, s, all[0], metaTime(time.Hour), metaTime(time.Hour), n)
	if !slices.Equal(page.Marked, all[1:]) {
		t.Fatalf("marked %v, want %v in digest order", page.Marked, all[1:])
	}
}

// testGCPagesSeeWritesBetween: what commits between two pages of a sweep
// is judged as it stands when the sweep reaches it. An image put after the
// sweep began keeps the layers ahead of the cursor it refers to; a layer
// added keeps its blob; a pin keeps its blob; a record added behind the
// cursor is left for the next sweep.
func testGCPagesSeeWritesBetween(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "gc/between")
	metaCreateRepos(t, s, key)
	var layers []registry.Layer
	metaUpdate(t, s, func(tx registry.Tx) error {
		for i := range 6 {
			l := metaLayer(fmt.Sprint("between ", i))
			layers = append(layers, l)
			if err := tx.AddBlob(registry.Blob{Digest: l.Digest, Size: l.Size, CreatedAt: metaTime(0)}); err != nil {
				return err
			}
			if err := tx.AddLayer(key, l); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(layers, func(a, b registry.Layer) int { return cmp.Compare(a.Digest, b.Digest) })
	cutoff := metaTime(time.Minute)
	first := sweepLayerPage(t, s, registry.LayerCursor{}, cutoff, 2)
	if first.Deleted != 2 || first.Last.Digest != layers[1].Digest {
		t.Fatalf("first page: %+v, want layers 0 and 1 deleted", first)
	}
	// Between pages: an image now refers to layer 3, ahead of the cursor,
	// and layer 0, behind it, comes back.
	img := metaBareImage("between")
	img.Blobs = []registry.ImageBlob{{Digest: layers[3].Digest, MediaType: layers[3].MediaType, Size: layers[3].Size}}
	metaPutImages(t, s, key, img)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.AddLayer(key, layers[0]) })
	for after := first.Last; ; {
		page := sweepLayerPage(t, s, after, cutoff, 2)
		if page.Visited < 2 {
			break
		}
		after = page.Last
	}
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Layers(key, []registry.Digest{layers[0].Digest, layers[3].Digest, layers[2].Digest})
		if _, ok := got[layers[3].Digest]; err != nil || !ok || len(got) != 2 {
			t.Errorf("after the sweep: %v, %v; want layer 3 (referred to since) and layer 0 (behind the cursor)", got, err)
		}
		return nil
	})

	// Blobs 0, 3 still named; 1, 2, 4, 5 not. The blob sweep's first page
	// sees two of them; then layer 5 is added back and blob 4 pinned.
	firstBlobs := markBlobPage(t, s, "", cutoff, cutoff, 2)
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.AddLayer(key, layers[5]); err != nil {
			return err
		}
		return tx.PinBlob(layers[4].Digest, 1, metaTime(2*time.Minute))
	})
	marked := firstBlobs.Marked
	for after := firstBlobs.Last; ; {
		page := markBlobPage(t, s, after, cutoff, cutoff, 2)
		marked = append(marked, page.Marked...)
		if page.Visited < 2 {
			break
		}
		after = page.Last
	}
	if want := []registry.Digest{layers[1].Digest, layers[2].Digest}; !slices.Equal(marked, want) {
		t.Fatalf("marked %v, want only %v (5 named again, 4 pinned, 0 and 3 named)", marked, want)
	}
}

func compareLayerCursors(a, b registry.LayerCursor) int {
	return cmp.Or(cmp.Compare(a.Repo.Registry, b.Repo.Registry), cmp.Compare(a.Repo.Name, b.Repo.Name), cmp.Compare(a.Digest, b.Digest))
}
