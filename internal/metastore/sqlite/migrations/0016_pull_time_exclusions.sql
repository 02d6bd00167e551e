-- A private registry's pull-time update exclusions: principals whose
-- pulls leave lastRecordedPullTime alone (at most 100 per registry).
CREATE TABLE pull_time_exclusions (
    registry_id   TEXT    NOT NULL,
    principal_arn TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (registry_id, principal_arn)
) STRICT;
