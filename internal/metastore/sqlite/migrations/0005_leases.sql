-- Named leases: at most one holder at a time across every process over
-- this store (one garbage collection at a time).
CREATE TABLE leases (
    name       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
