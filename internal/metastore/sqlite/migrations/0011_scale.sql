-- Indexes that make every per-call and per-page query cost what it
-- returns, not what the repository holds (see the query-plan test).

-- Layer availability asks whether an image of each status refers to a
-- blob, never how many: image_blobs carries its image's status and restore
-- time, so that one seek into image_blobs_blob answers each question
-- however many images share the blob. PutImage writes them with the image
-- (a status change is a PutImage, which rewrites the rows).
ALTER TABLE image_blobs ADD COLUMN image_status TEXT NOT NULL DEFAULT 'ACTIVE';
ALTER TABLE image_blobs ADD COLUMN image_active_at INTEGER;
UPDATE image_blobs SET
    image_status = (SELECT i.status FROM images i WHERE i.registry_id = image_blobs.registry_id
        AND i.repo_name = image_blobs.repo_name AND i.digest = image_blobs.image_digest),
    image_active_at = (SELECT i.active_at FROM images i WHERE i.registry_id = image_blobs.registry_id
        AND i.repo_name = image_blobs.repo_name AND i.digest = image_blobs.image_digest);
DROP INDEX image_blobs_blob;
CREATE INDEX image_blobs_blob ON image_blobs
    (registry_id, repo_name, blob_digest, image_status, image_active_at);

-- Referrers are found by their subject; most images have none.
CREATE INDEX images_subject ON images (registry_id, repo_name, subject, digest)
    WHERE subject <> '';

-- Whether a tag names the image, kept by SetTag and DeleteTag, so that a
-- page of untagged (or tagged) images reads only the images it returns.
ALTER TABLE images ADD COLUMN tagged INTEGER NOT NULL DEFAULT 0;
UPDATE images SET tagged = EXISTS (SELECT 1 FROM tags t WHERE t.registry_id = images.registry_id
    AND t.repo_name = images.repo_name AND t.digest = images.digest);

-- Pages filtered by image status, with or without a tag status, in digest
-- order.
CREATE INDEX images_status ON images (registry_id, repo_name, status, digest);
CREATE INDEX images_tagged ON images (registry_id, repo_name, tagged, status, digest);

-- Tags are keyed by their image first. Deleting an image cascades into
-- its tags through the foreign key, and SQLite's cascade picks its index
-- by the planner's statistics: without them it took the old primary key
-- (repository, tag), two of the three columns, and read every tag of the
-- repository to delete an image's. With the image's digest leading the
-- key, the cascade's best index is the key itself, whatever the
-- statistics; looking a tag up by name uses the unique index.
CREATE TABLE tags_by_image (
    registry_id TEXT NOT NULL,
    repo_name   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    tag         TEXT NOT NULL,
    created_at  INTEGER,
    PRIMARY KEY (registry_id, repo_name, digest, tag),
    FOREIGN KEY (registry_id, repo_name, digest)
        REFERENCES images (registry_id, repo_name, digest) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
INSERT INTO tags_by_image (registry_id, repo_name, digest, tag, created_at)
    SELECT registry_id, repo_name, digest, tag, created_at FROM tags;
DROP TABLE tags;
ALTER TABLE tags_by_image RENAME TO tags;
CREATE UNIQUE INDEX tags_name ON tags (registry_id, repo_name, tag);
