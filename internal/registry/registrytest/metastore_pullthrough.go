package registrytest

import (
	"errors"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// testPullThroughRules: a registry's pull through cache rules are
// created, listed in prefix order with every field as written, replaced
// (keeping when they were created) and deleted, apart from another
// registry's; a duplicate prefix is ErrExists, a missing one
// ErrNotFound, and a failed transaction changes nothing.
func testPullThroughRules(t *testing.T, s registry.MetaStore) {
	at := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	hub := registry.PullThroughRule{Prefix: "docker-hub", UpstreamURL: "registry-1.docker.io", UpstreamRegistry: "docker-hub",
		UpstreamPrefix: "ROOT", CredentialARN: "arn:aws:secretsmanager:us-east-1:111111111111:secret:ecr-pullthroughcache/hub",
		CreatedAt: at, UpdatedAt: at}
	root := registry.PullThroughRule{Prefix: "ROOT", UpstreamURL: "public.ecr.aws", UpstreamRegistry: "ecr-public",
		UpstreamPrefix: "ROOT", CustomRoleARN: "arn:aws:iam::111111111111:role/cache", CreatedAt: at, UpdatedAt: at}
	norm := func(rs []registry.PullThroughRule) []registry.PullThroughRule {
		out := []registry.PullThroughRule{}
		for _, r := range rs {
			r.CreatedAt, r.UpdatedAt = metaMicro(r.CreatedAt), metaMicro(r.UpdatedAt)
			out = append(out, r)
		}
		return out
	}
	list := func(reg registry.RegistryID, want ...registry.PullThroughRule) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.PullThroughRules(reg)
			if err != nil {
				return err
			}
			metaSame(t, "PullThroughRules("+string(reg)+")", got, want, norm)
			return nil
		})
	}
	list(metaRegA)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreatePullThroughRule(metaRegA, hub) })
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreatePullThroughRule(metaRegA, root) })
	list(metaRegA, root, hub) // byte order: "ROOT" < "docker-hub"
	list(metaRegB)
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.CreatePullThroughRule(metaRegA, hub) })
	metaWantErr(t, "second CreatePullThroughRule", err, registry.ErrExists)

	changed := hub
	changed.CredentialARN, changed.CustomRoleARN, changed.UpdatedAt = "", "arn:aws:iam::111111111111:role/r", at.Add(time.Minute)
	changed.CreatedAt = at.Add(time.Hour) // not written: createdAt stays
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.UpdatePullThroughRule(metaRegA, changed) })
	changed.CreatedAt = at
	list(metaRegA, root, changed)
	err = s.Update(t.Context(), func(tx registry.Tx) error { return tx.UpdatePullThroughRule(metaRegB, hub) })
	metaWantErr(t, "UpdatePullThroughRule in B", err, registry.ErrNotFound)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreatePullThroughRule(metaRegB, hub) })

	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeletePullThroughRule(metaRegA, "ROOT") })
	list(metaRegA, changed)
	err = s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeletePullThroughRule(metaRegA, "ROOT") })
	metaWantErr(t, "second DeletePullThroughRule", err, registry.ErrNotFound)

	boom := errors.New("boom")
	err = s.Update(t.Context(), func(tx registry.Tx) error {
		if err := tx.DeletePullThroughRule(metaRegA, "docker-hub"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	list(metaRegA, changed)
	list(metaRegB, hub)
}

// testPullThroughChecks: when a cache repository's tag was last checked
// upstream is kept per tag, replaced by a later check, refused for a
// repository that does not exist, and deleted with the repository.
func testPullThroughChecks(t *testing.T, s registry.MetaStore) {
	key := metaKey(metaRegA, "cache/app")
	at := time.Date(2026, 7, 8, 9, 10, 11, 12000, time.UTC)
	want := func(tag string, when time.Time) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.PullThroughCheck(key, tag)
			if when.IsZero() {
				metaWantErr(t, "PullThroughCheck("+tag+")", err, registry.ErrNotFound)
			} else if err != nil || !got.Equal(metaMicro(when)) {
				t.Errorf("PullThroughCheck(%s) = %v, %v; want %v", tag, got, err, when)
			}
			return nil
		})
	}
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.PutPullThroughCheck(key, "v1", at) })
	metaWantErr(t, "PutPullThroughCheck of a missing repository", err, registry.ErrNotFound)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateRepository(metaRepo(key)) })
	want("v1", time.Time{})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutPullThroughCheck(key, "v1", at) })
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutPullThroughCheck(key, "latest", at) })
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutPullThroughCheck(key, "v1", at.Add(time.Hour)) })
	want("v1", at.Add(time.Hour))
	want("latest", at)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteRepository(key) })
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateRepository(metaRepo(key)) })
	want("v1", time.Time{})
}
