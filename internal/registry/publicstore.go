package registry

import "time"

// PublicRegistry is an account's ECR Public registry: one per account, kept
// apart from its private registry (its repositories live under the
// RegistryID PublicRegistryOf(Account)), reachable by its alias.
type PublicRegistry struct {
	Account RegistryID
	// Alias names the registry in repository URIs (<host>/<alias>/<name>);
	// unique across accounts.
	Alias string
	// DisplayName is the registry's catalog data ("" until set).
	DisplayName string
	CreatedAt   time.Time
}

// ID is the registry ID its repositories are stored under.
func (p PublicRegistry) ID() RegistryID { return PublicRegistryOf(p.Account) }

// Catalog is a public repository's catalog data, as the ECR Public Gallery
// shows it.
type Catalog struct {
	Description      string
	Architectures    []string
	OperatingSystems []string
	AboutText        string
	UsageText        string
	// Logo is the logo image; set when storing, nil when read back (the
	// bytes are fetched apart with RepositoryLogo). LogoDigest is its
	// sha256 digest, "" without a logo.
	Logo       []byte
	LogoDigest Digest
}

// PublicTx is the part of a transaction that keeps ECR Public's records.
// The repository records (catalog, logo, policy) go with their repository:
// DeleteRepository removes them.
type PublicTx interface {
	// PublicRegistry returns the account's public registry, or ErrNotFound.
	PublicRegistry(account RegistryID) (PublicRegistry, error)
	// PublicRegistryByAlias returns the public registry with the alias, or
	// ErrNotFound.
	PublicRegistryByAlias(alias string) (PublicRegistry, error)
	// PutPublicRegistry creates or replaces the account's public registry;
	// ErrExists when another account's registry has the alias.
	PutPublicRegistry(p PublicRegistry) error

	// RepositoryCatalog returns the repository's catalog data without the
	// logo bytes, or ErrNotFound when none was ever put.
	RepositoryCatalog(key RepoKey) (Catalog, error)
	// PutRepositoryCatalog creates or replaces the repository's catalog
	// data, logo included (no logo removes a stored one).
	PutRepositoryCatalog(key RepoKey, c Catalog) error
	// RepositoryLogo returns the logo bytes, or ErrNotFound when the
	// repository has no catalog data or no logo.
	RepositoryLogo(key RepoKey) ([]byte, error)

	// RepositoryPolicy returns the repository's policy text, or ErrNotFound.
	RepositoryPolicy(key RepoKey) (string, error)
	// PutRepositoryPolicy creates or replaces the repository's policy.
	PutRepositoryPolicy(key RepoKey, text string) error
	// DeleteRepositoryPolicy removes the repository's policy, or returns
	// ErrNotFound.
	DeleteRepositoryPolicy(key RepoKey) error
}
