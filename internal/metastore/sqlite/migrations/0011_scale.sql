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

-- Tags lose their foreign key to images. Deleting an image cascaded into
-- its tags through it, and SQLite's cascade picks its index by the
-- planner's statistics: without them it took the primary key (repository,
-- tag), two of the three columns, and read every tag of the repository to
-- delete one image's. The store now deletes an image's tags itself, by
-- tags_digest named in the statement, and refuses a tag of an image it
-- does not hold in SetTag; the plan test sees both statements. A tag also
-- carries its image's status and restore time, as image_blobs does, kept
-- by SetTag and PutImage: ListImages filters a page of tags by status
-- reading the tags alone, in key order, instead of looking up each image.
CREATE TABLE tags_new (
    registry_id     TEXT    NOT NULL,
    repo_name       TEXT    NOT NULL,
    tag             TEXT    NOT NULL,
    digest          TEXT    NOT NULL,
    created_at      INTEGER,
    image_status    TEXT    NOT NULL,
    image_active_at INTEGER,
    PRIMARY KEY (registry_id, repo_name, tag)
) STRICT, WITHOUT ROWID;
INSERT INTO tags_new (registry_id, repo_name, tag, digest, created_at, image_status, image_active_at)
    SELECT t.registry_id, t.repo_name, t.tag, t.digest, t.created_at, i.status, i.active_at
    FROM tags t JOIN images i ON i.registry_id = t.registry_id AND i.repo_name = t.repo_name AND i.digest = t.digest;
DROP TABLE tags;
ALTER TABLE tags_new RENAME TO tags;
CREATE INDEX tags_digest ON tags (registry_id, repo_name, digest);
