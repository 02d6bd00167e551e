package sqlstore

import (
	"errors"
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// The catalog and policy rows go with their repository through the foreign
// keys' ON DELETE CASCADE, so DeleteRepository needs nothing for them.

// PublicRegistry implements registry.Tx.
func (t *Tx) PublicRegistry(account registry.RegistryID) (registry.PublicRegistry, error) {
	return t.publicRegistry(fmt.Sprintf("public registry of %s", account), `account = $1`, account)
}

// PublicRegistryByAlias implements registry.Tx.
func (t *Tx) PublicRegistryByAlias(alias string) (registry.PublicRegistry, error) {
	return t.publicRegistry(fmt.Sprintf("public registry %q", alias), `alias = $1`, alias)
}

// publicRegistry returns the one public registry that where selects, or
// registry.ErrNotFound.
func (t *Tx) publicRegistry(what, where string, arg any) (registry.PublicRegistry, error) {
	var p registry.PublicRegistry
	err := t.queryRow(`SELECT account, alias, display_name, created_at FROM public_registries WHERE `+where,
		[]any{arg}, &p.Account, &p.Alias, &p.DisplayName, t.time(&p.CreatedAt))
	if errors.Is(err, errNoRow) {
		return registry.PublicRegistry{}, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return registry.PublicRegistry{}, fmt.Errorf("%s: %w", what, err)
	}
	return p, nil
}

// PutPublicRegistry implements registry.Tx. An alias another account holds
// is looked for first, by the alias's unique index, so that refusing it
// does not fail the statement (see the package doc); the unique constraint
// still refuses one a concurrent transaction takes.
func (t *Tx) PutPublicRegistry(p registry.PublicRegistry) error {
	what := fmt.Sprintf("put public registry of %s", p.Account)
	var taken bool
	err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM public_registries WHERE alias = $1 AND account <> $2)`,
		[]any{p.Alias, p.Account}, &taken)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if taken {
		return fmt.Errorf("%s: alias %q: %w", what, p.Alias, registry.ErrExists)
	}
	_, err = t.exec(`INSERT INTO public_registries (account, alias, display_name, created_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (account) DO UPDATE SET
			alias = excluded.alias, display_name = excluded.display_name, created_at = excluded.created_at`,
		p.Account, p.Alias, p.DisplayName, p.CreatedAt)
	if err != nil {
		return t.constraintError(err, what, "")
	}
	return nil
}

// RepositoryCatalog implements registry.Tx. It never reads the logo column
// (which PostgreSQL keeps out of line), so that a listing does not load
// every repository's logo.
func (t *Tx) RepositoryCatalog(key registry.RepoKey) (registry.Catalog, error) {
	what := fmt.Sprintf("catalog of %s/%s", key.Registry, key.Name)
	var c registry.Catalog
	err := t.queryRow(`SELECT description, architectures, operating_systems, about_text, usage_text, logo_digest
		FROM repository_catalogs WHERE registry_id = $1 AND repo_name = $2`, []any{key.Registry, key.Name},
		&c.Description, t.d.Strings(&c.Architectures), t.d.Strings(&c.OperatingSystems),
		&c.AboutText, &c.UsageText, &c.LogoDigest)
	if errors.Is(err, errNoRow) {
		return registry.Catalog{}, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Catalog{}, fmt.Errorf("%s: %w", what, err)
	}
	return c, nil
}

// PutRepositoryCatalog implements registry.Tx: it replaces every column of
// an existing row, so a catalog without a logo removes the stored one. A
// repository that does not exist gives registry.ErrNotFound: the row is
// selected from the repository's.
func (t *Tx) PutRepositoryCatalog(key registry.RepoKey, c registry.Catalog) error {
	what := fmt.Sprintf("put catalog of %s/%s", key.Registry, key.Name)
	// An empty logo is stored as none (NULL), which RepositoryLogo tells
	// apart from a logo: an untyped nil binds as NULL, where an empty
	// []byte might bind as an empty value.
	var logo any
	if len(c.Logo) > 0 {
		logo = c.Logo
	}
	n, err := t.exec(`INSERT INTO repository_catalogs (registry_id, repo_name, description, architectures,
			operating_systems, about_text, usage_text, logo_digest, logo)
		SELECT r.registry_id, r.name, $3, $4, $5, $6, $7, $8, $9
		FROM repositories AS r WHERE r.registry_id = $1 AND r.name = $2
		ON CONFLICT (registry_id, repo_name) DO UPDATE SET
			description = excluded.description, architectures = excluded.architectures,
			operating_systems = excluded.operating_systems, about_text = excluded.about_text,
			usage_text = excluded.usage_text, logo_digest = excluded.logo_digest, logo = excluded.logo`,
		key.Registry, key.Name, c.Description, nonNil(c.Architectures), nonNil(c.OperatingSystems),
		c.AboutText, c.UsageText, c.LogoDigest, logo)
	if err != nil {
		return t.constraintError(err, what, "repository")
	}
	return mustAffect(n, what+": repository")
}

// RepositoryLogo implements registry.Tx.
func (t *Tx) RepositoryLogo(key registry.RepoKey) ([]byte, error) {
	what := fmt.Sprintf("logo of %s/%s", key.Registry, key.Name)
	var logo []byte
	err := t.queryRow(`SELECT logo FROM repository_catalogs
		WHERE registry_id = $1 AND repo_name = $2 AND logo IS NOT NULL`, []any{key.Registry, key.Name}, &logo)
	if errors.Is(err, errNoRow) {
		return nil, fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return logo, nil
}

// RepositoryPolicy implements registry.Tx.
func (t *Tx) RepositoryPolicy(key registry.RepoKey) (string, error) {
	what := fmt.Sprintf("policy of %s/%s", key.Registry, key.Name)
	var text string
	err := t.queryRow(`SELECT policy FROM repository_policies WHERE registry_id = $1 AND repo_name = $2`,
		[]any{key.Registry, key.Name}, &text)
	if errors.Is(err, errNoRow) {
		return "", fmt.Errorf("%s: %w", what, registry.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return text, nil
}

// PutRepositoryPolicy implements registry.Tx. A repository that does not
// exist gives registry.ErrNotFound, as in PutRepositoryCatalog.
func (t *Tx) PutRepositoryPolicy(key registry.RepoKey, text string) error {
	what := fmt.Sprintf("put policy of %s/%s", key.Registry, key.Name)
	n, err := t.exec(`INSERT INTO repository_policies (registry_id, repo_name, policy)
		SELECT r.registry_id, r.name, $3 FROM repositories AS r WHERE r.registry_id = $1 AND r.name = $2
		ON CONFLICT (registry_id, repo_name) DO UPDATE SET policy = excluded.policy`,
		key.Registry, key.Name, text)
	if err != nil {
		return t.constraintError(err, what, "repository")
	}
	return mustAffect(n, what+": repository")
}

// DeleteRepositoryPolicy implements registry.Tx.
func (t *Tx) DeleteRepositoryPolicy(key registry.RepoKey) error {
	what := fmt.Sprintf("delete policy of %s/%s", key.Registry, key.Name)
	n, err := t.exec(`DELETE FROM repository_policies WHERE registry_id = $1 AND repo_name = $2`,
		key.Registry, key.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}
