package registrytest

import (
	"reflect"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

// testLifecyclePolicy: a repository's policy is put, replaced with its
// evaluation time, listed across registries in key order, deleted, and
// goes with its repository.
func testLifecyclePolicy(t *testing.T, s registry.MetaStore) {
	a, a2, b := metaKey(metaRegA, "app"), metaKey(metaRegA, "web"), metaKey(metaRegB, "app")
	missing := metaKey(metaRegA, "missing")
	metaCreateRepos(t, s, a, a2, b)
	err := s.View(t.Context(), func(tx registry.Tx) error { _, err := tx.LifecyclePolicy(a); return err })
	metaWantErr(t, "LifecyclePolicy before any", err, registry.ErrNotFound)
	err = s.Update(t.Context(), func(tx registry.Tx) error {
		return tx.PutLifecyclePolicy(missing, registry.LifecyclePolicy{Text: "x"})
	})
	metaWantErr(t, "PutLifecyclePolicy of a missing repository", err, registry.ErrNotFound)

	evaluated := registry.LifecyclePolicy{Text: `{"rules":[2]}`, EvaluatedAt: metaTime(0)}
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, k := range []registry.RepoKey{b, a2, a} {
			if err := tx.PutLifecyclePolicy(k, registry.LifecyclePolicy{Text: `{"rules":[1]}`}); err != nil {
				return err
			}
		}
		return tx.PutLifecyclePolicy(a, evaluated)
	})
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.LifecyclePolicy(a)
		if err != nil || got.Text != evaluated.Text || !got.EvaluatedAt.Equal(metaMicro(evaluated.EvaluatedAt)) {
			t.Errorf("LifecyclePolicy(a) = %+v, %v; want %+v", got, err, evaluated)
		}
		if got, err := tx.LifecyclePolicy(b); err != nil || !got.EvaluatedAt.IsZero() {
			t.Errorf("LifecyclePolicy(b) = %+v, %v; want never evaluated", got, err)
		}
		all, err := tx.LifecyclePolicies(registry.RepoKey{}, 10)
		if want := []registry.RepoKey{a, a2, b}; err != nil || !reflect.DeepEqual(all, want) {
			t.Errorf("LifecyclePolicies = %v, %v; want %v", all, err, want)
		}
		page, err := tx.LifecyclePolicies(a, 1)
		if want := []registry.RepoKey{a2}; err != nil || !reflect.DeepEqual(page, want) {
			t.Errorf("LifecyclePolicies after a = %v, %v; want %v", page, err, want)
		}
		return nil
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteLifecyclePolicy(a) })
	err = s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteLifecyclePolicy(a) })
	metaWantErr(t, "second DeleteLifecyclePolicy", err, registry.ErrNotFound)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteRepository(a2) })
	metaView(t, s, func(tx registry.Tx) error {
		all, err := tx.LifecyclePolicies(registry.RepoKey{}, 10)
		if want := []registry.RepoKey{b}; err != nil || !reflect.DeepEqual(all, want) {
			t.Errorf("LifecyclePolicies after the deletes = %v, %v; want %v", all, err, want)
		}
		return nil
	})
}

