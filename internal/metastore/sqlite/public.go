package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// The catalog and policy rows go with their repository through the foreign
// keys' ON DELETE CASCADE, so DeleteRepository needs no change for them.

// PublicRegistry implements registry.Tx.
func (t *tx) PublicRegistry(account registry.RegistryID) (registry.PublicRegistry, error) {
	what := fmt.Sprintf("public registry of %s", account)
	return t.publicRegistry(what, `WHERE account = ?`, account)
}

// PublicRegistryByAlias implements registry.Tx.
func (t *tx) PublicRegistryByAlias(alias string) (registry.PublicRegistry, error) {
	what := fmt.Sprintf("public registry %q", alias)
	return t.publicRegistry(what, `WHERE alias = ?`, alias)
}

// publicRegistry returns the one public registry that where selects, or
// registry.ErrNotFound.
func (t *tx) publicRegistry(what, where string, arg any) (registry.PublicRegistry, error) {
	var (
		p       registry.PublicRegistry
		created int64
	)
	err := t.queryRow(`SELECT account, alias, display_name, created_at
		FROM public_registries `+where, arg).Scan(&p.Account, &p.Alias, &p.DisplayName, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return registry.PublicRegistry{}, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return registry.PublicRegistry{}, fmt.Errorf("%s: %w", what, err)
	}
	p.CreatedAt = fromMicros(created)
	return p, nil
}

// PutPublicRegistry implements registry.Tx. The upsert resolves only a
// conflict on the account; an alias another account holds violates the
// UNIQUE constraint, which insertError maps to registry.ErrExists.
func (t *tx) PutPublicRegistry(p registry.PublicRegistry) error {
	what := fmt.Sprintf("put public registry of %s", p.Account)
	_, err := t.exec(`INSERT INTO public_registries (account, alias, display_name, created_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (account) DO UPDATE SET
			alias = excluded.alias, display_name = excluded.display_name, created_at = excluded.created_at`,
		p.Account, p.Alias, p.DisplayName, micros(p.CreatedAt))
	if err != nil {
		return insertError(err, what)
	}
	return nil
}

// RepositoryCatalog implements registry.Tx. It never reads the logo column,
// so that a listing does not load every repository's logo.
func (t *tx) RepositoryCatalog(key registry.RepoKey) (registry.Catalog, error) {
	what := fmt.Sprintf("catalog of %s/%s", key.Registry, key.Name)
	var (
		c                registry.Catalog
		archJSON, osJSON string
	)
	err := t.queryRow(`SELECT description, architectures, operating_systems, about_text, usage_text, logo_digest
		FROM repository_catalogs WHERE registry_id = ? AND repo_name = ?`, key.Registry, key.Name).
		Scan(&c.Description, &archJSON, &osJSON, &c.AboutText, &c.UsageText, &c.LogoDigest)
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Catalog{}, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Catalog{}, fmt.Errorf("%s: %w", what, err)
	}
	if err := json.Unmarshal([]byte(archJSON), &c.Architectures); err != nil {
		return registry.Catalog{}, fmt.Errorf("%s: architectures: %w", what, err)
	}
	if err := json.Unmarshal([]byte(osJSON), &c.OperatingSystems); err != nil {
		return registry.Catalog{}, fmt.Errorf("%s: operating_systems: %w", what, err)
	}
	return c, nil
}

// PutRepositoryCatalog implements registry.Tx: it replaces every column of
// an existing row, so a catalog without a logo removes the stored one. A
// missing repository is registry.ErrNotFound (the foreign key).
func (t *tx) PutRepositoryCatalog(key registry.RepoKey, c registry.Catalog) error {
	what := fmt.Sprintf("put catalog of %s/%s", key.Registry, key.Name)
	arch, err := json.Marshal(nonNil(c.Architectures))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	oss, err := json.Marshal(nonNil(c.OperatingSystems))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// An untyped nil binds as NULL; an empty []byte might bind as an empty
	// BLOB, which RepositoryLogo would take for a logo.
	var logo any
	if len(c.Logo) > 0 {
		logo = c.Logo
	}
	_, err = t.exec(`INSERT INTO repository_catalogs (registry_id, repo_name, description, architectures,
			operating_systems, about_text, usage_text, logo_digest, logo)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (registry_id, repo_name) DO UPDATE SET
			description = excluded.description, architectures = excluded.architectures,
			operating_systems = excluded.operating_systems, about_text = excluded.about_text,
			usage_text = excluded.usage_text, logo_digest = excluded.logo_digest, logo = excluded.logo`,
		key.Registry, key.Name, c.Description, string(arch), string(oss), c.AboutText, c.UsageText,
		c.LogoDigest, logo)
	if err != nil {
		return insertError(err, what)
	}
	return nil
}

// RepositoryLogo implements registry.Tx.
func (t *tx) RepositoryLogo(key registry.RepoKey) ([]byte, error) {
	what := fmt.Sprintf("logo of %s/%s", key.Registry, key.Name)
	var logo []byte
	err := t.queryRow(`SELECT logo FROM repository_catalogs
		WHERE registry_id = ? AND repo_name = ? AND logo IS NOT NULL`, key.Registry, key.Name).Scan(&logo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return logo, nil
}

// RepositoryPolicy implements registry.Tx.
func (t *tx) RepositoryPolicy(key registry.RepoKey) (string, error) {
	what := fmt.Sprintf("policy of %s/%s", key.Registry, key.Name)
	var text string
	err := t.queryRow(`SELECT policy FROM repository_policies WHERE registry_id = ? AND repo_name = ?`,
		key.Registry, key.Name).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return text, nil
}

// PutRepositoryPolicy implements registry.Tx. A missing repository is
// registry.ErrNotFound (the foreign key).
func (t *tx) PutRepositoryPolicy(key registry.RepoKey, text string) error {
	what := fmt.Sprintf("put policy of %s/%s", key.Registry, key.Name)
	_, err := t.exec(`INSERT INTO repository_policies (registry_id, repo_name, policy) VALUES (?, ?, ?)
		ON CONFLICT (registry_id, repo_name) DO UPDATE SET policy = excluded.policy`,
		key.Registry, key.Name, text)
	if err != nil {
		return insertError(err, what)
	}
	return nil
}

// DeleteRepositoryPolicy implements registry.Tx.
func (t *tx) DeleteRepositoryPolicy(key registry.RepoKey) error {
	what := fmt.Sprintf("delete policy of %s/%s", key.Registry, key.Name)
	res, err := t.exec(`DELETE FROM repository_policies WHERE registry_id = ? AND repo_name = ?`,
		key.Registry, key.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(res, what)
}
