-- A private registry's scanning configuration (PutRegistryScanningConfiguration,
-- one JSON document), and each image's scan: its latest outcome, its
-- findings (one JSON document, read only by DescribeImageScanFindings), and
-- whether a scanner is to scan it. An image's scan goes with the image.
CREATE TABLE scanning_configs (
    registry_id TEXT NOT NULL PRIMARY KEY,
    config      TEXT NOT NULL
) STRICT;

CREATE TABLE image_scans (
    registry_id       TEXT    NOT NULL,
    repo_name         TEXT    NOT NULL,
    image_digest      TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    enhanced          INTEGER NOT NULL,
    continuous        INTEGER NOT NULL,
    pending           INTEGER NOT NULL,
    requested_at      INTEGER,
    completed_at      INTEGER,
    source_updated_at INTEGER,
    source_version    TEXT    NOT NULL,
    -- {"HIGH": 2, …}
    counts            TEXT    NOT NULL,
    findings          TEXT    NOT NULL,
    attempts          INTEGER NOT NULL,
    next_attempt_at   INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (registry_id, repo_name, image_digest),
    FOREIGN KEY (registry_id, repo_name, image_digest)
        REFERENCES images (registry_id, repo_name, digest) ON DELETE CASCADE
) STRICT;
-- A scanner reads what is due, oldest first: the scans asked for, and the
-- continuous ones (whose database version it then compares).
CREATE INDEX image_scans_pending ON image_scans (pending, next_attempt_at);
CREATE INDEX image_scans_continuous ON image_scans (continuous, next_attempt_at);
