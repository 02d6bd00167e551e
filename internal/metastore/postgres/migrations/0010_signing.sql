-- A private registry's signing configuration (PutSigningConfiguration, its
-- rules as one JSON document; a row with no rules is a configuration too),
-- and the signing of each image pushed under it with each profile: what
-- DescribeImageSigningStatus reports and what the signer works through.
-- An image's signings go with the image.
CREATE TABLE signing_configs (
    registry_id text COLLATE "C" NOT NULL PRIMARY KEY,
    config      text NOT NULL
);

CREATE TABLE image_signings (
    registry_id     text COLLATE "C" NOT NULL,
    repo_name       text COLLATE "C" NOT NULL,
    image_digest    text COLLATE "C" NOT NULL,
    profile_arn     text COLLATE "C" NOT NULL,
    status          text        NOT NULL,
    failure_code    text        NOT NULL,
    failure_reason  text        NOT NULL,
    signature       text        NOT NULL,
    attempts        integer     NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (registry_id, repo_name, image_digest, profile_arn),
    FOREIGN KEY (registry_id, repo_name, image_digest)
        REFERENCES images (registry_id, repo_name, digest) ON DELETE CASCADE
);
-- The signer reads the due signings, oldest first, without a scan.
CREATE INDEX image_signings_due ON image_signings (status, next_attempt_at);
