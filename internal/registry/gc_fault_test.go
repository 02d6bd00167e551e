package registry_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

// gcFixture is a registry over real stores, wrapped in Faults, holding
// images whose layers must survive every collection and garbage that a
// complete collection removes.
type gcFixture struct {
	r      *registry.Registry
	c      *clock
	f      *registrytest.Faults
	lose   *losingMeta
	dir    string
	kept   map[string][]registry.Digest // repository -> layers an image refers to
	loose  map[string][]registry.Digest // repository -> layers nothing refers to
	freed  []registry.Digest            // blobs no repository will hold
	shared registry.Digest              // loose in other/repo, referred to in a/b
}

func newGCFixture(t *testing.T) *gcFixture {
	t.Helper()
	c := newClock()
	meta, blobs, dir := openStores(t)
	fx := &gcFixture{c: c, f: registrytest.NewFaults(), dir: dir, kept: map[string][]registry.Digest{}, loose: map[string][]registry.Digest{}}
	m, b := fx.f.Wrap(meta, blobs)
	fx.lose = &losingMeta{MetaStore: m}
	fx.r = registry.New(registry.Options{Meta: fx.lose, Blobs: b, Region: "us-east-1", Limits: limits(), Now: c.Now})
	ctx := callerCtx()
	for _, repo := range []string{"a/b", "other/repo"} {
		if _, err := fx.r.CreateRepository(ctx, registry.NewRepository{Key: key(repo)}); err != nil {
			t.Fatal(err)
		}
	}
	fx.shared = pushLayer(t, fx.r, "a/b", []byte("shared base"))
	pushLayer(t, fx.r, "other/repo", []byte("shared base"))
	fx.loose["other/repo"] = []registry.Digest{fx.shared}
	for i := range 3 {
		cfg := pushLayer(t, fx.r, "a/b", []byte(fmt.Sprintf(`{"config":%d}`, i)))
		own := pushLayer(t, fx.r, "a/b", []byte(fmt.Sprint("own layer ", i)))
		fx.kept["a/b"] = append(fx.kept["a/b"], cfg, own)
		manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[`+
			`{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d}]}`,
			registry.MediaTypeOCIManifest, cfg, len(fmt.Sprintf(`{"config":%d}`, i)), fx.shared, len("shared base"), own, len(fmt.Sprint("own layer ", i)))
		if _, err := fx.r.PutImage(ctx, registry.NewImage{Key: key("a/b"), Manifest: []byte(manifest), Tag: fmt.Sprint("v", i)}); err != nil {
			t.Fatal(err)
		}
	}
	fx.kept["a/b"] = append(fx.kept["a/b"], fx.shared)
	for i := range 5 {
		d := pushLayer(t, fx.r, "a/b", []byte(fmt.Sprint("loose layer ", i)))
		fx.loose["a/b"] = append(fx.loose["a/b"], d)
		fx.freed = append(fx.freed, d)
	}
	d := pushLayer(t, fx.r, "other/repo", []byte("loose elsewhere"))
	fx.loose["other/repo"] = append(fx.loose["other/repo"], d)
	fx.freed = append(fx.freed, d)
	c.Add(2 * time.Hour)
	fx.f.Reset()
	return fx
}

// collect runs a collection in pages of two records.
func (fx *gcFixture) collect() (registry.GCStats, error) {
	return fx.r.CollectGarbagePaged(callerCtx(), time.Hour, 2, 2)
}

// checkKept fails unless every layer an image refers to is available in
// its repository with its bytes in place.
func (fx *gcFixture) checkKept(t *testing.T, when string) {
	t.Helper()
	for repo, ds := range fx.kept {
		for _, d := range ds {
			checks, err := fx.r.CheckLayers(callerCtx(), key(repo), []string{string(d)})
			if err != nil || checks[0].Availability != registry.LayerAvailable {
				t.Fatalf("%s: layer %s of %s: %+v, %v; want it available", when, d, repo, checks, err)
			}
			if _, err := os.Stat(blobFile(fx.dir, d)); err != nil {
				t.Fatalf("%s: bytes of %s: %v", when, d, err)
			}
		}
	}
}

// checkCollected fails unless every loose layer record and freed blob is
// gone.
func (fx *gcFixture) checkCollected(t *testing.T, when string) {
	t.Helper()
	for repo, ds := range fx.loose {
		for _, d := range ds {
			checks, err := fx.r.CheckLayers(callerCtx(), key(repo), []string{string(d)})
			if err != nil || checks[0].FailureCode != registry.FailureMissingLayerDigest {
				t.Fatalf("%s: loose layer %s of %s: %+v, %v; want it gone", when, d, repo, checks, err)
			}
		}
	}
	for _, d := range fx.freed {
		if _, err := os.Stat(blobFile(fx.dir, d)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: bytes of freed blob %s still there: %v", when, d, err)
		}
	}
}

// TestCollectGarbageFailsMidPass fails each store call of a paged
// collection in turn, with each failure that call can have: whatever the
// failed pass did, it deleted nothing an image refers to, and the next
// pass finishes the job, marks left behind included.
func TestCollectGarbageFailsMidPass(t *testing.T) {
	fx := newGCFixture(t)
	st, err := fx.collect()
	if err != nil {
		t.Fatal(err)
	}
	calls := fx.f.Calls()
	// 7 loose layer records (5 in a/b; in other/repo its own and the
	// shared base, which only a/b's images refer to) and 6 blobs (the
	// shared base's stays: a/b holds it).
	if st.Layers != 7 || st.Blobs != 6 {
		t.Fatalf("an unfailed pass collected %+v, want 7 layer records and 6 blobs", st)
	}
	fx.checkKept(t, "unfailed pass")
	fx.checkCollected(t, "unfailed pass")
	if len(calls) < 20 {
		t.Fatalf("a paged pass made only %d store calls; are the pages small?", len(calls))
	}
	for i, call := range calls {
		for _, kind := range call.Kinds() {
			t.Run(fmt.Sprintf("%03d-%s-%s", i, call.Name, kind), func(t *testing.T) {
				t.Parallel()
				fx := newGCFixture(t)
				fx.f.Arm(i, kind)
				_, err := fx.collect()
				if !fx.f.Fired() {
					t.Fatalf("call %d (%s) was not made this time", i, call.Name)
				}
				if err == nil && kind != registrytest.FaultConflict && call.Name != "Blob.Stat" {
					t.Fatalf("the pass hid a %s failure of %s", kind, call.Name)
				}
				fx.checkKept(t, "after the failed pass")
				fx.f.Reset()
				_, err = fx.collect()
				if errors.Is(err, registry.ErrCollectionRunning) {
					// The failed pass could not drop its lease: the
					// next runs once it expires.
					fx.c.Add(limits().LeaseTimeout + time.Second)
					_, err = fx.collect()
				}
				if err != nil {
					t.Fatalf("the next pass: %v", err)
				}
				fx.checkKept(t, "after the next pass")
				fx.checkCollected(t, "after the next pass")
			})
		}
	}
}

// losingMeta is a MetaStore whose Updates, when lose says so, give up as
// PostgreSQL's does once every retry of a serializable transaction lost a
// race, without running fn.
type losingMeta struct {
	registry.MetaStore
	mu    sync.Mutex
	calls int
	lose  func(call int) bool
}

func (m *losingMeta) arm(lose func(call int) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls, m.lose = 0, lose
}

func (m *losingMeta) Update(ctx context.Context, fn func(tx registry.Tx) error) error {
	m.mu.Lock()
	call := m.calls
	m.calls++
	lose := m.lose != nil && m.lose(call)
	m.mu.Unlock()
	if lose {
		return fmt.Errorf("20 attempts lost a race: %w", registry.ErrConflict)
	}
	return m.MetaStore.Update(ctx, fn)
}

// TestCollectGarbageOutlastsConflicts: a collection whose pages lose race
// after race to pushes (the store's retries used up) finishes, in smaller
// pages, rather than failing half-way; one that keeps losing even at one
// record a page gives up with ErrConflict, having deleted nothing an image
// refers to, and the next collection finishes the job.
func TestCollectGarbageOutlastsConflicts(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(call int) bool
	}{
		// Call 0 takes the lease; the first page then loses at 4, 2 and
		// four times at 1 record before committing.
		{"first page at one record", func(call int) bool { return call >= 1 && call <= 6 }},
		// Every page, and every drop of deleted blobs' records, loses
		// once.
		{"every other update", func(call int) bool { return call%2 == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newGCFixture(t)
			fx.lose.arm(tc.lose)
			st, err := fx.r.CollectGarbagePaged(callerCtx(), time.Hour, 4, 4)
			if err != nil {
				t.Fatal(err)
			}
			if st.Layers != 7 || st.Blobs != 6 {
				t.Fatalf("collected %+v, want 7 layer records and 6 blobs", st)
			}
			fx.checkKept(t, "after the pass")
			fx.checkCollected(t, "after the pass")
		})
	}
	t.Run("losing for ever", func(t *testing.T) {
		fx := newGCFixture(t)
		fx.lose.arm(func(call int) bool { return call >= 1 })
		if _, err := fx.r.CollectGarbagePaged(callerCtx(), time.Hour, 4, 4); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("a collection losing every race: %v, want ErrConflict", err)
		}
		// The lease, pages of 4 and 2, GCConflicts of one, and as many
		// tries to drop the lease.
		if n := fx.lose.calls; n > 1+2+2*registry.GCConflicts {
			t.Errorf("a collection losing every race made %d updates: is it bounded?", n)
		}
		fx.checkKept(t, "after the lost pass")
		fx.lose.arm(nil)
		fx.c.Add(limits().LeaseTimeout + time.Second) // its lease could not be dropped
		if _, err := fx.collect(); err != nil {
			t.Fatalf("the next pass: %v", err)
		}
		fx.checkKept(t, "after the next pass")
		fx.checkCollected(t, "after the next pass")
	})
}
