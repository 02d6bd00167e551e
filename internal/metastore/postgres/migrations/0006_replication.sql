-- A private registry's replication configuration (its rules, one JSON
-- document), and the replication of each image pushed after it to each
-- destination: what DescribeImageReplicationStatus reports and what the
-- replicator works through, whichever replica it runs in.
CREATE TABLE replication_configs (
    registry_id text COLLATE "C" NOT NULL PRIMARY KEY,
    config      text NOT NULL
);

CREATE TABLE replication_tasks (
    registry_id     text COLLATE "C" NOT NULL,
    repo_name       text COLLATE "C" NOT NULL,
    image_digest    text COLLATE "C" NOT NULL,
    dest_region     text COLLATE "C" NOT NULL,
    dest_registry   text COLLATE "C" NOT NULL,
    status          text NOT NULL,
    failure_code    text NOT NULL,
    attempts        integer NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (registry_id, repo_name, image_digest, dest_region, dest_registry),
    FOREIGN KEY (registry_id, repo_name) REFERENCES repositories (registry_id, name) ON DELETE CASCADE
);
-- The replicator reads the due tasks, oldest first, without a scan.
CREATE INDEX replication_tasks_due ON replication_tasks (status, next_attempt_at);
