package registrytest

import (
	"errors"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

// testRegistryPolicy: a registry's policy is put, replaced, read back and
// deleted, apart from another registry's and from repository policies.
func testRegistryPolicy(t *testing.T, s registry.MetaStore) {
	want := func(reg registry.RegistryID, text string) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.RegistryPolicy(reg)
			if text == "" {
				metaWantErr(t, "RegistryPolicy("+string(reg)+")", err, registry.ErrNotFound)
			} else if err != nil || got != text {
				t.Errorf("RegistryPolicy(%s) = %q, %v; want %q", reg, got, err, text)
			}
			return nil
		})
	}
	want(metaRegA, "")
	for _, text := range []string{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:ReplicateImage"}]}`, `{"Statement":[]}`} {
		metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutRegistryPolicy(metaRegA, text) })
		want(metaRegA, text)
	}
	want(metaRegB, "")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutRegistryPolicy(metaRegB, "b") })
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteRegistryPolicy(metaRegA) })
	want(metaRegA, "")
	want(metaRegB, "b")
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteRegistryPolicy(metaRegA) })
	metaWantErr(t, "second DeleteRegistryPolicy", err, registry.ErrNotFound)

	// A failed transaction leaves the policy as it was.
	boom := errors.New("boom")
	err = s.Update(t.Context(), func(tx registry.Tx) error {
		if err := tx.PutRegistryPolicy(metaRegB, "changed"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	want(metaRegB, "b")
}

// testRepositoryAccess: what decides access to a repository comes back
// in one read, whichever of the repository, its policy and its registry's
// policy exist, and for a repository that does not exist the registry's
// policy still does.
func testRepositoryAccess(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "team/app")
	want := func(name string, k registry.RepoKey, exists bool, policy, registryPolicy string) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.RepositoryAccess(k)
			if err != nil {
				return err
			}
			if got.Exists != exists || got.Policy != policy || got.RegistryPolicy != registryPolicy {
				t.Errorf("%s: RepositoryAccess(%s) = exists %v, policy %q, registry policy %q; want %v, %q, %q",
					name, k.Name, got.Exists, got.Policy, got.RegistryPolicy, exists, policy, registryPolicy)
			}
			if exists {
				metaSame(t, name+": its repository", got.Repository, metaRepo(k), normRepository)
			}
			return nil
		})
	}
	want("nothing", key, false, "", "")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutRegistryPolicy(metaRegA, "registry A") })
	want("no repository, a registry policy", key, false, "", "registry A")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateRepository(metaRepo(key)) })
	want("a repository without a policy", key, true, "", "registry A")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutRepositoryPolicy(key, "repository") })
	want("both policies", key, true, "repository", "registry A")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteRegistryPolicy(metaRegA) })
	want("a repository policy only", key, true, "repository", "")
	// Another registry's repository of the same name, and its policy, are
	// not this one's.
	other := metaKey(metaRegB, "team/app")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutRegistryPolicy(metaRegB, "registry B") })
	want("the same name elsewhere", other, false, "", "registry B")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteRepository(key) })
	want("deleted with its policy", key, false, "", "")
}
