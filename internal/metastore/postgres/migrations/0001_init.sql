-- The schema of ecrd's PostgreSQL metadata store: the SQLite store's schema
-- as its migrations 0001-0011 left it, in PostgreSQL's own types.
--
-- Times are timestamptz: microseconds, the precision the MetaStore contract
-- keeps, and instants whatever the session's time zone. NULL where the
-- registry field is optional and zero. Lists of strings are text[]; the
-- repository's resource tags, a list of pairs, are jsonb.
--
-- Every key column, and every column a query orders or pages by, is
-- COLLATE "C": names, tags and digests compare as bytes, the order Go's
-- string comparison gives, whatever the database's default collation, so
-- that a page boundary means the same on every backend (and a btree on them
-- needs no locale).
--
-- Each index below serves a statement of the store that would otherwise
-- read a table whole, or every record of a repository; the comment names
-- it. Primary keys lead with (registry_id, repo_name), so a repository's
-- records are one range of them, which the cascades from repositories use.

CREATE TABLE repositories (
    registry_id           text COLLATE "C" NOT NULL,
    name                  text COLLATE "C" NOT NULL,
    created_at            timestamptz NOT NULL,
    tag_mutability        text        NOT NULL,
    mutability_exclusions text[]      NOT NULL DEFAULT '{}',
    scan_on_push          boolean     NOT NULL,
    encryption_type       text        NOT NULL,
    kms_key               text        NOT NULL,
    -- [{"key": …, "value": …}, …] in the order given.
    tags                  jsonb       NOT NULL DEFAULT '[]',
    PRIMARY KEY (registry_id, name)
);

-- A layer row per repository, even when the bytes are stored once: layer
-- availability never leaks across repositories.
CREATE TABLE layers (
    registry_id text COLLATE "C" NOT NULL,
    repo_name   text COLLATE "C" NOT NULL,
    digest      text COLLATE "C" NOT NULL,
    size        bigint      NOT NULL,
    media_type  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    -- When the last image referring to the layer let go of it: garbage
    -- collection counts its grace period from then.
    released_at timestamptz,
    PRIMARY KEY (registry_id, repo_name, digest),
    FOREIGN KEY (registry_id, repo_name)
        REFERENCES repositories (registry_id, name) ON DELETE CASCADE
);
-- MarkGarbageBlobs asks whether any layer, of any repository, names a blob.
CREATE INDEX layers_digest ON layers (digest);

-- Blobs outlive the repositories that hold them; garbage collection, not a
-- cascade, removes them. A blob is pinned while an upload commits it, and
-- marked deleting while a collection deletes its bytes.
CREATE TABLE blobs (
    digest     text COLLATE "C" NOT NULL PRIMARY KEY,
    size       bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    pinned_at  timestamptz,
    deleting   boolean     NOT NULL DEFAULT false
);

CREATE TABLE uploads (
    id             text COLLATE "C" NOT NULL PRIMARY KEY,
    registry_id    text COLLATE "C" NOT NULL,
    repo_name      text COLLATE "C" NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    size           bigint      NOT NULL,
    parts          integer     NOT NULL,
    last_part_size bigint      NOT NULL,
    small_part     boolean     NOT NULL,
    hash_state     bytea,
    lease          text        NOT NULL,
    -- The process holding the lease ('' for none), so that it dies with it.
    lease_holder   text        NOT NULL,
    -- NULL while no lease is held.
    lease_at       timestamptz,
    FOREIGN KEY (registry_id, repo_name)
        REFERENCES repositories (registry_id, name) ON DELETE CASCADE
);
-- RepositoryUploads and the cascade from repositories find uploads by
-- repository; StaleUploads pages by age.
CREATE INDEX uploads_repository ON uploads (registry_id, repo_name);
CREATE INDEX uploads_updated_at ON uploads (updated_at, id);

-- Server secrets shared by every replica over this store, such as the key
-- that signs docker-login tokens.
CREATE TABLE secrets (
    name       text COLLATE "C" NOT NULL PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL
);

