-- A repository's lifecycle policy (PutLifecyclePolicy), its text as
-- normalized, and when a run last evaluated it (NULL: never).
CREATE TABLE lifecycle_policies (
    registry_id  text COLLATE "C" NOT NULL,
    repo_name    text COLLATE "C" NOT NULL,
    policy       text NOT NULL,
    evaluated_at timestamptz,
    PRIMARY KEY (registry_id, repo_name),
    FOREIGN KEY (registry_id, repo_name) REFERENCES repositories (registry_id, name) ON DELETE CASCADE
);

-- The latest lifecycle policy preview of a repository.
CREATE TABLE lifecycle_previews (
    registry_id   text COLLATE "C" NOT NULL,
    repo_name     text COLLATE "C" NOT NULL,
    status        text NOT NULL,
    policy        text NOT NULL,
    holder        text NOT NULL,
    started_at    timestamptz NOT NULL,
    done_at       timestamptz,
    failure       text NOT NULL,
    expiring      integer NOT NULL,
    transitioning integer NOT NULL,
    PRIMARY KEY (registry_id, repo_name),
    FOREIGN KEY (registry_id, repo_name) REFERENCES repositories (registry_id, name) ON DELETE CASCADE
);

-- A preview's results, one per image it would act on, paged by digest;
-- tags is the image's tags as a JSON list, tagged whether it has any.
CREATE TABLE lifecycle_preview_results (
    registry_id   text COLLATE "C" NOT NULL,
    repo_name     text COLLATE "C" NOT NULL,
    image_digest  text COLLATE "C" NOT NULL,
    tags          text NOT NULL,
    tagged        integer NOT NULL,
    pushed_at     timestamptz NOT NULL,
    action        text NOT NULL,
    rule_priority integer NOT NULL,
    storage_class text NOT NULL,
    PRIMARY KEY (registry_id, repo_name, image_digest),
    FOREIGN KEY (registry_id, repo_name) REFERENCES repositories (registry_id, name) ON DELETE CASCADE
);
-- Pages of tagged (or untagged) results read only what they return.
CREATE INDEX lifecycle_preview_results_tagged ON lifecycle_preview_results
    (registry_id, repo_name, tagged, image_digest);
