-- A repository's lifecycle policy (PutLifecyclePolicy), its text as
-- normalized, and when a run last evaluated it (NULL: never).
CREATE TABLE lifecycle_policies (
    registry_id  TEXT    NOT NULL,
    repo_name    TEXT    NOT NULL,
    policy       TEXT    NOT NULL,
    evaluated_at INTEGER,
    PRIMARY KEY (registry_id, repo_name),
    FOREIGN KEY (registry_id, repo_name) REFERENCES repositories (registry_id, name) ON DELETE CASCADE
) STRICT;

-- The latest lifecycle policy preview of a repository.
CREATE TABLE lifecycle_previews (
    registry_id   TEXT    NOT NULL,
    repo_name     TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    policy        TEXT    NOT NULL,
    holder        TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    done_at       INTEGER,
    failure       TEXT    NOT NULL,
    expiring      INTEGER NOT NULL,
    transitioning INTEGER NOT NULL,
    PRIMARY KEY (registry_id, repo_name),
    FOREIGN KEY (registry_id, repo_name) REFERENCES repositories (registry_id, name) ON DELETE CASCADE
) STRICT;

-- A preview's results, one per image it would act on, paged by digest;
-- tags is the image's tags as a JSON list, tagged whether it has any.
CREATE TABLE lifecycle_preview_results (
    registry_id   TEXT    NOT NULL,
    repo_name     TEXT    NOT NULL,
    image_digest  TEXT    NOT NULL,
    tags          TEXT    NOT NULL,
    tagged        INTEGER NOT NULL,
    pushed_at     INTEGER NOT NULL,
    action        TEXT    NOT NULL,
    rule_priority INTEGER NOT NULL,
    storage_class TEXT    NOT NULL,
    PRIMARY KEY (registry_id, repo_name, image_digest),
    FOREIGN KEY (registry_id, repo_name) REFERENCES repositories (registry_id, name) ON DELETE CASCADE
) STRICT;
-- Pages of tagged (or untagged) results read only what they return.
CREATE INDEX lifecycle_preview_results_tagged ON lifecycle_preview_results
    (registry_id, repo_name, tagged, image_digest);
