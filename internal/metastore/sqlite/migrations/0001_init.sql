-- The first schema. Times are integer unix microseconds in UTC; lists are
-- JSON text. Tables are STRICT so that a value of the wrong type is refused
-- rather than silently stored.

CREATE TABLE repositories (
    registry_id           TEXT    NOT NULL,
    name                  TEXT    NOT NULL,
    created_at            INTEGER NOT NULL,
    tag_mutability        TEXT    NOT NULL,
    mutability_exclusions TEXT    NOT NULL DEFAULT '[]',
    scan_on_push          INTEGER NOT NULL,
    encryption_type       TEXT    NOT NULL,
    kms_key               TEXT    NOT NULL,
    tags                  TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (registry_id, name)
) STRICT, WITHOUT ROWID;

-- A layer row per repository, even when the bytes are stored once: layer
-- availability never leaks across repositories.
CREATE TABLE layers (
    registry_id TEXT    NOT NULL,
    repo_name   TEXT    NOT NULL,
    digest      TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    media_type  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (registry_id, repo_name, digest),
    FOREIGN KEY (registry_id, repo_name)
        REFERENCES repositories (registry_id, name) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Blobs outlive the repositories that hold them; garbage collection, not a
-- cascade, removes them.
CREATE TABLE blobs (
    digest     TEXT    NOT NULL PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE uploads (
    id             TEXT    NOT NULL PRIMARY KEY,
    registry_id    TEXT    NOT NULL,
    repo_name      TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    size           INTEGER NOT NULL,
    parts          INTEGER NOT NULL,
    last_part_size INTEGER NOT NULL,
    small_part     INTEGER NOT NULL,
    hash_state     BLOB,
    lease          TEXT    NOT NULL,
    -- NULL while no lease is held.
    lease_at       INTEGER,
    FOREIGN KEY (registry_id, repo_name)
        REFERENCES repositories (registry_id, name) ON DELETE CASCADE
) STRICT;

-- RepositoryUploads and the cascade from repositories look uploads up by
-- repository; StaleUploads scans by age.
CREATE INDEX uploads_repository ON uploads (registry_id, repo_name);
CREATE INDEX uploads_updated_at ON uploads (updated_at, id);
