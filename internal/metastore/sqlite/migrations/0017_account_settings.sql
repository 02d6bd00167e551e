-- A private registry's account settings (PutAccountSetting), by name; a
-- setting never put has its default.
CREATE TABLE account_settings (
    registry_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (registry_id, name)
) STRICT;
