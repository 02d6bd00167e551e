package registrytest

import (
	"slices"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

func testRepositoryRoundTrip(t *testing.T, s registry.MetaStore) {
	want := metaRepo(metaKey(metaRegA, "team/app"))
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateRepository(want) })
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Repository(want.Key())
		if err != nil {
			return err
		}
		metaSame(t, "Repository", got, want, normRepository)
		return nil
	})
}

func testRepositoryRoundTripEmpty(t *testing.T, s registry.MetaStore) {
	for _, want := range []registry.Repository{
		{Registry: metaRegA, Name: "plain", CreatedAt: metaTime(0), TagMutability: "MUTABLE", EncryptionType: "AES256"},
		{Registry: metaRegA, Name: "empty-slices", CreatedAt: metaTime(0), TagMutability: "MUTABLE", EncryptionType: "AES256",
			MutabilityExclusions: []string{}, Tags: []registry.ResourceTag{}},
	} {
		metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateRepository(want) })
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.Repository(want.Key())
			if err != nil {
				return err
			}
			metaSame(t, "Repository "+string(want.Name), got, want, normRepository)
			return nil
		})
	}
}

func testRepositoryNotFound(t *testing.T, s registry.MetaStore) {
	metaCreateRepos(t, s, metaKey(metaRegA, "app"))
	metaView(t, s, func(tx registry.Tx) error {
		for _, k := range []registry.RepoKey{metaKey(metaRegA, "other"), metaKey(metaRegB, "app")} {
			_, err := tx.Repository(k)
			metaWantErr(t, "Repository("+string(k.Registry)+"/"+string(k.Name)+")", err, registry.ErrNotFound)
		}
		return nil
	})
}

func testRepositoryCreateExisting(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "app")
	want := metaRepo(key)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateRepository(want) })
	again := registry.Repository{Registry: key.Registry, Name: key.Name, CreatedAt: metaTime(1), TagMutability: "MUTABLE"}
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.CreateRepository(again) })
	metaWantErr(t, "second CreateRepository", err, registry.ErrExists)
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Repository(key)
		if err != nil {
			return err
		}
		metaSame(t, "Repository after refused create", got, want, normRepository)
		return nil
	})
}

func testRepositorySameNameOtherRegistry(t *testing.T, s registry.MetaStore) {
	a := metaRepo(metaKey(metaRegA, "app"))
	b := registry.Repository{Registry: metaRegB, Name: "app", CreatedAt: metaTime(5), TagMutability: "MUTABLE", EncryptionType: "AES256"}
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.CreateRepository(a); err != nil {
			return err
		}
		return tx.CreateRepository(b)
	})
	metaView(t, s, func(tx registry.Tx) error {
		for _, want := range []registry.Repository{a, b} {
			got, err := tx.Repository(want.Key())
			if err != nil {
				return err
			}
			metaSame(t, "Repository in "+string(want.Registry), got, want, normRepository)
		}
		return nil
	})
}

func testRepositoriesPagination(t *testing.T, s registry.MetaStore) {
	// Names that collation-aware orders (such as en_US) would sort
	// differently from bytes: '-' < '.' < '/' < digits < '_' < letters.
	names := []string{"ab", "a-b", "a.b", "a/b", "a_b", "a0", "zz", "b/c/d", "b-c", "mm"}
	var keys []registry.RepoKey
	for _, n := range names {
		keys = append(keys, metaKey(metaRegA, n))
	}
	// Repositories of another registry must never show up.
	keys = append(keys, metaKey(metaRegB, "a-a"), metaKey(metaRegB, "ac"), metaKey(metaRegB, "zzz"))
	metaCreateRepos(t, s, keys...)
	sorted := slices.Sorted(slices.Values(names))

	cases := []struct {
		name  string
		after string
		limit int
		want  []string
	}{
		{"FirstPage", "", 3, sorted[:3]},
		{"MiddlePage", sorted[2], 4, sorted[3:7]},
		{"LastPartialPage", sorted[7], 5, sorted[8:]},
		{"AllAtOnce", "", 100, sorted},
		{"AfterAbsentName", "a-c", 2, []string{"a.b", "a/b"}},
		{"AfterLast", "zz", 5, nil},
		{"LimitOne", "a_b", 1, []string{"ab"}},
	}
	metaView(t, s, func(tx registry.Tx) error {
		for _, c := range cases {
			got, err := tx.Repositories(metaRegA, registry.RepositoryName(c.after), c.limit)
			if err != nil {
				t.Errorf("%s: Repositories(%q, %d): %v", c.name, c.after, c.limit, err)
				continue
			}
			var gotNames []string
			for _, r := range got {
				gotNames = append(gotNames, string(r.Name))
				if r.Registry != metaRegA {
					t.Errorf("%s: repository %s of registry %s listed for %s", c.name, r.Name, r.Registry, metaRegA)
				}
			}
			if !slices.Equal(gotNames, c.want) {
				t.Errorf("%s: Repositories(%q, %d) = %q, want %q", c.name, c.after, c.limit, gotNames, c.want)
			}
		}
		// Every field comes back through the listing, not only the name.
		got, err := tx.Repositories(metaRegA, "", 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("Repositories(\"\", 1) = %d repositories, %v", len(got), err)
		}
		metaSame(t, "listed repository", got[0], metaRepo(metaKey(metaRegA, sorted[0])), normRepository)
		return nil
	})
}

