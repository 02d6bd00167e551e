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
