package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// ReplicationConfig implements registry.Tx: the rules are one JSON
// document, read and written whole.
func (t *Tx) ReplicationConfig(reg registry.RegistryID) ([]registry.ReplicationRule, error) {
	var text string
	err := t.queryRow(`SELECT config FROM replication_configs WHERE registry_id = $1`, []any{reg}, &text)
	if errors.Is(err, errNoRow) {
		return nil, nil
	}
	var rules []registry.ReplicationRule
	if err == nil {
		err = json.Unmarshal([]byte(text), &rules)
	}
	if err != nil {
		return nil, fmt.Errorf("replication configuration of registry %s: %w", reg, err)
	}
	return rules, nil
}

// PutReplicationConfig implements registry.Tx.
func (t *Tx) PutReplicationConfig(reg registry.RegistryID, rules []registry.ReplicationRule) error {
	what := fmt.Sprintf("put replication configuration of registry %s", reg)
	if len(rules) == 0 {
		if _, err := t.exec(`DELETE FROM replication_configs WHERE registry_id = $1`, reg); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	b, err := json.Marshal(rules)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := t.exec(`INSERT INTO replication_configs (registry_id, config) VALUES ($1, $2)
		ON CONFLICT (registry_id) DO UPDATE SET config = excluded.config`, reg, string(b)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

const replicationTaskColumns = `registry_id, repo_name, image_digest, dest_region, dest_registry, status, failure_code, attempts, next_attempt_at, updated_at`

// PutReplicationTask implements registry.Tx; for a repository that does
// not exist it returns registry.ErrNotFound.
func (t *Tx) PutReplicationTask(rt registry.ReplicationTask) error {
	what := fmt.Sprintf("put replication of %s/%s@%s to %s/%s", rt.Source.Registry, rt.Source.Name, rt.Digest, rt.Destination.Region, rt.Destination.Registry)
	n, err := t.exec(`INSERT INTO replication_tasks (`+replicationTaskColumns+`)
		SELECT r.registry_id, r.name, $3, $4, $5, $6, $7, $8, $9, $10 FROM repositories AS r WHERE r.registry_id = $1 AND r.name = $2
		ON CONFLICT (registry_id, repo_name, image_digest, dest_region, dest_registry) DO UPDATE SET status = excluded.status,
		failure_code = excluded.failure_code, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at`,
		rt.Source.Registry, rt.Source.Name, rt.Digest, rt.Destination.Region, rt.Destination.Registry, rt.Status, rt.FailureCode, rt.Attempts,
		rt.NextAttempt, rt.UpdatedAt)
	if err != nil {
		return t.constraintError(err, what, "repository")
	}
	return mustAffect(n, what+": repository")
}

func (t *Tx) replicationTasks(what, query string, args []any) ([]registry.ReplicationTask, error) {
	var out []registry.ReplicationTask
	err := t.each(query, args, func(scan func(...any) error) error {
		var rt registry.ReplicationTask
		if err := scan(&rt.Source.Registry, &rt.Source.Name, &rt.Digest, &rt.Destination.Region, &rt.Destination.Registry, &rt.Status,
			&rt.FailureCode, &rt.Attempts, t.time(&rt.NextAttempt), t.time(&rt.UpdatedAt)); err != nil {
			return err
		}
		out = append(out, rt)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// ReplicationTasks implements registry.Tx.
func (t *Tx) ReplicationTasks(key registry.RepoKey, digest registry.Digest) ([]registry.ReplicationTask, error) {
	return t.replicationTasks(fmt.Sprintf("replication of %s/%s@%s", key.Registry, key.Name, digest),
		`SELECT `+replicationTaskColumns+` FROM replication_tasks WHERE registry_id = $1 AND repo_name = $2 AND image_digest = $3
		ORDER BY dest_region, dest_registry`, []any{key.Registry, key.Name, digest})
}

// DueReplicationTasks implements registry.Tx.
func (t *Tx) DueReplicationTasks(now time.Time, limit int) ([]registry.ReplicationTask, error) {
	return t.replicationTasks("due replications",
		`SELECT `+replicationTaskColumns+` FROM replication_tasks WHERE status = $1 AND next_attempt_at <= $2
		ORDER BY next_attempt_at LIMIT $3`, []any{registry.ReplicationInProgress, now, limit})
}