-- Named leases: at most one holder at a time across every process over
-- this store (one garbage collection at a time).
CREATE TABLE leases (
    name       text COLLATE "C" NOT NULL PRIMARY KEY,
    holder     text        NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Images (manifests). A manifest may be megabytes: PostgreSQL keeps it out
-- of line (TOAST), so a lookup by key never reads it.
CREATE TABLE images (
    registry_id         text COLLATE "C" NOT NULL,
    repo_name           text COLLATE "C" NOT NULL,
    digest              text COLLATE "C" NOT NULL,
    manifest            bytea       NOT NULL,
    media_type          text        NOT NULL,
    artifact_media_type text        NOT NULL,
    size                bigint      NOT NULL,
    pushed_at           timestamptz NOT NULL,
    last_pulled_at      timestamptz,
    -- ACTIVE, ARCHIVED or ACTIVATING, as the core wrote it.
    status              text COLLATE "C" NOT NULL,
    last_archived_at    timestamptz,
    last_activated_at   timestamptz,
    active_at           timestamptz,
    -- The subject digest, '' without one.
    subject             text COLLATE "C" NOT NULL,
    -- Whether a tag names the image, kept by SetTag and DeleteTag, so that
    -- a page of tagged (or untagged) images reads only what it returns.
    tagged              boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (registry_id, repo_name, digest),
    FOREIGN KEY (registry_id, repo_name)
        REFERENCES repositories (registry_id, name) ON DELETE CASCADE
);
-- Referrers finds images by their subject; most images have none.
CREATE INDEX images_subject ON images (registry_id, repo_name, subject, digest)
    WHERE subject <> '';
-- Images pages filtered by image status, with or without a tag status, in
-- digest order: one range of an index per status, merged by digest.
CREATE INDEX images_status ON images (registry_id, repo_name, status, digest);
CREATE INDEX images_tagged ON images (registry_id, repo_name, tagged, status, digest);

-- The config and layers an image manifest refers to, in manifest order.
-- Each row carries its image's status and restore time (PutImage rewrites
-- them with the image), so that LayerRefs answers "does an image of this
-- status refer to the blob" with one seek of image_blobs_blob, however many
-- images share the blob.
CREATE TABLE image_blobs (
    registry_id     text COLLATE "C" NOT NULL,
    repo_name       text COLLATE "C" NOT NULL,
    image_digest    text COLLATE "C" NOT NULL,
    position        integer     NOT NULL,
    blob_digest     text COLLATE "C" NOT NULL,
    media_type      text        NOT NULL,
    size            bigint      NOT NULL,
    image_status    text COLLATE "C" NOT NULL,
    image_active_at timestamptz,
    PRIMARY KEY (registry_id, repo_name, image_digest, position),
    FOREIGN KEY (registry_id, repo_name, image_digest)
        REFERENCES images (registry_id, repo_name, digest) ON DELETE CASCADE
);
-- LayerRefs, and garbage collection's "does an image refer to this layer".
CREATE INDEX image_blobs_blob ON image_blobs
    (registry_id, repo_name, blob_digest, image_status, image_active_at);

-- The manifests an index refers to, in manifest order.
CREATE TABLE image_children (
    registry_id  text COLLATE "C" NOT NULL,
    repo_name    text COLLATE "C" NOT NULL,
    image_digest text COLLATE "C" NOT NULL,
    position     integer NOT NULL,
    child_digest text COLLATE "C" NOT NULL,
    PRIMARY KEY (registry_id, repo_name, image_digest, position),
    FOREIGN KEY (registry_id, repo_name, image_digest)
        REFERENCES images (registry_id, repo_name, digest) ON DELETE CASCADE
);
-- Parents finds indexes by the children they refer to, in digest order.
CREATE INDEX image_children_child ON image_children (registry_id, repo_name, child_digest, image_digest);

-- A tag names an image of its own repository; deleting the image (or,
-- through it, the repository) deletes the tag. A tag carries its image's
-- status and restore time, kept by SetTag and PutImage, so that
-- TagsWithStatus reads the tags alone, in key order.
CREATE TABLE tags (
    registry_id     text COLLATE "C" NOT NULL,
    repo_name       text COLLATE "C" NOT NULL,
    tag             text COLLATE "C" NOT NULL,
    digest          text COLLATE "C" NOT NULL,
    -- When the tag was set to digest.
    created_at      timestamptz,
    image_status    text COLLATE "C" NOT NULL,
    image_active_at timestamptz,
    PRIMARY KEY (registry_id, repo_name, tag),
    FOREIGN KEY (registry_id, repo_name, digest)
        REFERENCES images (registry_id, repo_name, digest) ON DELETE CASCADE
);
-- ImageTags (in tag order), the status PutImage copies into an image's
-- tags, SetTag's and DeleteTag's tagged flag, and the cascade from images
-- find tags by digest.
CREATE INDEX tags_digest ON tags (registry_id, repo_name, digest, tag);

-- ECR Public. An account's public repositories are ordinary rows of
-- repositories under the registry ID PublicRegistryOf(account); these
-- tables hold what only public repositories have.

-- One public registry per account; the alias is unique across accounts (its
-- index is how PublicRegistryByAlias finds it).
CREATE TABLE public_registries (
    account      text COLLATE "C" NOT NULL PRIMARY KEY,
    alias        text COLLATE "C" NOT NULL UNIQUE,
    display_name text        NOT NULL,
    created_at   timestamptz NOT NULL
);

-- A public repository's catalog data, deleted with its repository.
CREATE TABLE repository_catalogs (
    registry_id       text COLLATE "C" NOT NULL,
    repo_name         text COLLATE "C" NOT NULL,
    description       text   NOT NULL,
    architectures     text[] NOT NULL DEFAULT '{}',
    operating_systems text[] NOT NULL DEFAULT '{}',
    about_text        text   NOT NULL,
    usage_text        text   NOT NULL,
    -- The logo's sha256 digest as the core computed it, '' without a logo.
    logo_digest       text   NOT NULL DEFAULT '',
    -- NULL without a logo.
    logo              bytea,
    PRIMARY KEY (registry_id, repo_name),
    FOREIGN KEY (registry_id, repo_name)
        REFERENCES repositories (registry_id, name) ON DELETE CASCADE
);

-- A repository's policy document, deleted with its repository.
CREATE TABLE repository_policies (
    registry_id text COLLATE "C" NOT NULL,
    repo_name   text COLLATE "C" NOT NULL,
    policy      text NOT NULL,
    PRIMARY KEY (registry_id, repo_name),
    FOREIGN KEY (registry_id, repo_name)
        REFERENCES repositories (registry_id, name) ON DELETE CASCADE
);

-- A private registry's permissions policy, kept as sent. Registries have no
-- row of their own, so the policy is keyed by the registry ID alone.
CREATE TABLE registry_policies (
    registry_id text COLLATE "C" NOT NULL PRIMARY KEY,
    policy      text NOT NULL
);
