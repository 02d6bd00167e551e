package registry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// pushLayer uploads b to repo as one part.
func pushLayer(t *testing.T, r *registry.Registry, repo string, b []byte) registry.Digest {
	t.Helper()
	u, err := r.InitiateLayerUpload(callerCtx(), key(repo))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.UploadLayerPart(callerCtx(), key(repo), u.ID, 0, int64(len(b))-1, int64(len(b)), bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	d, err := r.CompleteLayerUpload(callerCtx(), key(repo), u.ID, []string{digest(b)})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func blobFile(dir string, d registry.Digest) string {
	return filepath.Join(dir, "blobs", d.Algorithm(), d.Hex()[:2], d.Hex())
}

func TestCollectGarbage(t *testing.T) {
	c := newClock()
	r, dir := newRegistry(t, c)
	ctx := callerCtx()
	if _, err := r.CreateRepository(ctx, registry.NewRepository{Key: key("other/repo")}); err != nil {
		t.Fatal(err)
	}
	loose := pushLayer(t, r, "a/b", []byte("loose layer"))
	cfg := pushLayer(t, r, "a/b", []byte(`{"config":1}`))
	used := pushLayer(t, r, "a/b", []byte("used layer"))
	shared := pushLayer(t, r, "a/b", []byte("shared layer"))
	pushLayer(t, r, "other/repo", []byte("shared layer"))
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":12},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":10}]}`,
		registry.MediaTypeOCIManifest, cfg, used)
	if _, err := r.PutImage(ctx, registry.NewImage{Key: key("a/b"), Manifest: []byte(manifest), Tag: "v1"}); err != nil {
		t.Fatal(err)
	}

	// Within the grace period nothing goes, though every record is read:
	// 5 layer records, 4 blobs.
	if st, err := r.CollectGarbage(ctx, time.Hour); err != nil || st != (registry.GCStats{LayersVisited: 5, BlobsVisited: 4}) {
		t.Fatalf("within grace: %+v, %v", st, err)
	}
	c.Add(2 * time.Hour)
	st, err := r.CollectGarbage(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// No image refers to loose or shared: their three layer records go
	// (shared is in two repositories), and with them both blobs' bytes.
	if st.Layers != 3 || st.Blobs != 2 || st.Bytes != int64(len("loose layer")+len("shared layer")) {
		t.Fatalf("collected %+v, want 3 layer records and 2 blobs (loose, shared) of 23 bytes", st)
	}
	for d, want := range map[registry.Digest]bool{loose: false, shared: false, cfg: true, used: true} {
		if _, err := os.Stat(blobFile(dir, d)); (err == nil) != want {
			t.Errorf("blob %s present = %v, want %v", d, err == nil, want)
		}
	}
	checks, err := r.CheckLayers(ctx, key("a/b"), []string{string(loose), string(used)})
	if err != nil || checks[0].FailureCode != registry.FailureMissingLayerDigest || checks[1].Availability != registry.LayerAvailable {
		t.Fatalf("after gc: %+v, %v", checks, err)
	}

	// Deleting the image frees its blobs at the next collection past grace.
	if _, _, err := r.BatchDeleteImage(ctx, key("a/b"), []registry.ImageID{{Tag: "v1"}}); err != nil {
		t.Fatal(err)
	}
	// The deletion restarts the layers' grace period: a push that just found
	// them AVAILABLE still has the full period to send its manifest.
	if st, err = r.CollectGarbage(ctx, time.Hour); err != nil || st.Blobs != 0 {
		t.Fatalf("right after deleting the image: %+v, %v; want nothing collected", st, err)
	}
	c.Add(2 * time.Hour)
	if st, err = r.CollectGarbage(ctx, time.Hour); err != nil || st.Blobs != 2 {
		t.Fatalf("a grace period after deleting the image: %+v, %v; want its 2 blobs gone", st, err)
	}

	// The same bytes uploaded again come back whole.
	again := pushLayer(t, r, "a/b", []byte("loose layer"))
	if b, err := os.ReadFile(blobFile(dir, again)); err != nil || string(b) != "loose layer" {
		t.Fatalf("re-uploaded blob: %q, %v", b, err)
	}
	// A blob pinned by a commit in progress survives even a zero grace.
	pinned := registry.Digest(digest([]byte("being committed")))
	if err := r.PinForTest(ctx, pinned, 15); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Second)
	if st, err := r.CollectGarbage(ctx, 0); err != nil {
		t.Fatal(err)
	} else if st.Blobs != 1 { // again's: its layer record went with grace 0
		t.Fatalf("collected %+v, want only the unpinned blob", st)
	}
	c.Add(16 * time.Minute) // past the lease timeout: a crashed commit's pin lapses
	if st, err := r.CollectGarbage(ctx, 0); err != nil || st.Blobs != 1 {
		t.Fatalf("after the pin lapsed: %+v, %v; want the pinned record collected", st, err)
	}
}

// statFails is a blob store whose Stat fails.
type statFails struct{ registry.BlobStore }

func (statFails) Stat(context.Context, registry.Digest) (int64, error) {
	return 0, errors.New("injected: stat fails")
}

// TestCollectGarbageStatFails: the size of a collected blob is a
// statistic; a blob store that cannot say it does not stop the blob from
// being collected, nor fail the collection: the blob counts, its bytes 0.
func TestCollectGarbageStatFails(t *testing.T) {
	c := newClock()
	meta, blobs, dir := openStores(t)
	r := registry.New(registry.Options{Meta: meta, Blobs: statFails{blobs}, Region: "us-east-1", Limits: limits(), Now: c.Now})
	if _, err := r.CreateRepository(callerCtx(), registry.NewRepository{Key: key("a/b")}); err != nil {
		t.Fatal(err)
	}
	loose := pushLayer(t, r, "a/b", []byte("loose layer"))
	c.Add(2 * time.Hour)
	st, err := r.CollectGarbage(callerCtx(), time.Hour)
	if err != nil || st.Blobs != 1 || st.Bytes != 0 {
		t.Fatalf("collection with Stat failing: %+v, %v; want 1 blob, 0 bytes counted", st, err)
	}
	if _, err := os.Stat(blobFile(dir, loose)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the blob is still there: %v", err)
	}
}

// TestOneCollectionAtATime: a second collection while one runs is refused
// with ErrCollectionRunning, and runs again once the first is done.
func TestOneCollectionAtATime(t *testing.T) {
	r, _ := newRegistry(t, newClock())
	ctx := callerCtx()
	for i := 0; i < 50; i++ {
		pushLayer(t, r, "a/b", []byte(fmt.Sprint("garbage ", i)))
	}
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() { _, err := r.CollectGarbage(ctx, -time.Hour); errs <- err }()
	}
	ran := 0
	for i := 0; i < 4; i++ {
		switch err := <-errs; {
		case err == nil:
			ran++
		case errors.Is(err, registry.ErrCollectionRunning):
		default:
			t.Fatal(err)
		}
	}
	if ran == 0 {
		t.Fatal("no collection ran")
	}
	if _, err := r.CollectGarbage(ctx, -time.Hour); err != nil {
		t.Fatalf("a collection after the others: %v", err)
	}
}
