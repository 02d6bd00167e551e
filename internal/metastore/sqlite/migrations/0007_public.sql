-- ECR Public. An account's public repositories are ordinary rows of
-- repositories under the registry ID PublicRegistryOf(account); these tables
-- hold what only public repositories have.

-- One public registry per account. The alias is unique across accounts: it
-- is how a repository URI (<host>/<alias>/<name>) finds the registry, and
-- the UNIQUE constraint is what refuses an alias another account holds.
CREATE TABLE public_registries (
    account      TEXT    NOT NULL PRIMARY KEY,
    alias        TEXT    NOT NULL UNIQUE,
    display_name TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- A public repository's catalog data, deleted with its repository. A rowid
-- table, like images: the logo may be up to 500 KB, and large rows inside a
-- WITHOUT ROWID table's key b-tree would slow every lookup. The logo is the
-- last column so that RepositoryCatalog, which never reads it, stops before
-- the logo's overflow pages.
CREATE TABLE repository_catalogs (
    registry_id       TEXT NOT NULL,
    repo_name         TEXT NOT NULL,
    description       TEXT NOT NULL,
    architectures     TEXT NOT NULL DEFAULT '[]',
    operating_systems TEXT NOT NULL DEFAULT '[]',
    about_text        TEXT NOT NULL,
    usage_text        TEXT NOT NULL,
    -- The logo's sha256 digest as the core computed it, '' without a logo.
    logo_digest       TEXT NOT NULL DEFAULT '',
    -- NULL without a logo.
    logo              BLOB,
    PRIMARY KEY (registry_id, repo_name),
    FOREIGN KEY (registry_id, repo_name)
        REFERENCES repositories (registry_id, name) ON DELETE CASCADE
) STRICT;

-- A repository's policy document, deleted with its repository. A rowid
-- table for the same reason as repository_catalogs: a policy may be 10 KB.
CREATE TABLE repository_policies (
    registry_id TEXT NOT NULL,
    repo_name   TEXT NOT NULL,
    policy      TEXT NOT NULL,
    PRIMARY KEY (registry_id, repo_name),
    FOREIGN KEY (registry_id, repo_name)
        REFERENCES repositories (registry_id, name) ON DELETE CASCADE
) STRICT;
