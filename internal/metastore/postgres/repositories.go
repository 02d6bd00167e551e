package postgres

import (
	"errors"
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
	"github.com/jackc/pgx/v5"
)

// repositoryColumns lists the columns scanRepository reads, in its order.
const repositoryColumns = `registry_id, name, created_at, tag_mutability,
	mutability_exclusions, scan_on_push, encryption_type, kms_key, tags`

// storedTag is a resource tag as stored in the tags jsonb column. It has
// its own JSON names so that renaming a Go field cannot change the stored
// form.
type storedTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Repository returns the repository, or registry.ErrNotFound.
func (t *tx) Repository(key registry.RepoKey) (registry.Repository, error) {
	what := fmt.Sprintf("repository %s/%s", key.Registry, key.Name)
	rows, err := t.query(`SELECT `+repositoryColumns+` FROM repositories
		WHERE registry_id = $1 AND name = $2`, key.Registry, key.Name)
	if err != nil {
		return registry.Repository{}, fmt.Errorf("%s: %w", what, err)
	}
	rs, err := t.scanRepositories(rows)
	if err != nil {
		return registry.Repository{}, fmt.Errorf("%s: %w", what, err)
	}
	if len(rs) == 0 {
		return registry.Repository{}, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return rs[0], nil
}

// Repositories returns up to limit repositories of reg named after after,
// in byte order (the columns are COLLATE "C"). A limit of 0 or less
// returns none.
func (t *tx) Repositories(reg registry.RegistryID, after registry.RepositoryName, limit int) ([]registry.Repository, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := t.query(`SELECT `+repositoryColumns+` FROM repositories
		WHERE registry_id = $1 AND name > $2 ORDER BY name LIMIT $3`, reg, after, limit)
	if err != nil {
		return nil, fmt.Errorf("repositories of %s: %w", reg, err)
	}
	rs, err := t.scanRepositories(rows)
	if err != nil {
		return nil, fmt.Errorf("repositories of %s: %w", reg, err)
	}
	return rs, nil
}

func (t *tx) scanRepositories(rows pgx.Rows) ([]registry.Repository, error) {
	defer rows.Close()
	var rs []registry.Repository
	for rows.Next() {
		var (
			r    registry.Repository
			tags []storedTag
		)
		err := rows.Scan(&r.Registry, &r.Name, &r.CreatedAt, &r.TagMutability,
			&r.MutabilityExclusions, &r.ScanOnPush, &r.EncryptionType, &r.KMSKey, &tags)
		if err != nil {
			return nil, err
		}
		r.CreatedAt = fromDB(r.CreatedAt)
		for _, tag := range tags {
			r.Tags = append(r.Tags, registry.ResourceTag(tag))
		}
		rs = append(rs, r)
	}
	return rs, t.fail(rows.Err())
}

// CreateRepository stores r, or returns registry.ErrExists.
func (t *tx) CreateRepository(r registry.Repository) error {
	what := fmt.Sprintf("create repository %s/%s", r.Registry, r.Name)
	tag, err := t.exec(`INSERT INTO repositories (`+repositoryColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		r.Registry, r.Name, r.CreatedAt, r.TagMutability,
		nonNil(r.MutabilityExclusions), r.ScanOnPush, r.EncryptionType, r.KMSKey, storedTags(r.Tags))
	if err != nil {
		return constraintError(err, what, "")
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrExists)
	}
	return nil
}

// DeleteRepository removes the repository; the foreign keys' ON DELETE
// CASCADE removes its layers, uploads, images (and through them their
// tags, blob and child rows), catalog and policy in the same statement.
func (t *tx) DeleteRepository(key registry.RepoKey) error {
	what := fmt.Sprintf("delete repository %s/%s", key.Registry, key.Name)
	tag, err := t.exec(`DELETE FROM repositories WHERE registry_id = $1 AND name = $2`, key.Registry, key.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(tag, what)
}

// UpdateRepository implements registry.Tx: it replaces every setting of an
// existing repository; CreatedAt and the key stay.
func (t *tx) UpdateRepository(r registry.Repository) error {
	what := fmt.Sprintf("update repository %s/%s", r.Registry, r.Name)
	tag, err := t.exec(`UPDATE repositories SET tag_mutability = $1, mutability_exclusions = $2,
			scan_on_push = $3, encryption_type = $4, kms_key = $5, tags = $6
		WHERE registry_id = $7 AND name = $8`,
		r.TagMutability, nonNil(r.MutabilityExclusions), r.ScanOnPush, r.EncryptionType, r.KMSKey,
		storedTags(r.Tags), r.Registry, r.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(tag, what)
}

// storedTags returns the resource tags as the tags column stores them,
// never nil (which would be the JSON null).
func storedTags(tags []registry.ResourceTag) []storedTag {
	stored := make([]storedTag, len(tags))
	for i, tag := range tags {
		stored[i] = storedTag(tag)
	}
	return stored
}

// errNoRow reports whether err is pgx's "no row" from a query of one row.
func errNoRow(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
