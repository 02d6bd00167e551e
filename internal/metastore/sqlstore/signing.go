package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// SigningConfig implements registry.Tx.
func (t *Tx) SigningConfig(reg registry.RegistryID) ([]registry.SigningRule, error) {
	var text string
	err := t.queryRow(`SELECT config FROM signing_configs WHERE registry_id = $1`, []any{reg}, &text)
	if errors.Is(err, errNoRow) {
		err = registry.ErrNotFound
	}
	var rules []registry.SigningRule
	if err == nil {
		err = json.Unmarshal([]byte(text), &rules)
	}
	if err != nil {
		return nil, fmt.Errorf("signing configuration of registry %s: %w", reg, err)
	}
	return rules, nil
}

// PutSigningConfig implements registry.Tx.
func (t *Tx) PutSigningConfig(reg registry.RegistryID, rules []registry.SigningRule) error {
	what := fmt.Sprintf("put signing configuration of registry %s", reg)
	if rules == nil {
		rules = []registry.SigningRule{}
	}
	b, err := json.Marshal(rules)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := t.exec(`INSERT INTO signing_configs (registry_id, config) VALUES ($1, $2)
		ON CONFLICT (registry_id) DO UPDATE SET config = excluded.config`, reg, string(b)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// DeleteSigningConfig implements registry.Tx.
func (t *Tx) DeleteSigningConfig(reg registry.RegistryID) error {
	what := fmt.Sprintf("delete signing configuration of registry %s", reg)
	n, err := t.exec(`DELETE FROM signing_configs WHERE registry_id = $1`, reg)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}

const signingColumns = `registry_id, repo_name, image_digest, profile_arn, status, failure_code, failure_reason, signature, attempts, next_attempt_at, updated_at`

// PutSigningTask implements registry.Tx.
func (t *Tx) PutSigningTask(st registry.SigningTask) error {
	what := fmt.Sprintf("put signing of %s/%s@%s with %s", st.Key.Registry, st.Key.Name, st.Digest, st.ProfileARN)
	n, err := t.exec(`INSERT INTO image_signings (`+signingColumns+`)
		SELECT i.registry_id, i.repo_name, i.digest, $4, $5, $6, $7, $8, $9, $10, $11
		FROM images AS i WHERE i.registry_id = $1 AND i.repo_name = $2 AND i.digest = $3
		ON CONFLICT (registry_id, repo_name, image_digest, profile_arn) DO UPDATE SET status = excluded.status,
		failure_code = excluded.failure_code, failure_reason = excluded.failure_reason, signature = excluded.signature,
		attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at`,
		st.Key.Registry, st.Key.Name, st.Digest, st.ProfileARN, st.Status, st.FailureCode, st.FailureReason, st.Signature,
		st.Attempts, st.NextAttempt, st.UpdatedAt)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what+": image")
}

func (t *Tx) signingTasks(what, query string, args []any) ([]registry.SigningTask, error) {
	var out []registry.SigningTask
	err := t.each(query, args, func(scan func(...any) error) error {
		var st registry.SigningTask
		if err := scan(&st.Key.Registry, &st.Key.Name, &st.Digest, &st.ProfileARN, &st.Status, &st.FailureCode, &st.FailureReason,
			&st.Signature, &st.Attempts, t.time(&st.NextAttempt), t.time(&st.UpdatedAt)); err != nil {
			return err
		}
		out = append(out, st)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// SigningTasks implements registry.Tx.
func (t *Tx) SigningTasks(key registry.RepoKey, d registry.Digest) ([]registry.SigningTask, error) {
	return t.signingTasks(fmt.Sprintf("signings of %s/%s@%s", key.Registry, key.Name, d),
		`SELECT `+signingColumns+` FROM image_signings WHERE registry_id = $1 AND repo_name = $2 AND image_digest = $3
		ORDER BY profile_arn`, []any{key.Registry, key.Name, d})
}

// DueSigningTasks implements registry.Tx.
func (t *Tx) DueSigningTasks(now time.Time, limit int) ([]registry.SigningTask, error) {
	return t.signingTasks("due signings",
		`SELECT `+signingColumns+` FROM image_signings WHERE status = $1 AND next_attempt_at <= $2
		ORDER BY status, next_attempt_at LIMIT $3`, []any{registry.SigningInProgress, now, limit})
}