// testLifecyclePreview: a preview's record and results round-trip every
// field, page by digest, filter by tag status and digest, are replaced
// and deleted, and go with their repository.
func testLifecyclePreview(t *testing.T, s registry.MetaStore) {
	a, b := metaKey(metaRegA, "app"), metaKey(metaRegB, "app")
	metaCreateRepos(t, s, a, b)
	err := s.View(t.Context(), func(tx registry.Tx) error { _, err := tx.LifecyclePreview(a); return err })
	metaWantErr(t, "LifecyclePreview before any", err, registry.ErrNotFound)
	running := registry.LifecyclePreview{Status: registry.PreviewInProgress, Text: "policy", Holder: "ecrd-1", StartedAt: metaMicro(metaTime(0))}
	done := registry.LifecyclePreview{Status: registry.PreviewComplete, Text: "policy", Holder: "ecrd-1", StartedAt: metaMicro(metaTime(0)),
		DoneAt: metaMicro(metaTime(1e9)), Failure: "", Expiring: 2, Transitioning: 1}
	results := []registry.PreviewResult{
		{Digest: metaDigest("1"), Tags: []string{"v1", "latest"}, PushedAt: metaMicro(metaTime(-1e9)), Action: "EXPIRE", Rule: 1, StorageClass: "STANDARD"},
		{Digest: metaDigest("2"), PushedAt: metaMicro(metaTime(-2e9)), Action: "TRANSITION", Rule: 7, StorageClass: "STANDARD"},
		{Digest: metaDigest("3"), Tags: []string{"old"}, PushedAt: metaMicro(metaTime(-3e9)), Action: "EXPIRE", Rule: 3, StorageClass: "ARCHIVE"},
	}
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.PutLifecyclePreview(a, running); err != nil {
			return err
		}
		if err := tx.AddLifecyclePreviewResults(a, results[:2]); err != nil {
			return err
		}
		if err := tx.AddLifecyclePreviewResults(a, results[1:]); err != nil {
			return err
		}
		return tx.PutLifecyclePreview(a, done)
	})
	byDigest := func(rs []registry.PreviewResult) []registry.PreviewResult {
		out := append([]registry.PreviewResult(nil), rs...)
		for i := range out {
			for j := i + 1; j < len(out); j++ {
				if out[j].Digest < out[i].Digest {
					out[i], out[j] = out[j], out[i]
				}
			}
		}
		return out
	}
	sorted := byDigest(results)
	yes, no := true, false
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.LifecyclePreview(a)
		if err != nil || !reflect.DeepEqual(got, done) {
			t.Errorf("LifecyclePreview = %+v, %v; want %+v", got, err, done)
		}
		for _, c := range []struct {
			name string
			q    registry.PreviewQuery
			want []registry.PreviewResult
		}{
			{"All", registry.PreviewQuery{Limit: 10}, sorted},
			{"Page", registry.PreviewQuery{After: sorted[0].Digest, Limit: 1}, sorted[1:2]},
			{"Tagged", registry.PreviewQuery{Limit: 10, Tagged: &yes}, byDigest([]registry.PreviewResult{results[0], results[2]})},
			{"Untagged", registry.PreviewQuery{Limit: 10, Tagged: &no}, results[1:2]},
			{"Digests", registry.PreviewQuery{Limit: 10, Digests: []registry.Digest{results[2].Digest, metaDigest("none")}}, results[2:3]},
		} {
			got, err := tx.LifecyclePreviewResults(a, c.q)
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s: LifecyclePreviewResults = %+v, %v; want %+v", c.name, got, err, c.want)
			}
		}
		if got, err := tx.LifecyclePreviewResults(b, registry.PreviewQuery{Limit: 10}); err != nil || len(got) != 0 {
			t.Errorf("results of another registry's repository = %+v, %v; want none", got, err)
		}
		return nil
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteLifecyclePreviewResults(a) })
	metaView(t, s, func(tx registry.Tx) error {
		if got, err := tx.LifecyclePreviewResults(a, registry.PreviewQuery{Limit: 10}); err != nil || len(got) != 0 {
			t.Errorf("results after DeleteLifecyclePreviewResults = %+v, %v; want none", got, err)
		}
		return nil
	})
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.AddLifecyclePreviewResults(a, results); err != nil {
			return err
		}
		return tx.DeleteRepository(a)
	})
	metaCreateRepos(t, s, a)
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.LifecyclePreview(a)
		metaWantErr(t, "LifecyclePreview of a recreated repository", err, registry.ErrNotFound)
		if got, err := tx.LifecyclePreviewResults(a, registry.PreviewQuery{Limit: 10}); err != nil || len(got) != 0 {
			t.Errorf("results of a recreated repository = %+v, %v; want none", got, err)
		}
		return nil
	})
}
