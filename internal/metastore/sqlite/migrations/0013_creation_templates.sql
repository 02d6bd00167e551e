-- A private registry's repository creation templates, keyed by prefix
-- (ROOT among them). Their settings are one JSON document, read and
-- written whole; a registry has at most 100 templates, so matching a
-- repository name reads them all.
CREATE TABLE creation_templates (
    registry_id TEXT    NOT NULL,
    prefix      TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (registry_id, prefix)
) STRICT;
