package registrytest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

func testUploadRoundTrip(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "team/app")
	metaCreateRepos(t, s, key)
	want := metaUpload(key, metaTime(0))
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateUpload(want) })
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Upload(want.ID)
		if err != nil {
			return err
		}
		metaSame(t, "Upload", got, want, normUpload)
		return nil
	})
}

// testUploadRoundTripEmpty stores a new upload as the core creates it: no
// bytes, no hash state, no lease.
func testUploadRoundTripEmpty(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	for _, want := range []registry.Upload{
		{ID: registry.NewUploadID(), Repo: key, CreatedAt: metaTime(0), UpdatedAt: metaTime(0)},
		{ID: registry.NewUploadID(), Repo: key, CreatedAt: metaTime(0), UpdatedAt: metaTime(0), HashState: []byte{}},
	} {
		metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateUpload(want) })
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.Upload(want.ID)
			if err != nil {
				return err
			}
			metaSame(t, "Upload", got, want, normUpload)
			if !got.LeaseAt.IsZero() {
				t.Errorf("LeaseAt = %v, want the zero time", got.LeaseAt)
			}
			return nil
		})
	}
}

func testUploadNotFound(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateUpload(metaUpload(key, metaTime(0))) })
	missing := metaUpload(key, metaTime(0))
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Upload(missing.ID)
		metaWantErr(t, "Upload of an unknown ID", err, registry.ErrNotFound)
		return nil
	})
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.UpdateUpload(missing) })
	metaWantErr(t, "UpdateUpload of an unknown ID", err, registry.ErrNotFound)
	err = s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteUpload(missing.ID) })
	metaWantErr(t, "DeleteUpload of an unknown ID", err, registry.ErrNotFound)
	// UpdateUpload of a missing upload must not have created it.
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Upload(missing.ID)
		metaWantErr(t, "Upload after UpdateUpload of an unknown ID", err, registry.ErrNotFound)
		return nil
	})
}

func testUploadCreateExisting(t *testing.T, s registry.MetaStore) {
	a, b := metaKey(metaRegA, "app"), metaKey(metaRegB, "other")
	metaCreateRepos(t, s, a, b)
	want := metaUpload(a, metaTime(0))
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateUpload(want) })
	// Upload IDs are unique across repositories and registries.
	again := registry.Upload{ID: want.ID, Repo: b, CreatedAt: metaTime(1), UpdatedAt: metaTime(1)}
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.CreateUpload(again) })
	metaWantErr(t, "second CreateUpload", err, registry.ErrExists)
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Upload(want.ID)
		if err != nil {
			return err
		}
		metaSame(t, "Upload after refused create", got, want, normUpload)
		return nil
	})
}

func testUploadUpdate(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	first := registry.Upload{ID: registry.NewUploadID(), Repo: key, CreatedAt: metaTime(0), UpdatedAt: metaTime(0)}
	other := metaUpload(key, metaTime(0))
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.CreateUpload(first); err != nil {
			return err
		}
		return tx.CreateUpload(other)
	})
	steps := []registry.Upload{
		// Every field the core changes, set.
		{ID: first.ID, Repo: key, CreatedAt: first.CreatedAt, UpdatedAt: metaTime(time.Minute),
			Size: 5 << 20, Parts: 1, LastPartSize: 5 << 20, SmallPart: true,
			HashState: []byte{0, 1, 2, 0xff}, Lease: "holder", LeaseAt: metaTime(30 * time.Second)},
		// And cleared again: the lease released, the state replaced.
		{ID: first.ID, Repo: key, CreatedAt: first.CreatedAt, UpdatedAt: metaTime(2 * time.Minute),
			Size: 7 << 20, Parts: 2, LastPartSize: 2 << 20, HashState: []byte("next")},
	}
	for i, want := range steps {
		metaUpdate(t, s, func(tx registry.Tx) error { return tx.UpdateUpload(want) })
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.Upload(first.ID)
			if err != nil {
				return err
			}
			metaSame(t, fmt.Sprint("Upload after update ", i+1), got, want, normUpload)
			untouched, err := tx.Upload(other.ID)
			if err != nil {
				return err
			}
			metaSame(t, "another upload", untouched, other, normUpload)
			return nil
		})
	}
}

