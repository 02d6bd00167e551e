-- Garbage collection: a blob is pinned while an upload commits it, and
-- marked while a collection deletes its bytes.
ALTER TABLE blobs ADD COLUMN pinned_at INTEGER;
ALTER TABLE blobs ADD COLUMN deleting INTEGER NOT NULL DEFAULT 0;
-- Which layers name a blob, across repositories.
CREATE INDEX layers_by_digest ON layers (digest);
