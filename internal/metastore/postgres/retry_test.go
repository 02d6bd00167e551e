package postgres

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestConflictRetried makes two Updates collide for certain: each reads
// where the tag "latest" points, both wait until the other has read, then
// each moves the tag to its own image. Serializable isolation lets only
// one commit; the other is aborted (a serialization failure) and must be
// run again by the store, not returned. The tag ends on one of the two
// images, and fn ran at least three times in all.
func TestConflictRetried(t *testing.T) {
	s, _ := openFresh(t, Options{MaxConns: 4})
	key := registry.RepoKey{Registry: "111111111111", Name: "race/app"}
	img := func(hex string) registry.Image {
		return registry.Image{Digest: registry.Digest("sha256:" + strings.Repeat(hex, 64)),
			Manifest: []byte(hex), Status: registry.ImageActive, PushedAt: time.Now()}
	}
	first, a, b := img("1"), img("a"), img("b")
	err := s.Update(t.Context(), func(tx registry.Tx) error {
		if err := tx.CreateRepository(registry.Repository{Registry: key.Registry, Name: key.Name}); err != nil {
			return err
		}
		for _, i := range []registry.Image{first, a, b} {
			if err := tx.PutImage(key, i); err != nil {
				return err
			}
		}
		return tx.SetTag(key, "latest", first.Digest, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}

	var (
		runs atomic.Int32
		read sync.WaitGroup // both first runs have read the tag
		wg   sync.WaitGroup
		errs = make([]error, 2)
	)
	read.Add(2)
	for i, to := range []registry.Digest{a.Digest, b.Digest} {
		var once sync.Once
		wg.Go(func() {
			errs[i] = s.Update(t.Context(), func(tx registry.Tx) error {
				runs.Add(1)
				if _, err := tx.Tag(key, "latest"); err != nil {
					return err
				}
				once.Do(func() {
					read.Done()
					read.Wait()
				})
				return tx.SetTag(key, "latest", to, time.Now())
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Update %d: %v", i, err)
		}
	}
	if n := runs.Load(); n < 3 {
		t.Errorf("fn ran %d times for two colliding Updates, want at least 3 (one retried)", n)
	}
	var got registry.Digest
	err = s.View(t.Context(), func(tx registry.Tx) (err error) {
		got, err = tx.Tag(key, "latest")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != a.Digest && got != b.Digest {
		t.Fatalf("latest names %s, want one of the two images moved to", got)
	}
	// Every image's tagged flag followed the tag.
	err = s.View(t.Context(), func(tx registry.Tx) error {
		tagged, err := tx.Images(key, registry.ImageQuery{Limit: 10, TagStatus: registry.TagStatusTagged})
		if err != nil {
			return err
		}
		if len(tagged) != 1 || tagged[0].Digest != got {
			t.Errorf("tagged images = %v, want only %s", tagged, got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConflictGivesUp shows that a transaction that loses every race
// ends, after maxAttempts runs, with registry.ErrConflict, and that an
// error of fn's own is never retried.
func TestConflictGivesUp(t *testing.T) {
	s, _ := openFresh(t, Options{})
	runs := 0
	err := s.Update(t.Context(), func(tx registry.Tx) error {
		runs++
		return &pgconn.PgError{Code: "40001", Message: "could not serialize access (simulated)"}
	})
	if !errors.Is(err, registry.ErrConflict) || runs != maxAttempts {
		t.Errorf("Update losing every race: %v after %d runs, want ErrConflict after %d", err, runs, maxAttempts)
	}
	runs = 0
	mine := errors.New("fn's own")
	if err := s.Update(t.Context(), func(tx registry.Tx) error { runs++; return mine }); !errors.Is(err, mine) || runs != 1 {
		t.Errorf("Update whose fn fails: %v after %d runs, want fn's error after 1", err, runs)
	}
}

// TestStorageErrors walks PostgreSQL's error codes through the store's
// mapping: a full disk and I/O failures are storage errors, the rest are
// returned as they are.
func TestStorageErrors(t *testing.T) {
	s := &Store{where: "db.example:5432/ecrd"}
	for _, c := range []struct {
		code string
		kind registry.StorageKind // "" for none
	}{
		{"53100", registry.StorageFull},
		{"58030", registry.StorageIO},
		{"XX001", registry.StorageIO},
		{"XX002", registry.StorageIO},
		{"40001", ""},
		{"23505", ""},
		{"57P01", ""}, // admin_shutdown: the connection, not the storage
		{"53300", ""}, // too_many_connections
	} {
		cause := &pgconn.PgError{Code: c.code}
		err := s.storageError(cause)
		se, ok := registry.AsStorageError(err)
		switch {
		case c.kind == "" && ok:
			t.Errorf("%s: a storage error (%s), want the error as it is", c.code, se.Kind)
		case c.kind != "" && (!ok || se.Kind != c.kind || se.Path != s.where):
			t.Errorf("%s: %#v, want a %s storage error of %s", c.code, err, c.kind, s.where)
		case !errors.Is(err, cause):
			t.Errorf("%s: the cause is lost", c.code)
		}
	}
	if err := s.storageError(nil); err != nil {
		t.Errorf("storageError(nil) = %v", err)
	}
}
