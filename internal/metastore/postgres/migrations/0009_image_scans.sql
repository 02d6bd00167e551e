-- A private registry's scanning configuration (PutRegistryScanningConfiguration,
-- one JSON document), and each image's scan: its latest outcome, its
-- findings (one JSON document, read only by DescribeImageScanFindings, kept
-- out of line by TOAST), and whether a scanner is to scan it. An image's
-- scan goes with the image.
CREATE TABLE scanning_configs (
    registry_id text COLLATE "C" NOT NULL PRIMARY KEY,
    config      text NOT NULL
);

CREATE TABLE image_scans (
    registry_id       text COLLATE "C" NOT NULL,
    repo_name         text COLLATE "C" NOT NULL,
    image_digest      text COLLATE "C" NOT NULL,
    status            text        NOT NULL,
    description       text        NOT NULL,
    enhanced          boolean     NOT NULL,
    continuous        boolean     NOT NULL,
    pending           boolean     NOT NULL,
    requested_at      timestamptz,
    completed_at      timestamptz,
    source_updated_at timestamptz,
    source_version    text        NOT NULL,
    counts            text        NOT NULL,
    findings          text        NOT NULL,
    attempts          integer     NOT NULL,
    next_attempt_at   timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (registry_id, repo_name, image_digest),
    FOREIGN KEY (registry_id, repo_name, image_digest)
        REFERENCES images (registry_id, repo_name, digest) ON DELETE CASCADE
);
-- A scanner reads what is due, oldest first: the scans asked for, and the
-- continuous ones (whose database version it then compares).
CREATE INDEX image_scans_pending ON image_scans (pending, next_attempt_at);
CREATE INDEX image_scans_continuous ON image_scans (continuous, next_attempt_at);
