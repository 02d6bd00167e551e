package registrytest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

// errMetaAbort is what the rollback cases' fn returns.
var errMetaAbort = errors.New("registrytest: abort the transaction")

// testUpdateReadsOwnWrites shows that a transaction sees what it wrote
// before it commits, which the core relies on (create an upload, then read
// it back; add a layer, then count).
func testUpdateReadsOwnWrites(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.CreateRepository(metaRepo(key)); err != nil {
			return err
		}
		if _, err := tx.Repository(key); err != nil {
			t.Errorf("Repository in the creating transaction: %v", err)
		}
		if err := tx.AddLayer(key, metaLayer("one")); err != nil {
			return err
		}
		if n, err := tx.CountLayers(key); err != nil || n != 1 {
			t.Errorf("CountLayers in the adding transaction = %d, %v; want 1", n, err)
		}
		u := metaUpload(key, metaTime(0))
		if err := tx.CreateUpload(u); err != nil {
			return err
		}
		u.Size++
		if err := tx.UpdateUpload(u); err != nil {
			return err
		}
		got, err := tx.Upload(u.ID)
		if err != nil {
			return err
		}
		metaSame(t, "Upload in the updating transaction", got, u, normUpload)
		return nil
	})
}

func testUpdateRollback(t *testing.T, s registry.MetaStore) {
	key, kept := metaKey(metaRegA, "app"), metaKey(metaRegA, "kept")
	metaCreateRepos(t, s, kept)
	keptUpload := metaUpload(kept, metaTime(0))
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateUpload(keptUpload) })

	d := metaDigest("blob")
	err := s.Update(t.Context(), func(tx registry.Tx) error {
		// One write of each kind, then an error.
		if err := tx.CreateRepository(metaRepo(key)); err != nil {
			return err
		}
		if err := tx.AddLayer(key, metaLayer("one")); err != nil {
			return err
		}
		if err := tx.AddBlob(registry.Blob{Digest: d, Size: 1, CreatedAt: metaTime(0)}); err != nil {
			return err
		}
		if err := tx.CreateUpload(metaUpload(key, metaTime(0))); err != nil {
			return err
		}
		changed := keptUpload
		changed.Size = 1
		if err := tx.UpdateUpload(changed); err != nil {
			return err
		}
		if err := tx.DeleteRepository(kept); err != nil {
			return err
		}
		return errMetaAbort
	})
	metaWantErr(t, "Update whose fn failed", err, errMetaAbort)

	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Repository(key)
		metaWantErr(t, "Repository created in a rolled-back Update", err, registry.ErrNotFound)
		_, err = tx.Blob(d)
		metaWantErr(t, "Blob added in a rolled-back Update", err, registry.ErrNotFound)
		if ids, err := tx.RepositoryUploads(key); err != nil || len(ids) != 0 {
			t.Errorf("RepositoryUploads = %v, %v; want none", ids, err)
		}
		if _, err := tx.Repository(kept); err != nil {
			t.Errorf("Repository deleted in a rolled-back Update: %v", err)
		}
		got, err := tx.Upload(keptUpload.ID)
		if err != nil {
			return err
		}
		metaSame(t, "Upload changed in a rolled-back Update", got, keptUpload, normUpload)
		return nil
	})
	// The layer went with the repository; re-creating it must find none.
	metaCreateRepos(t, s, key)
	metaView(t, s, func(tx registry.Tx) error {
		if n, err := tx.CountLayers(key); err != nil || n != 0 {
			t.Errorf("CountLayers = %d, %v; want 0", n, err)
		}
		return nil
	})
}

