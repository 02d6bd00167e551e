-- A private registry's replication configuration (its rules, one JSON
-- document), and the replication of each image pushed after it to each
-- destination: what DescribeImageReplicationStatus reports and what the
-- replicator works through, whichever process it runs in.
CREATE TABLE replication_configs (
    registry_id TEXT NOT NULL PRIMARY KEY,
    config      TEXT NOT NULL
) STRICT;

CREATE TABLE replication_tasks (
    registry_id     TEXT    NOT NULL,
    repo_name       TEXT    NOT NULL,
    image_digest    TEXT    NOT NULL,
    dest_region     TEXT    NOT NULL,
    dest_registry   TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    failure_code    TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (registry_id, repo_name, image_digest, dest_region, dest_registry),
    FOREIGN KEY (registry_id, repo_name) REFERENCES repositories (registry_id, name) ON DELETE CASCADE
) STRICT;
-- The replicator reads the due tasks, oldest first, without a scan.
CREATE INDEX replication_tasks_due ON replication_tasks (status, next_attempt_at);