func testUploadDelete(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	metaCreateRepos(t, s, key)
	gone, kept := metaUpload(key, metaTime(0)), metaUpload(key, metaTime(0))
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.CreateUpload(gone); err != nil {
			return err
		}
		return tx.CreateUpload(kept)
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteUpload(gone.ID) })
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Upload(gone.ID)
		metaWantErr(t, "Upload after DeleteUpload", err, registry.ErrNotFound)
		if _, err := tx.Upload(kept.ID); err != nil {
			t.Errorf("Upload of another upload: %v", err)
		}
		if ids, err := tx.RepositoryUploads(key); err != nil || !slices.Equal(ids, []registry.UploadID{kept.ID}) {
			t.Errorf("RepositoryUploads = %v, %v; want [%s]", ids, err, kept.ID)
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteUpload(gone.ID) })
	metaWantErr(t, "second DeleteUpload", err, registry.ErrNotFound)
}

func testStaleUploads(t *testing.T, s registry.MetaStore) {
	a, b := metaKey(metaRegA, "app"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, a, b)
	cutoff := metaTime(0)
	// Created out of age order and across registries; offsets a microsecond
	// apart show the store orders at that precision.
	offsets := []time.Duration{-time.Microsecond, -time.Hour, 0, time.Hour, -2 * time.Hour, -time.Minute, -3 * time.Microsecond}
	var uploads []registry.Upload
	for i, off := range offsets {
		key := a
		if i%2 == 1 {
			key = b
		}
		uploads = append(uploads, metaUpload(key, cutoff.Add(off)))
	}
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, u := range uploads {
			if err := tx.CreateUpload(u); err != nil {
				return err
			}
		}
		return nil
	})
	// Oldest first; updated at or after cutoff is not stale.
	stale := []registry.Upload{uploads[4], uploads[1], uploads[5], uploads[6], uploads[0]}
	cases := []struct {
		name   string
		before time.Time
		limit  int
		want   []registry.Upload
	}{
		{"All", cutoff, 100, stale},
		{"Limit", cutoff, 2, stale[:2]},
		{"LimitEqualsCount", cutoff, len(stale), stale},
		{"EarlierCutoff", cutoff.Add(-time.Minute), 100, stale[:2]},
		{"NoneOlder", cutoff.Add(-3 * time.Hour), 100, nil},
		{"EverythingLater", cutoff.Add(2 * time.Hour), 100, append(slices.Clone(stale), uploads[2], uploads[3])},
	}
	metaView(t, s, func(tx registry.Tx) error {
		for _, c := range cases {
			got, err := tx.StaleUploads(c.before, c.limit)
			if err != nil {
				t.Errorf("%s: StaleUploads: %v", c.name, err)
				continue
			}
			if len(got) != len(c.want) {
				t.Errorf("%s: StaleUploads returned %d uploads, want %d", c.name, len(got), len(c.want))
				continue
			}
			for i := range got {
				metaSame(t, fmt.Sprintf("%s: upload %d", c.name, i), got[i], c.want[i], normUpload)
			}
		}
		return nil
	})
}

func testRepositoryUploads(t *testing.T, s registry.MetaStore) {
	a, other, twin, empty := metaKey(metaRegA, "app"), metaKey(metaRegA, "other"), metaKey(metaRegB, "app"), metaKey(metaRegA, "empty")
	metaCreateRepos(t, s, a, other, twin, empty)
	want := map[registry.RepoKey][]registry.UploadID{}
	metaUpdate(t, s, func(tx registry.Tx) error {
		for i, k := range []registry.RepoKey{a, other, a, twin, a, twin} {
			u := metaUpload(k, metaTime(time.Duration(i)*time.Second))
			if err := tx.CreateUpload(u); err != nil {
				return err
			}
			want[k] = append(want[k], u.ID)
		}
		return nil
	})
	metaView(t, s, func(tx registry.Tx) error {
		for _, k := range []registry.RepoKey{a, other, twin, empty} {
			got, err := tx.RepositoryUploads(k)
			if err != nil {
				return err
			}
			// The order is not part of the contract.
			slices.Sort(got)
			w := slices.Sorted(slices.Values(want[k]))
			if !slices.Equal(got, w) {
				t.Errorf("RepositoryUploads(%s/%s) = %v, want %v", k.Registry, k.Name, got, w)
			}
		}
		return nil
	})
}
