-- A private registry's pull through cache rules, keyed by their
-- repository prefix (ROOT among them); a registry has at most 50.
CREATE TABLE pull_through_rules (
    registry_id       text COLLATE "C" NOT NULL,
    prefix            text COLLATE "C" NOT NULL,
    upstream_url      text NOT NULL,
    upstream_registry text NOT NULL,
    upstream_prefix   text NOT NULL,
    credential_arn    text NOT NULL,
    custom_role_arn   text NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (registry_id, prefix)
);

-- When a cache repository's tag was last fetched or checked upstream: a
-- pull checks a tag again once this is a day old.
CREATE TABLE pull_through_checks (
    registry_id text COLLATE "C" NOT NULL,
    repo_name   text COLLATE "C" NOT NULL,
    tag         text COLLATE "C" NOT NULL,
    checked_at  timestamptz NOT NULL,
    PRIMARY KEY (registry_id, repo_name, tag),
    FOREIGN KEY (registry_id, repo_name) REFERENCES repositories (registry_id, name) ON DELETE CASCADE
);