// testUpdateUsableAfterErrExists shows that a Tx method returning
// ErrExists or ErrNotFound leaves the transaction usable: the core may
// tolerate those and carry on. (A PostgreSQL transaction is aborted by a
// failed statement unless the store avoids the failure or uses a savepoint.)
func testUpdateUsableAfterErrExists(t *testing.T, s registry.MetaStore) {
	a, b := metaKey(metaRegA, "app"), metaKey(metaRegA, "next")
	metaCreateRepos(t, s, a)
	l := metaLayer("one")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.AddLayer(a, l) })
	metaUpdate(t, s, func(tx registry.Tx) error {
		metaWantErr(t, "CreateRepository of an existing repository", tx.CreateRepository(metaRepo(a)), registry.ErrExists)
		metaWantErr(t, "AddLayer of a held layer", tx.AddLayer(a, l), registry.ErrExists)
		metaWantErr(t, "DeleteUpload of an unknown upload", tx.DeleteUpload(registry.NewUploadID()), registry.ErrNotFound)
		if err := tx.CreateRepository(metaRepo(b)); err != nil {
			return err
		}
		return tx.AddLayer(b, l)
	})
	metaView(t, s, func(tx registry.Tx) error {
		if n, err := tx.CountLayers(b); err != nil || n != 1 {
			t.Errorf("CountLayers after the transaction carried on = %d, %v; want 1", n, err)
		}
		return nil
	})
}

func testUpdateCanceled(t *testing.T, s registry.MetaStore) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	key := metaKey(metaRegA, "app")
	err := s.Update(ctx, func(tx registry.Tx) error { return tx.CreateRepository(metaRepo(key)) })
	if err == nil {
		t.Errorf("Update with a canceled context succeeded")
	}
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Repository(key)
		metaWantErr(t, "Repository created with a canceled context", err, registry.ErrNotFound)
		return nil
	})
}

// testUpdateConcurrent runs read-modify-write transactions at once: the
// store must serialize them, or retry on conflict itself, so that none is
// lost and none fails. Readers run alongside and must not fail either.
func testUpdateConcurrent(t *testing.T, s registry.MetaStore) {
	const writers, readers = 32, 8
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	u := registry.Upload{ID: registry.NewUploadID(), Repo: key, CreatedAt: metaTime(0), UpdatedAt: metaTime(0)}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateUpload(u) })

	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			err := s.Update(t.Context(), func(tx registry.Tx) error {
				cur, err := tx.Upload(u.ID)
				if err != nil {
					return err
				}
				cur.Size++
				cur.Parts++
				return tx.UpdateUpload(cur)
			})
			if err != nil {
				t.Errorf("concurrent Update: %v", err)
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for range 4 {
				err := s.View(t.Context(), func(tx registry.Tx) error {
					cur, err := tx.Upload(u.ID)
					if err == nil && (cur.Size < 0 || cur.Size > writers || int64(cur.Parts) != cur.Size) {
						t.Errorf("View saw a torn upload: Size %d, Parts %d", cur.Size, cur.Parts)
					}
					return err
				})
				if err != nil {
					t.Errorf("concurrent View: %v", err)
				}
			}
		})
	}
	wg.Wait()
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Upload(u.ID)
		if err != nil {
			return err
		}
		if got.Size != writers || got.Parts != writers {
			t.Errorf("after %d concurrent increments Size = %d, Parts = %d; updates were lost", writers, got.Size, got.Parts)
		}
		return nil
	})
}

func testViewSeesCommitted(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Repository(key)
		metaWantErr(t, "Repository before it is created", err, registry.ErrNotFound)
		return nil
	})
	metaCreateRepos(t, s, key)
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Repository(key)
		return err
	})
}

func testViewReturnsError(t *testing.T, s registry.MetaStore) {
	err := s.View(t.Context(), func(tx registry.Tx) error {
		_, err := tx.Repository(metaKey(metaRegA, "missing"))
		return err
	})
	metaWantErr(t, "View returning a Tx error", err, registry.ErrNotFound)
	err = s.View(t.Context(), func(tx registry.Tx) error { return errMetaAbort })
	metaWantErr(t, "View returning fn's error", err, errMetaAbort)
}
