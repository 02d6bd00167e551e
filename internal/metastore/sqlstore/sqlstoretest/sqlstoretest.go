// Package sqlstoretest holds the tests both SQL metadata stores run beyond
// the registrytest contract: how they answer what the contract leaves open,
// the same way since they share sqlstore.Tx, and that what one Store wrote
// another reads back. Each store's store_test.go calls them with its own
// way to open a Store.
package sqlstoretest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Reopen writes a repository, a layer, a blob and an upload through the
// Store open returns, closes it, and checks that a second Store open
// returns reads them back, times to the microsecond. open must open the
// same database each time. Reopen returns the second Store, for the
// store's own checks (no migration applied twice), and closes it when the
// test ends.
func Reopen(t *testing.T, open func() registry.MetaStore) registry.MetaStore {
	t.Helper()
	at := time.Date(2025, 6, 1, 12, 30, 45, 123456789, time.UTC)
	key := registry.RepoKey{Registry: "123456789012", Name: "team/app"}
	repo := registry.Repository{
		Registry: key.Registry, Name: key.Name, CreatedAt: at,
		TagMutability: "MUTABLE_WITH_EXCLUSION", MutabilityExclusions: []string{"dev-*"},
		ScanOnPush: true, EncryptionType: "KMS", KMSKey: "alias/ecr",
		Tags: []registry.ResourceTag{{Key: "team", Value: "platform"}},
	}
	layer := registry.Layer{Digest: registry.Digest("sha256:" + strings.Repeat("ab", 32)), Size: 99, MediaType: "application/vnd.oci.image.layer.v1.tar", CreatedAt: at}
	blob := registry.Blob{Digest: layer.Digest, Size: 99, CreatedAt: at}
	upload := registry.Upload{
		ID: registry.NewUploadID(), Repo: key, CreatedAt: at, UpdatedAt: at.Add(time.Second),
		Size: 10, Parts: 1, LastPartSize: 10, HashState: []byte{1, 2, 3}, Lease: "me", LeaseAt: at,
	}

	s := open()
	err := s.Update(t.Context(), func(tx registry.Tx) error {
		if err := tx.CreateRepository(repo); err != nil {
			return err
		}
		if err := tx.AddLayer(key, layer); err != nil {
			return err
		}
		if err := tx.AddBlob(blob); err != nil {
			return err
		}
		return tx.CreateUpload(upload)
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	trunc := at.Truncate(time.Microsecond)
	err = s.View(t.Context(), func(tx registry.Tx) error {
		r, err := tx.Repository(key)
		if err != nil {
			return err
		}
		if !r.CreatedAt.Equal(trunc) || r.KMSKey != repo.KMSKey || len(r.Tags) != 1 || r.Tags[0] != repo.Tags[0] ||
			len(r.MutabilityExclusions) != 1 || r.MutabilityExclusions[0] != "dev-*" || !r.ScanOnPush {
			t.Errorf("Repository after reopen = %+v, want %+v", r, repo)
		}
		ls, err := tx.Layers(key, []registry.Digest{layer.Digest})
		if err != nil {
			return err
		}
		if l := ls[layer.Digest]; l.Size != layer.Size || l.MediaType != layer.MediaType || !l.CreatedAt.Equal(trunc) {
			t.Errorf("Layer after reopen = %+v, want %+v", l, layer)
		}
		b, err := tx.Blob(blob.Digest)
		if err != nil {
			return err
		}
		if b.Size != blob.Size || !b.CreatedAt.Equal(trunc) {
			t.Errorf("Blob after reopen = %+v, want %+v", b, blob)
		}
		u, err := tx.Upload(upload.ID)
		if err != nil {
			return err
		}
		if u.Size != 10 || string(u.HashState) != "\x01\x02\x03" || u.Lease != "me" || !u.LeaseAt.Equal(trunc) ||
			!u.CreatedAt.Equal(trunc) || !u.UpdatedAt.Equal(trunc.Add(time.Second)) || u.Repo != key {
			t.Errorf("Upload after reopen = %+v, want %+v", u, upload)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return s
}

// ViewIsReadOnly shows that a write inside View fails (rather than, on
// SQLite, bypassing the single writer).
func ViewIsReadOnly(t *testing.T, s registry.MetaStore) {
	t.Helper()
	err := s.View(t.Context(), func(tx registry.Tx) error {
		return tx.AddBlob(registry.Blob{Digest: registry.Digest("sha256:" + strings.Repeat("cd", 32)), Size: 1})
	})
	if err == nil {
		t.Fatal("a write in View succeeded")
	}
}

// MissingRepository shows how the stores answer what the MetaStore
// contract leaves open: a layer, upload, policy or catalog of a repository
// that does not exist is refused with ErrNotFound, and the transaction
// carries on (a failed statement would have aborted it on PostgreSQL).
func MissingRepository(t *testing.T, s registry.MetaStore) {
	t.Helper()
	missing := registry.RepoKey{Registry: "123456789012", Name: "missing"}
	err := s.Update(t.Context(), func(tx registry.Tx) error {
		l := registry.Layer{Digest: registry.Digest("sha256:" + strings.Repeat("ef", 32)), Size: 1}
		if err := tx.AddLayer(missing, l); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("AddLayer to a missing repository: %v, want ErrNotFound", err)
		}
		u := registry.Upload{ID: registry.NewUploadID(), Repo: missing}
		if err := tx.CreateUpload(u); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("CreateUpload in a missing repository: %v, want ErrNotFound", err)
		}
		if err := tx.PutRepositoryPolicy(missing, "{}"); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("PutRepositoryPolicy of a missing repository: %v, want ErrNotFound", err)
		}
		if err := tx.PutRepositoryCatalog(missing, registry.Catalog{}); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("PutRepositoryCatalog of a missing repository: %v, want ErrNotFound", err)
		}
		return tx.CreateRepository(registry.Repository{Registry: missing.Registry, Name: missing.Name})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}
