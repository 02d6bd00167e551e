-- A private registry's repository creation templates, keyed by prefix
-- (ROOT among them). Their settings are one JSON document, read and
-- written whole; a registry has at most 100 templates, so matching a
-- repository name reads them all.
CREATE TABLE creation_templates (
    registry_id text COLLATE "C" NOT NULL,
    prefix      text COLLATE "C" NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (registry_id, prefix)
);
