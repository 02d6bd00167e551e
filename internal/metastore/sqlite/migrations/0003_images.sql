-- Images (manifests) and tags. Times are integer unix microseconds in UTC,
-- NULL where the registry.Image field is optional and zero.

-- A rowid table, unlike the others: a manifest may be megabytes, and SQLite
-- keeps WITHOUT ROWID rows inside the primary key's b-tree, where large rows
-- make every lookup slow. The primary key is still the unique index the
-- child tables' foreign keys need.
CREATE TABLE images (
    registry_id         TEXT    NOT NULL,
    repo_name           TEXT    NOT NULL,
    digest              TEXT    NOT NULL,
    manifest            BLOB    NOT NULL,
    media_type          TEXT    NOT NULL,
    artifact_media_type TEXT    NOT NULL,
    size                INTEGER NOT NULL,
    pushed_at           INTEGER NOT NULL,
    last_pulled_at      INTEGER,
    -- ACTIVE, ARCHIVED or ACTIVATING, as the core wrote it.
    status              TEXT    NOT NULL,
    last_archived_at    INTEGER,
    last_activated_at   INTEGER,
    active_at           INTEGER,
    -- The subject digest, '' without one.
    subject             TEXT    NOT NULL,
    PRIMARY KEY (registry_id, repo_name, digest),
    FOREIGN KEY (registry_id, repo_name)
        REFERENCES repositories (registry_id, name) ON DELETE CASCADE
) STRICT;

-- The config and layers an image manifest refers to, in manifest order.
CREATE TABLE image_blobs (
    registry_id  TEXT    NOT NULL,
    repo_name    TEXT    NOT NULL,
    image_digest TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    blob_digest  TEXT    NOT NULL,
    media_type   TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    PRIMARY KEY (registry_id, repo_name, image_digest, position),
    FOREIGN KEY (registry_id, repo_name, image_digest)
        REFERENCES images (registry_id, repo_name, digest) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- LayerRefs looks images up by the blobs they refer to.
CREATE INDEX image_blobs_blob ON image_blobs (registry_id, repo_name, blob_digest);

-- The manifests an index refers to, in manifest order.
CREATE TABLE image_children (
    registry_id  TEXT    NOT NULL,
    repo_name    TEXT    NOT NULL,
    image_digest TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    child_digest TEXT    NOT NULL,
    PRIMARY KEY (registry_id, repo_name, image_digest, position),
    FOREIGN KEY (registry_id, repo_name, image_digest)
        REFERENCES images (registry_id, repo_name, digest) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Parents looks indexes up by the children they refer to.
CREATE INDEX image_children_child ON image_children (registry_id, repo_name, child_digest);

-- A tag names an image of its own repository; deleting the image (or,
-- through it, the repository) deletes the tag.
CREATE TABLE tags (
    registry_id TEXT NOT NULL,
    repo_name   TEXT NOT NULL,
    tag         TEXT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (registry_id, repo_name, tag),
    FOREIGN KEY (registry_id, repo_name, digest)
        REFERENCES images (registry_id, repo_name, digest) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- ImageTags, UntaggedImages and the cascade from images look tags up by
-- digest.
CREATE INDEX tags_digest ON tags (registry_id, repo_name, digest);
