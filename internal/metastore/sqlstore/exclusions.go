package sqlstore

import (
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// PullTimeExclusions implements registry.Tx.
func (t *Tx) PullTimeExclusions(reg registry.RegistryID) ([]registry.PullTimeExclusion, error) {
	var out []registry.PullTimeExclusion
	err := t.each(`SELECT principal_arn, created_at FROM pull_time_exclusions WHERE registry_id = $1 ORDER BY principal_arn`,
		[]any{reg}, func(scan func(...any) error) error {
			var e registry.PullTimeExclusion
			if err := scan(&e.PrincipalARN, t.time(&e.CreatedAt)); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("pull time update exclusions of registry %s: %w", reg, err)
	}
	return out, nil
}

// CreatePullTimeExclusion implements registry.Tx.
func (t *Tx) CreatePullTimeExclusion(reg registry.RegistryID, e registry.PullTimeExclusion) error {
	what := fmt.Sprintf("create pull time update exclusion %s of registry %s", e.PrincipalARN, reg)
	n, err := t.exec(`INSERT INTO pull_time_exclusions (registry_id, principal_arn, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		reg, e.PrincipalARN, e.CreatedAt)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrExists)
	}
	return nil
}

// DeletePullTimeExclusion implements registry.Tx.
func (t *Tx) DeletePullTimeExclusion(reg registry.RegistryID, arn string) error {
	what := fmt.Sprintf("delete pull time update exclusion %s of registry %s", arn, reg)
	n, err := t.exec(`DELETE FROM pull_time_exclusions WHERE registry_id = $1 AND principal_arn = $2`, reg, arn)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}
