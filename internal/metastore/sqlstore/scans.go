package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// ScanningConfig implements registry.Tx: the configuration is one JSON
// document.
func (t *Tx) ScanningConfig(reg registry.RegistryID) (registry.ScanningConfig, error) {
	var text string
	var c registry.ScanningConfig
	err := t.queryRow(`SELECT config FROM scanning_configs WHERE registry_id = $1`, []any{reg}, &text)
	if errors.Is(err, errNoRow) {
		return c, nil
	}
	if err == nil {
		err = json.Unmarshal([]byte(text), &c)
	}
	if err != nil {
		return c, fmt.Errorf("scanning configuration of registry %s: %w", reg, err)
	}
	return c, nil
}

// PutScanningConfig implements registry.Tx.
func (t *Tx) PutScanningConfig(reg registry.RegistryID, c registry.ScanningConfig) error {
	what := fmt.Sprintf("put scanning configuration of registry %s", reg)
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := t.exec(`INSERT INTO scanning_configs (registry_id, config) VALUES ($1, $2)
		ON CONFLICT (registry_id) DO UPDATE SET config = excluded.config`, reg, string(b)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

const imageScanColumns = `registry_id, repo_name, image_digest, status, description, enhanced, continuous, pending, requested_at,
	completed_at, source_updated_at, source_version, counts, attempts, next_attempt_at, updated_at`

func (t *Tx) imageScans(what, query string, args []any) ([]registry.ImageScan, error) {
	var out []registry.ImageScan
	err := t.each(query, args, func(scan func(...any) error) error {
		var s registry.ImageScan
		var counts string
		if err := scan(&s.Key.Registry, &s.Key.Name, &s.Digest, &s.Status, &s.Description, &s.Enhanced, &s.Continuous, &s.Pending,
			t.time(&s.RequestedAt), t.time(&s.CompletedAt), t.time(&s.SourceUpdatedAt), &s.SourceVersion, &counts, &s.Attempts,
			t.time(&s.NextAttempt), t.time(&s.UpdatedAt)); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(counts), &s.Counts); err != nil {
			return fmt.Errorf("severity counts: %w", err)
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// ImageScan implements registry.Tx.
func (t *Tx) ImageScan(key registry.RepoKey, d registry.Digest) (registry.ImageScan, error) {
	what := fmt.Sprintf("scan of %s/%s@%s", key.Registry, key.Name, d)
	scans, err := t.imageScans(what, `SELECT `+imageScanColumns+` FROM image_scans
		WHERE registry_id = $1 AND repo_name = $2 AND image_digest = $3`, []any{key.Registry, key.Name, d})
	if err != nil {
		return registry.ImageScan{}, err
	}
	if len(scans) == 0 {
		return registry.ImageScan{}, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return scans[0], nil
}

// ImageScanFindings implements registry.Tx.
func (t *Tx) ImageScanFindings(key registry.RepoKey, d registry.Digest) ([]registry.Finding, error) {
	what := fmt.Sprintf("findings of the scan of %s/%s@%s", key.Registry, key.Name, d)
	var text string
	err := t.queryRow(`SELECT findings FROM image_scans WHERE registry_id = $1 AND repo_name = $2 AND image_digest = $3`,
		[]any{key.Registry, key.Name, d}, &text)
	if errors.Is(err, errNoRow) {
		return nil, nil
	}
	var out []registry.Finding
	if err == nil {
		err = json.Unmarshal([]byte(text), &out)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// PutImageScan implements registry.Tx: nil findings keep those stored.
func (t *Tx) PutImageScan(s registry.ImageScan, findings []registry.Finding) error {
	what := fmt.Sprintf("put scan of %s/%s@%s", s.Key.Registry, s.Key.Name, s.Digest)
	counts, err := json.Marshal(s.Counts)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	keep := findings == nil
	text := []byte("[]")
	if !keep {
		if text, err = json.Marshal(findings); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	n, err := t.exec(`INSERT INTO image_scans (`+imageScanColumns+`, findings)
		SELECT i.registry_id, i.repo_name, i.digest, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17
		FROM images AS i WHERE i.registry_id = $1 AND i.repo_name = $2 AND i.digest = $3
		ON CONFLICT (registry_id, repo_name, image_digest) DO UPDATE SET status = excluded.status, description = excluded.description,
		enhanced = excluded.enhanced, continuous = excluded.continuous, pending = excluded.pending, requested_at = excluded.requested_at,
		completed_at = excluded.completed_at, source_updated_at = excluded.source_updated_at, source_version = excluded.source_version,
		counts = excluded.counts, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at,
		findings = CASE WHEN $18 THEN image_scans.findings ELSE excluded.findings END`,
		s.Key.Registry, s.Key.Name, s.Digest, s.Status, s.Description, s.Enhanced, s.Continuous, s.Pending, NullTime(s.RequestedAt),
		NullTime(s.CompletedAt), NullTime(s.SourceUpdatedAt), s.SourceVersion, string(counts), s.Attempts, s.NextAttempt, s.UpdatedAt,
		string(text), keep)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what+": image")
}

// DueImageScans implements registry.Tx: the pending scans and the
// continuous ones, each read in due order from its own index, merged.
func (t *Tx) DueImageScans(now time.Time, version string, limit int) ([]registry.ImageScan, error) {
	pending, err := t.imageScans("due scans", `SELECT `+imageScanColumns+` FROM image_scans
		WHERE pending = TRUE AND next_attempt_at <= $1 ORDER BY pending, next_attempt_at LIMIT $2`, []any{now, limit})
	if err != nil {
		return nil, err
	}
	stale, err := t.imageScans("due continuous scans", `SELECT `+imageScanColumns+` FROM image_scans
		WHERE continuous = TRUE AND next_attempt_at <= $1 AND pending = FALSE AND source_version <> $2
		ORDER BY continuous, next_attempt_at LIMIT $3`, []any{now, version, limit})
	if err != nil {
		return nil, err
	}
	out := append(pending, stale...)
	slices.SortStableFunc(out, func(a, b registry.ImageScan) int { return a.NextAttempt.Compare(b.NextAttempt) })
	return out[:min(len(out), limit)], nil
}
