package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// repositoryColumns lists the columns scanRepositories reads, in its order.
const repositoryColumns = `registry_id, name, created_at, tag_mutability,
	mutability_exclusions, scan_on_push, encryption_type, kms_key, tags`

// storedTag is a resource tag as stored in the tags column (jsonb, or
// SQLite's JSON text). It has its own JSON names so that renaming a Go
// field cannot change the stored form.
type storedTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Repository returns the repository, or registry.ErrNotFound.
func (t *Tx) Repository(key registry.RepoKey) (registry.Repository, error) {
	what := fmt.Sprintf("repository %s/%s", key.Registry, key.Name)
	rs, err := t.scanRepositories(`SELECT `+repositoryColumns+` FROM repositories
		WHERE registry_id = $1 AND name = $2`, key.Registry, key.Name)
	if err != nil {
		return registry.Repository{}, fmt.Errorf("%s: %w", what, err)
	}
	if len(rs) == 0 {
		return registry.Repository{}, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	return rs[0], nil
}

// Repositories returns up to limit repositories of reg named after after.
// Names compare as bytes (COLLATE "C", SQLite's BINARY), the order Go's
// string comparison gives, so a page boundary means the same on every
// backend. A limit of 0 or less returns none.
func (t *Tx) Repositories(reg registry.RegistryID, after registry.RepositoryName, limit int) ([]registry.Repository, error) {
	if limit <= 0 {
		return nil, nil
	}
	rs, err := t.scanRepositories(`SELECT `+repositoryColumns+` FROM repositories
		WHERE registry_id = $1 AND name > $2 ORDER BY name LIMIT $3`, reg, after, limit)
	if err != nil {
		return nil, fmt.Errorf("repositories of %s: %w", reg, err)
	}
	return rs, nil
}

func (t *Tx) scanRepositories(query string, args ...any) ([]registry.Repository, error) {
	var rs []registry.Repository
	err := t.each(query, args, func(scan func(...any) error) error {
		var (
			r        registry.Repository
			tagsJSON []byte
		)
		err := scan(&r.Registry, &r.Name, t.time(&r.CreatedAt), &r.TagMutability,
			t.d.Strings(&r.MutabilityExclusions), &r.ScanOnPush, &r.EncryptionType, &r.KMSKey, &tagsJSON)
		if err != nil {
			return err
		}
		if err := decodeTags(tagsJSON, &r.Tags); err != nil {
			return err
		}
		rs = append(rs, r)
		return nil
	})
	return rs, err
}

// decodeTags decodes the tags column.
func decodeTags(tagsJSON []byte, dst *[]registry.ResourceTag) error {
	var tags []storedTag
	if err := json.Unmarshal(tagsJSON, &tags); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	for _, tag := range tags {
		*dst = append(*dst, registry.ResourceTag(tag))
	}
	return nil
}

// CreateRepository stores r, or returns registry.ErrExists.
func (t *Tx) CreateRepository(r registry.Repository) error {
	what := fmt.Sprintf("create repository %s/%s", r.Registry, r.Name)
	tags, err := tagsJSON(r.Tags)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := t.exec(`INSERT INTO repositories (`+repositoryColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		r.Registry, r.Name, r.CreatedAt, r.TagMutability,
		nonNil(r.MutabilityExclusions), r.ScanOnPush, r.EncryptionType, r.KMSKey, tags)
	if err != nil {
		return t.constraintError(err, what, "")
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrExists)
	}
	return nil
}

// DeleteRepository removes the repository; the foreign keys' ON DELETE
// CASCADE removes its layers, uploads, images (and through them their
// blob and child rows), catalog and policy in the same statement, and its
// tags too where the schema cascades into them.
func (t *Tx) DeleteRepository(key registry.RepoKey) error {
	what := fmt.Sprintf("delete repository %s/%s", key.Registry, key.Name)
	if q := t.d.DeleteRepositoryTags; q != "" {
		if _, err := t.exec(q, key.Registry, key.Name); err != nil {
			return fmt.Errorf("%s: tags: %w", what, err)
		}
	}
	n, err := t.exec(`DELETE FROM repositories WHERE registry_id = $1 AND name = $2`, key.Registry, key.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}

// UpdateRepository implements registry.Tx: it replaces every setting of an
// existing repository; CreatedAt and the key stay.
func (t *Tx) UpdateRepository(r registry.Repository) error {
	what := fmt.Sprintf("update repository %s/%s", r.Registry, r.Name)
	tags, err := tagsJSON(r.Tags)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := t.exec(`UPDATE repositories SET tag_mutability = $1, mutability_exclusions = $2,
			scan_on_push = $3, encryption_type = $4, kms_key = $5, tags = $6
		WHERE registry_id = $7 AND name = $8`,
		r.TagMutability, nonNil(r.MutabilityExclusions), r.ScanOnPush, r.EncryptionType, r.KMSKey,
		tags, r.Registry, r.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}

// tagsJSON returns the resource tags as the JSON text the tags column
// stores, never null.
func tagsJSON(tags []registry.ResourceTag) (string, error) {
	stored := make([]storedTag, len(tags))
	for i, tag := range tags {
		stored[i] = storedTag(tag)
	}
	b, err := json.Marshal(stored)
	return string(b), err
}

// nonNil returns s, or an empty slice for nil, so that a list column
// stores an empty list rather than NULL or the JSON null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
