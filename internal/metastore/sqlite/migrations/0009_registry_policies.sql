-- A private registry's permissions policy (PutRegistryPolicy): kept as
-- sent, one per registry. Registries have no row of their own, so the
-- policy is keyed by the registry ID alone.
CREATE TABLE registry_policies (
    registry_id TEXT NOT NULL PRIMARY KEY,
    policy      TEXT NOT NULL
) STRICT;
