-- A private registry's signing configuration (PutSigningConfiguration, its
-- rules as one JSON document; a row with no rules is a configuration too),
-- and the signing of each image pushed under it with each profile: what
-- DescribeImageSigningStatus reports and what the signer works through.
-- An image's signings go with the image.
CREATE TABLE signing_configs (
    registry_id TEXT NOT NULL PRIMARY KEY,
    config      TEXT NOT NULL
) STRICT;

CREATE TABLE image_signings (
    registry_id     TEXT    NOT NULL,
    repo_name       TEXT    NOT NULL,
    image_digest    TEXT    NOT NULL,
    profile_arn     TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    failure_code    TEXT    NOT NULL,
    failure_reason  TEXT    NOT NULL,
    signature       TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (registry_id, repo_name, image_digest, profile_arn),
    FOREIGN KEY (registry_id, repo_name, image_digest)
        REFERENCES images (registry_id, repo_name, digest) ON DELETE CASCADE
) STRICT;
-- The signer reads the due signings, oldest first, without a scan.
CREATE INDEX image_signings_due ON image_signings (status, next_attempt_at);
