-- A private registry's pull through cache rules, keyed by their
-- repository prefix (ROOT among them); a registry has at most 50.
CREATE TABLE pull_through_rules (
    registry_id       TEXT    NOT NULL,
    prefix            TEXT    NOT NULL,
    upstream_url      TEXT    NOT NULL,
    upstream_registry TEXT    NOT NULL,
    upstream_prefix   TEXT    NOT NULL,
    credential_arn    TEXT    NOT NULL,
    custom_role_arn   TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (registry_id, prefix)
) STRICT;

-- When a cache repository's tag was last fetched or checked upstream: a
-- pull checks a tag again once this is a day old.
CREATE TABLE pull_through_checks (
    registry_id TEXT    NOT NULL,
    repo_name   TEXT    NOT NULL,
    tag         TEXT    NOT NULL,
    checked_at  INTEGER NOT NULL,
    PRIMARY KEY (registry_id, repo_name, tag),
    FOREIGN KEY (registry_id, repo_name) REFERENCES repositories (registry_id, name) ON DELETE CASCADE
) STRICT;
