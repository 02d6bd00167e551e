-- Server secrets shared by every replica over this store, such as the key
-- that signs docker-login tokens.
CREATE TABLE secrets (
    name       TEXT    NOT NULL PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
