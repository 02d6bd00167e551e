package registrytest

import (
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// testPullTimeExclusions: a registry's exclusions are kept by ARN, listed
// in ARN order apart from another registry's, a duplicate is ErrExists
// and a missing one ErrNotFound.
func testPullTimeExclusions(t *testing.T, s registry.MetaStore) {
	at := time.Date(2026, 9, 1, 2, 3, 4, 5000, time.UTC)
	user := registry.PullTimeExclusion{PrincipalARN: "arn:aws:iam::111111111111:user/scanner", CreatedAt: at}
	role := registry.PullTimeExclusion{PrincipalARN: "arn:aws:iam::111111111111:role/ci/builder", CreatedAt: at.Add(time.Second)}
	list := func(reg registry.RegistryID, want ...registry.PullTimeExclusion) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.PullTimeExclusions(reg)
			if err != nil {
				return err
			}
			if len(got) != len(want) {
				t.Errorf("PullTimeExclusions(%s) = %+v, want %+v", reg, got, want)
				return nil
			}
			for i := range got {
				if got[i].PrincipalARN != want[i].PrincipalARN || !got[i].CreatedAt.Equal(metaMicro(want[i].CreatedAt)) {
					t.Errorf("PullTimeExclusions(%s)[%d] = %+v, want %+v", reg, i, got[i], want[i])
				}
			}
			return nil
		})
	}
	list(metaRegA)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreatePullTimeExclusion(metaRegA, user) })
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreatePullTimeExclusion(metaRegA, role) })
	list(metaRegA, role, user)
	list(metaRegB)
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.CreatePullTimeExclusion(metaRegA, user) })
	metaWantErr(t, "second CreatePullTimeExclusion", err, registry.ErrExists)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeletePullTimeExclusion(metaRegA, role.PrincipalARN) })
	list(metaRegA, user)
	err = s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeletePullTimeExclusion(metaRegA, role.PrincipalARN) })
	metaWantErr(t, "second DeletePullTimeExclusion", err, registry.ErrNotFound)
}

// testAccountSettings: a registry's settings are kept by name apart from
// another registry's, replaced by a later put; an unset one is
// ErrNotFound, and access reads carry REGISTRY_POLICY_SCOPE.
func testAccountSettings(t *testing.T, s registry.MetaStore) {
	get := func(reg registry.RegistryID, name, want string) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.AccountSetting(reg, name)
			if want == "" {
				metaWantErr(t, "AccountSetting("+name+")", err, registry.ErrNotFound)
			} else if err != nil || got != want {
				t.Errorf("AccountSetting(%s, %s) = %q, %v; want %q", reg, name, got, err, want)
			}
			return nil
		})
	}
	scope := func(key registry.RepoKey, want string) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			a, err := tx.RepositoryAccess(key)
			if err != nil {
				return err
			}
			st, err := tx.LayerStatus(key, metaDigest("none"), time.Now())
			if err != nil {
				return err
			}
			if a.RegistryPolicyScope != want || st.Access.RegistryPolicyScope != want {
				t.Errorf("%s: RepositoryAccess scope %q, LayerStatus scope %q; want %q", key.Name, a.RegistryPolicyScope, st.Access.RegistryPolicyScope, want)
			}
			return nil
		})
	}
	get(metaRegA, "BLOB_MOUNTING", "")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutAccountSetting(metaRegA, "BLOB_MOUNTING", "ENABLED") })
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutAccountSetting(metaRegA, "BLOB_MOUNTING", "DISABLED") })
	get(metaRegA, "BLOB_MOUNTING", "DISABLED")
	get(metaRegB, "BLOB_MOUNTING", "")
	key := metaKey(metaRegA, "scoped")
	scope(key, "")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutAccountSetting(metaRegA, "REGISTRY_POLICY_SCOPE", "V1") })
	scope(key, "V1") // a repository that does not exist
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateRepository(metaRepo(key)) })
	scope(key, "V1")
	scope(metaKey(metaRegB, "scoped"), "")
}
