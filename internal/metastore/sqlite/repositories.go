package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// repositoryColumns lists the columns scanRepository reads, in its order.
const repositoryColumns = `registry_id, name, created_at, tag_mutability,
	mutability_exclusions, scan_on_push, encryption_type, kms_key, tags`

// storedTag is a resource tag as stored in the tags JSON column. It has its
// own JSON names so that renaming a Go field cannot change the stored form.
type storedTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Repository returns the repository, or registry.ErrNotFound.
func (t *tx) Repository(key registry.RepoKey) (registry.Repository, error) {
	row := t.queryRow(`SELECT `+repositoryColumns+` FROM repositories
		WHERE registry_id = ? AND name = ?`, key.Registry, key.Name)
	r, err := scanRepository(row)
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Repository{}, fmt.Errorf("repository %s/%s: %w", key.Registry, key.Name, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Repository{}, fmt.Errorf("repository %s/%s: %w", key.Registry, key.Name, err)
	}
	return r, nil
}

// Repositories returns up to limit repositories of reg named after after.
// Names compare as bytes (SQLite's BINARY collation), the order Go's string
// comparison gives, so a page boundary means the same on every backend.
// A limit of 0 or less returns none.
func (t *tx) Repositories(reg registry.RegistryID, after registry.RepositoryName, limit int) ([]registry.Repository, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := t.query(`SELECT `+repositoryColumns+` FROM repositories
		WHERE registry_id = ? AND name > ? ORDER BY name LIMIT ?`, reg, after, limit)
	if err != nil {
		return nil, fmt.Errorf("repositories of %s: %w", reg, err)
	}
	defer rows.Close()
	var rs []registry.Repository
	for rows.Next() {
		r, err := scanRepository(rows)
		if err != nil {
			return nil, fmt.Errorf("repositories of %s: %w", reg, err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repositories of %s: %w", reg, err)
	}
	return rs, nil
}

// CreateRepository stores r, or returns registry.ErrExists.
func (t *tx) CreateRepository(r registry.Repository) error {
	what := fmt.Sprintf("create repository %s/%s", r.Registry, r.Name)
	exclusions, tagsJSON, err := encodeLists(r)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err = t.exec(`INSERT INTO repositories (`+repositoryColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Registry, r.Name, micros(r.CreatedAt), r.TagMutability,
		exclusions, r.ScanOnPush, r.EncryptionType, r.KMSKey, tagsJSON)
	if err != nil {
		return insertError(err, what)
	}
	return nil
}

// DeleteRepository removes the repository; the foreign keys' ON DELETE
// CASCADE removes its layers and uploads in the same statement.
func (t *tx) DeleteRepository(key registry.RepoKey) error {
	what := fmt.Sprintf("delete repository %s/%s", key.Registry, key.Name)
	// Tags have no foreign key to cascade through (see DeleteImage).
	if _, err := t.exec(`DELETE FROM tags WHERE registry_id = ? AND repo_name = ?`, key.Registry, key.Name); err != nil {
		return fmt.Errorf("%s: tags: %w", what, err)
	}
	res, err := t.exec(`DELETE FROM repositories WHERE registry_id = ? AND name = ?`, key.Registry, key.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(res, what)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanRepository(s scanner) (registry.Repository, error) {
	var (
		r                        registry.Repository
		created                  int64
		exclusionsJSON, tagsJSON string
	)
	err := s.Scan(&r.Registry, &r.Name, &created, &r.TagMutability,
		&exclusionsJSON, &r.ScanOnPush, &r.EncryptionType, &r.KMSKey, &tagsJSON)
	if err != nil {
		return registry.Repository{}, err
	}
	r.CreatedAt = fromMicros(created)
	if err := json.Unmarshal([]byte(exclusionsJSON), &r.MutabilityExclusions); err != nil {
		return registry.Repository{}, fmt.Errorf("mutability_exclusions: %w", err)
	}
	var tags []storedTag
	if err := json.Unmarshal([]byte(tagsJSON), &tags); err != nil {
		return registry.Repository{}, fmt.Errorf("tags: %w", err)
	}
	for _, tag := range tags {
		r.Tags = append(r.Tags, registry.ResourceTag(tag))
	}
	return r, nil
}

// nonNil returns s, or an empty slice for nil, so that it is stored as the
// JSON array "[]" rather than "null".
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// UpdateRepository implements registry.Tx: it replaces every setting of an
// existing repository; CreatedAt and the key stay.
func (t *tx) UpdateRepository(r registry.Repository) error {
	what := fmt.Sprintf("update repository %s/%s", r.Registry, r.Name)
	exclusions, tagsJSON, err := encodeLists(r)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	res, err := t.exec(`UPDATE repositories SET tag_mutability = ?, mutability_exclusions = ?, scan_on_push = ?,
			encryption_type = ?, kms_key = ?, tags = ?
		WHERE registry_id = ? AND name = ?`,
		r.TagMutability, exclusions, r.ScanOnPush, r.EncryptionType, r.KMSKey, tagsJSON, r.Registry, r.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(res, what)
}

// encodeLists renders the repository's list-valued settings as the JSON
// text their columns hold.
func encodeLists(r registry.Repository) (exclusions, tags string, err error) {
	ex, err := json.Marshal(nonNil(r.MutabilityExclusions))
	if err != nil {
		return "", "", err
	}
	stored := make([]storedTag, len(r.Tags))
	for i, tag := range r.Tags {
		stored[i] = storedTag(tag)
	}
	tg, err := json.Marshal(stored)
	return string(ex), string(tg), err
}
