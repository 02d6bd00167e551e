-- The ecrd processes on this database and when each last said it runs
-- (registry.Holders, holders.go): every process rewrites its row every few
-- seconds, so that replicas on other hosts can tell a crashed holder of an
-- upload lease from a live one. last_seen is the database's clock, so the
-- hosts' clocks never need to agree. Rows of processes long gone are
-- deleted by the others.
CREATE TABLE lease_holders (
    id        text COLLATE "C" NOT NULL PRIMARY KEY,
    last_seen timestamptz NOT NULL
);
