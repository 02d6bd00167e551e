package registrytest

import (
	"errors"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// testCreationTemplates: a registry's creation templates are created,
// listed in prefix order, read, replaced (keeping when they were
// created) and deleted, every field coming back as written, apart from
// another registry's; a duplicate prefix is ErrExists, a missing one
// ErrNotFound, and a failed transaction changes nothing.
func testCreationTemplates(t *testing.T, s registry.MetaStore) {
	created := time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.UTC)
	full := registry.CreationTemplate{
		Prefix: "prod/team", Description: "team's repositories", TagMutability: registry.MutabilityImmutableWithExclusion,
		MutabilityExclusions: []string{"latest", "dev-*"}, EncryptionType: registry.EncryptionKMS,
		KMSKey:           "arn:aws:kms:us-east-1:111111111111:key/k",
		ResourceTags:     []registry.ResourceTag{{Key: "team", Value: "a"}, {Key: "empty", Value: ""}},
		RepositoryPolicy: `{"Statement":[]}`, LifecyclePolicy: `{"rules":[]}`,
		AppliedFor:    []string{registry.AppliedForCreateOnPush, registry.AppliedForReplication},
		CustomRoleARN: "arn:aws:iam::111111111111:role/ecr", CreatedAt: created, UpdatedAt: created,
	}
	root := registry.CreationTemplate{Prefix: registry.RootPrefix, TagMutability: registry.MutabilityMutable,
		EncryptionType: registry.EncryptionAES256, AppliedFor: []string{registry.AppliedForPullThroughCache},
		CreatedAt: created, UpdatedAt: created}
	norm := func(ts []registry.CreationTemplate) []registry.CreationTemplate {
		out := make([]registry.CreationTemplate, len(ts))
		for i, ct := range ts {
			ct.CreatedAt, ct.UpdatedAt = metaMicro(ct.CreatedAt), metaMicro(ct.UpdatedAt)
			out[i] = ct
		}
		return out
	}
	list := func(reg registry.RegistryID, want ...registry.CreationTemplate) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.CreationTemplates(reg)
			if err != nil {
				return err
			}
			if len(want) == 0 {
				want = []registry.CreationTemplate{}
			}
			if got == nil {
				got = []registry.CreationTemplate{}
			}
			metaSame(t, "CreationTemplates("+string(reg)+")", got, want, norm)
			return nil
		})
	}
	list(metaRegA)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateCreationTemplate(metaRegA, full) })
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateCreationTemplate(metaRegA, root) })
	// "ROOT" sorts before "prod/team" in bytes: prefix order is byte order.
	list(metaRegA, root, full)
	list(metaRegB)
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.CreationTemplate(metaRegA, "prod/team")
		if err != nil {
			return err
		}
		metaSame(t, "CreationTemplate(prod/team)", []registry.CreationTemplate{got}, []registry.CreationTemplate{full}, norm)
		_, err = tx.CreationTemplate(metaRegA, "prod")
		metaWantErr(t, "CreationTemplate(prod)", err, registry.ErrNotFound)
		_, err = tx.CreationTemplate(metaRegB, "prod/team")
		metaWantErr(t, "another registry's CreationTemplate", err, registry.ErrNotFound)
		return nil
	})
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.CreateCreationTemplate(metaRegA, root) })
	metaWantErr(t, "second CreateCreationTemplate(ROOT)", err, registry.ErrExists)

	// A replacement keeps createdAt; the same prefix in B is B's own.
	changed := full
	changed.Description, changed.TagMutability, changed.MutabilityExclusions = "", registry.MutabilityMutable, nil
	changed.ResourceTags, changed.LifecyclePolicy, changed.UpdatedAt = nil, "", created.Add(time.Hour)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.UpdateCreationTemplate(metaRegA, changed) })
	changedRead := changed
	changedRead.CreatedAt = created
	list(metaRegA, root, changedRead)
	err = s.Update(t.Context(), func(tx registry.Tx) error { return tx.UpdateCreationTemplate(metaRegB, changed) })
	metaWantErr(t, "UpdateCreationTemplate in B", err, registry.ErrNotFound)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateCreationTemplate(metaRegB, full) })
	list(metaRegB, full)

	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteCreationTemplate(metaRegA, registry.RootPrefix) })
	list(metaRegA, changedRead)
	err = s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteCreationTemplate(metaRegA, registry.RootPrefix) })
	metaWantErr(t, "second DeleteCreationTemplate", err, registry.ErrNotFound)

	// A failed transaction leaves the templates as they were.
	boom := errors.New("boom")
	err = s.Update(t.Context(), func(tx registry.Tx) error {
		if err := tx.DeleteCreationTemplate(metaRegA, "prod/team"); err != nil {
			return err
		}
		if err := tx.CreateCreationTemplate(metaRegA, root); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	list(metaRegA, changedRead)
	list(metaRegB, full)
}
