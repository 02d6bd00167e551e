-- A private registry's account settings (PutAccountSetting), by name; a
-- setting never put has its default.
CREATE TABLE account_settings (
    registry_id text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    value       text NOT NULL,
    PRIMARY KEY (registry_id, name)
);