func testRepositoryDeleteNotFound(t *testing.T, s registry.MetaStore) {
	metaCreateRepos(t, s, metaKey(metaRegA, "app"))
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteRepository(metaKey(metaRegB, "app")) })
	metaWantErr(t, "DeleteRepository of a missing repository", err, registry.ErrNotFound)
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Repository(metaKey(metaRegA, "app"))
		return err
	})
}

func testRepositoryDeleteCascades(t *testing.T, s registry.MetaStore) {
	gone, kept, twin := metaKey(metaRegA, "app"), metaKey(metaRegA, "other"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, gone, kept, twin)
	d := metaDigest("shared layer")
	var goneUploads, keptUploads []registry.UploadID
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.AddBlob(registry.Blob{Digest: d, Size: 42, CreatedAt: metaTime(0)}); err != nil {
			return err
		}
		for _, k := range []registry.RepoKey{gone, kept, twin} {
			if err := tx.AddLayer(k, registry.Layer{Digest: d, Size: 42, CreatedAt: metaTime(0)}); err != nil {
				return err
			}
			for range 2 {
				u := metaUpload(k, metaTime(0))
				if err := tx.CreateUpload(u); err != nil {
					return err
				}
				if k == gone {
					goneUploads = append(goneUploads, u.ID)
				} else {
					keptUploads = append(keptUploads, u.ID)
				}
			}
		}
		return nil
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteRepository(gone) })

	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Repository(gone)
		metaWantErr(t, "Repository after delete", err, registry.ErrNotFound)
		for _, id := range goneUploads {
			_, err := tx.Upload(id)
			metaWantErr(t, "Upload of the deleted repository", err, registry.ErrNotFound)
		}
		for _, id := range keptUploads {
			if _, err := tx.Upload(id); err != nil {
				t.Errorf("Upload %s of another repository: %v", id, err)
			}
		}
		if ids, err := tx.RepositoryUploads(gone); err != nil || len(ids) != 0 {
			t.Errorf("RepositoryUploads of the deleted repository = %v, %v; want none", ids, err)
		}
		if _, err := tx.Blob(d); err != nil {
			t.Errorf("Blob after deleting a repository that held it: %v", err)
		}
		for _, k := range []registry.RepoKey{kept, twin} {
			if n, err := tx.CountLayers(k); err != nil || n != 1 {
				t.Errorf("CountLayers(%s/%s) = %d, %v; want 1", k.Registry, k.Name, n, err)
			}
		}
		return nil
	})

	// A repository created again under the same name starts empty.
	metaCreateRepos(t, s, gone)
	metaView(t, s, func(tx registry.Tx) error {
		if n, err := tx.CountLayers(gone); err != nil || n != 0 {
			t.Errorf("CountLayers of the re-created repository = %d, %v; want 0", n, err)
		}
		if ls, err := tx.Layers(gone, []registry.Digest{d}); err != nil || len(ls) != 0 {
			t.Errorf("Layers of the re-created repository = %v, %v; want none", ls, err)
		}
		if ids, err := tx.RepositoryUploads(gone); err != nil || len(ids) != 0 {
			t.Errorf("RepositoryUploads of the re-created repository = %v, %v; want none", ids, err)
		}
		return nil
	})
}

// testRepositoryUpdate: UpdateRepository replaces the settings and keeps
// the key and creation time; a missing repository is ErrNotFound.
func testRepositoryUpdate(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "up/date")
	metaCreateRepos(t, s, key)
	var before registry.Repository
	metaView(t, s, func(tx registry.Tx) (err error) { before, err = tx.Repository(key); return err })
	changed := before
	changed.TagMutability = registry.MutabilityImmutableWithExclusion
	changed.MutabilityExclusions = []string{"dev-*", "tmp*"}
	changed.ScanOnPush = !before.ScanOnPush
	changed.Tags = []registry.ResourceTag{{Key: "k", Value: "v2"}}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.UpdateRepository(changed) })
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Repository(key)
		if err != nil {
			return err
		}
		metaSame(t, "updated repository", got, changed, normRepository)
		return nil
	})
	var err error
	metaUpdate(t, s, func(tx registry.Tx) error {
		missing := changed
		missing.Name = "no/such"
		err = tx.UpdateRepository(missing)
		return nil
	})
	metaWantErr(t, "UpdateRepository of a missing repository", err, registry.ErrNotFound)
}
