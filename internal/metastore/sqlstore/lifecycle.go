package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// LifecyclePolicy implements registry.Tx.
func (t *Tx) LifecyclePolicy(key registry.RepoKey) (registry.LifecyclePolicy, error) {
	var p registry.LifecyclePolicy
	err := t.queryRow(`SELECT policy, evaluated_at FROM lifecycle_policies WHERE registry_id = $1 AND repo_name = $2`,
		[]any{key.Registry, key.Name}, &p.Text, t.time(&p.EvaluatedAt))
	if errors.Is(err, errNoRow) {
		err = registry.ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("lifecycle policy of %s/%s: %w", key.Registry, key.Name, err)
	}
	return p, nil
}

// PutLifecyclePolicy implements registry.Tx; for a repository that does
// not exist it returns registry.ErrNotFound.
func (t *Tx) PutLifecyclePolicy(key registry.RepoKey, p registry.LifecyclePolicy) error {
	what := fmt.Sprintf("put lifecycle policy of %s/%s", key.Registry, key.Name)
	n, err := t.exec(`INSERT INTO lifecycle_policies (registry_id, repo_name, policy, evaluated_at)
		SELECT r.registry_id, r.name, $3, $4 FROM repositories AS r WHERE r.registry_id = $1 AND r.name = $2
		ON CONFLICT (registry_id, repo_name) DO UPDATE SET policy = excluded.policy, evaluated_at = excluded.evaluated_at`,
		key.Registry, key.Name, p.Text, NullTime(p.EvaluatedAt))
	if err != nil {
		return t.constraintError(err, what, "repository")
	}
	return mustAffect(n, what+": repository")
}

