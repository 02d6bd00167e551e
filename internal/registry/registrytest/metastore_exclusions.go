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
