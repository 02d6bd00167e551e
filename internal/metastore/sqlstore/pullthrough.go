package sqlstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

const pullThroughColumns = `prefix, upstream_url, upstream_registry, upstream_prefix, credential_arn, custom_role_arn, created_at, updated_at`

// PullThroughRules implements registry.Tx.
func (t *Tx) PullThroughRules(reg registry.RegistryID) ([]registry.PullThroughRule, error) {
	var rules []registry.PullThroughRule
	err := t.each(`SELECT `+pullThroughColumns+` FROM pull_through_rules WHERE registry_id = $1 ORDER BY prefix`,
		[]any{reg}, func(scan func(...any) error) error {
			var r registry.PullThroughRule
			if err := scan(&r.Prefix, &r.UpstreamURL, &r.UpstreamRegistry, &r.UpstreamPrefix, &r.CredentialARN, &r.CustomRoleARN,
				t.time(&r.CreatedAt), t.time(&r.UpdatedAt)); err != nil {
				return err
			}
			rules = append(rules, r)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("pull through cache rules of registry %s: %w", reg, err)
	}
	return rules, nil
}

// CreatePullThroughRule implements registry.Tx.
func (t *Tx) CreatePullThroughRule(reg registry.RegistryID, r registry.PullThroughRule) error {
	what := fmt.Sprintf("create pull through cache rule %q of registry %s", r.Prefix, reg)
	n, err := t.exec(`INSERT INTO pull_through_rules (registry_id, `+pullThroughColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		reg, r.Prefix, r.UpstreamURL, r.UpstreamRegistry, r.UpstreamPrefix, r.CredentialARN, r.CustomRoleARN, r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrExists)
	}
	return nil
}

// UpdatePullThroughRule implements registry.Tx; created_at stays.
func (t *Tx) UpdatePullThroughRule(reg registry.RegistryID, r registry.PullThroughRule) error {
	what := fmt.Sprintf("update pull through cache rule %q of registry %s", r.Prefix, reg)
	n, err := t.exec(`UPDATE pull_through_rules SET upstream_url = $3, upstream_registry = $4, upstream_prefix = $5,
		credential_arn = $6, custom_role_arn = $7, updated_at = $8 WHERE registry_id = $1 AND prefix = $2`,
		reg, r.Prefix, r.UpstreamURL, r.UpstreamRegistry, r.UpstreamPrefix, r.CredentialARN, r.CustomRoleARN, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}

// DeletePullThroughRule implements registry.Tx.
func (t *Tx) DeletePullThroughRule(reg registry.RegistryID, prefix string) error {
	what := fmt.Sprintf("delete pull through cache rule %q of registry %s", prefix, reg)
	n, err := t.exec(`DELETE FROM pull_through_rules WHERE registry_id = $1 AND prefix = $2`, reg, prefix)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}

// PullThroughCheck implements registry.Tx.
func (t *Tx) PullThroughCheck(key registry.RepoKey, tag string) (time.Time, error) {
	var at time.Time
	err := t.queryRow(`SELECT checked_at FROM pull_through_checks WHERE registry_id = $1 AND repo_name = $2 AND tag = $3`,
		[]any{key.Registry, key.Name, tag}, t.time(&at))
	if errors.Is(err, errNoRow) {
		err = registry.ErrNotFound
	}
	if err != nil {
		return at, fmt.Errorf("pull through check of %s/%s:%s: %w", key.Registry, key.Name, tag, err)
	}
	return at, nil
}

// PutPullThroughCheck implements registry.Tx; for a repository that does
// not exist it returns registry.ErrNotFound.
func (t *Tx) PutPullThroughCheck(key registry.RepoKey, tag string, at time.Time) error {
	what := fmt.Sprintf("put pull through check of %s/%s:%s", key.Registry, key.Name, tag)
	n, err := t.exec(`INSERT INTO pull_through_checks (registry_id, repo_name, tag, checked_at)
		SELECT r.registry_id, r.name, $3, $4 FROM repositories AS r WHERE r.registry_id = $1 AND r.name = $2
		ON CONFLICT (registry_id, repo_name, tag) DO UPDATE SET checked_at = excluded.checked_at`,
		key.Registry, key.Name, tag, at)
	if err != nil {
		return t.constraintError(err, what, "repository")
	}
	return mustAffect(n, what+": repository")
}