// DeleteLifecyclePolicy implements registry.Tx.
func (t *Tx) DeleteLifecyclePolicy(key registry.RepoKey) error {
	what := fmt.Sprintf("delete lifecycle policy of %s/%s", key.Registry, key.Name)
	n, err := t.exec(`DELETE FROM lifecycle_policies WHERE registry_id = $1 AND repo_name = $2`, key.Registry, key.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}

// LifecyclePolicies implements registry.Tx by the primary key's order.
func (t *Tx) LifecyclePolicies(after registry.RepoKey, limit int) ([]registry.RepoKey, error) {
	var keys []registry.RepoKey
	err := t.each(`SELECT registry_id, repo_name FROM lifecycle_policies
		WHERE registry_id > $1 OR (registry_id = $1 AND repo_name > $2)
		ORDER BY registry_id, repo_name LIMIT $3`, []any{after.Registry, after.Name, limit},
		func(scan func(...any) error) error {
			var k registry.RepoKey
			if err := scan(&k.Registry, &k.Name); err != nil {
				return err
			}
			keys = append(keys, k)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("repositories with lifecycle policies: %w", err)
	}
	return keys, nil
}

// LifecyclePreview implements registry.Tx.
func (t *Tx) LifecyclePreview(key registry.RepoKey) (registry.LifecyclePreview, error) {
	var p registry.LifecyclePreview
	err := t.queryRow(`SELECT status, policy, holder, started_at, done_at, failure, expiring, transitioning
		FROM lifecycle_previews WHERE registry_id = $1 AND repo_name = $2`, []any{key.Registry, key.Name},
		&p.Status, &p.Text, &p.Holder, t.time(&p.StartedAt), t.time(&p.DoneAt), &p.Failure, &p.Expiring, &p.Transitioning)
	if errors.Is(err, errNoRow) {
		err = registry.ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("lifecycle preview of %s/%s: %w", key.Registry, key.Name, err)
	}
	return p, nil
}

// PutLifecyclePreview implements registry.Tx; for a repository that does
// not exist it returns registry.ErrNotFound.
func (t *Tx) PutLifecyclePreview(key registry.RepoKey, p registry.LifecyclePreview) error {
	what := fmt.Sprintf("put lifecycle preview of %s/%s", key.Registry, key.Name)
	n, err := t.exec(`INSERT INTO lifecycle_previews (registry_id, repo_name, status, policy, holder, started_at, done_at, failure, expiring, transitioning)
		SELECT r.registry_id, r.name, $3, $4, $5, $6, $7, $8, $9, $10 FROM repositories AS r WHERE r.registry_id = $1 AND r.name = $2
		ON CONFLICT (registry_id, repo_name) DO UPDATE SET status = excluded.status, policy = excluded.policy,
			holder = excluded.holder, started_at = excluded.started_at, done_at = excluded.done_at,
			failure = excluded.failure, expiring = excluded.expiring, transitioning = excluded.transitioning`,
		key.Registry, key.Name, p.Status, p.Text, p.Holder, p.StartedAt, NullTime(p.DoneAt), p.Failure, p.Expiring, p.Transitioning)
	if err != nil {
		return t.constraintError(err, what, "repository")
	}
	return mustAffect(n, what+": repository")
}

// AddLifecyclePreviewResults implements registry.Tx, a statement a
// result: a preview writes its results a page at a time.
func (t *Tx) AddLifecyclePreviewResults(key registry.RepoKey, results []registry.PreviewResult) error {
	for _, r := range results {
		what := fmt.Sprintf("add lifecycle preview result %s of %s/%s", r.Digest, key.Registry, key.Name)
		tags, err := json.Marshal(nonNil(r.Tags))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		tagged := 0
		if len(r.Tags) > 0 {
			tagged = 1
		}
		n, err := t.exec(`INSERT INTO lifecycle_preview_results (registry_id, repo_name, image_digest, tags, tagged, pushed_at, action, rule_priority, storage_class)
			SELECT r.registry_id, r.name, $3, $4, $5, $6, $7, $8, $9 FROM repositories AS r WHERE r.registry_id = $1 AND r.name = $2
			ON CONFLICT (registry_id, repo_name, image_digest) DO UPDATE SET tags = excluded.tags, tagged = excluded.tagged,
				pushed_at = excluded.pushed_at, action = excluded.action, rule_priority = excluded.rule_priority,
				storage_class = excluded.storage_class`,
			key.Registry, key.Name, r.Digest, string(tags), tagged, r.PushedAt, r.Action, r.Rule, r.StorageClass)
		if err != nil {
			return t.constraintError(err, what, "repository")
		}
		if err := mustAffect(n, what+": repository"); err != nil {
			return err
		}
	}
	return nil
}

// DeleteLifecyclePreviewResults implements registry.Tx.
func (t *Tx) DeleteLifecyclePreviewResults(key registry.RepoKey) error {
	if _, err := t.exec(`DELETE FROM lifecycle_preview_results WHERE registry_id = $1 AND repo_name = $2`, key.Registry, key.Name); err != nil {
		return fmt.Errorf("delete lifecycle preview results of %s/%s: %w", key.Registry, key.Name, err)
	}
	return nil
}

// LifecyclePreviewResults implements registry.Tx: a seek of the primary
// key (or, filtered by tag status, of lifecycle_preview_results_tagged)
// per page, or one per digest asked for.
func (t *Tx) LifecyclePreviewResults(key registry.RepoKey, q registry.PreviewQuery) ([]registry.PreviewResult, error) {
	what := fmt.Sprintf("lifecycle preview results of %s/%s", key.Registry, key.Name)
	const cols = `SELECT image_digest, tags, pushed_at, action, rule_priority, storage_class FROM lifecycle_preview_results
		WHERE registry_id = $1 AND repo_name = $2 `
	var out []registry.PreviewResult
	scan := func(scan func(...any) error) error {
		var r registry.PreviewResult
		var tags string
		if err := scan(&r.Digest, &tags, t.time(&r.PushedAt), &r.Action, &r.Rule, &r.StorageClass); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(tags), &r.Tags); err != nil {
			return fmt.Errorf("tags of %s: %w", r.Digest, err)
		}
		if len(r.Tags) == 0 {
			r.Tags = nil
		}
		out = append(out, r)
		return nil
	}
	if q.Limit <= 0 {
		return nil, nil
	}
	if q.Digests != nil {
		for _, d := range q.Digests {
			if len(out) == q.Limit {
				break
			}
			if err := t.each(cols+`AND image_digest = $3`, []any{key.Registry, key.Name, d}, scan); err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
		}
		return out, nil
	}
	var err error
	if q.Tagged == nil {
		err = t.each(cols+`AND image_digest > $3 ORDER BY image_digest LIMIT $4`, []any{key.Registry, key.Name, q.After, q.Limit}, scan)
	} else {
		tagged := 0
		if *q.Tagged {
			tagged = 1
		}
		err = t.each(cols+`AND tagged = $3 AND image_digest > $4 ORDER BY image_digest LIMIT $5`, []any{key.Registry, key.Name, tagged, q.After, q.Limit}, scan)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
