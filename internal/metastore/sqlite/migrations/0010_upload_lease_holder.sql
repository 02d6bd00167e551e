-- The process that holds an upload's lease, so that the lease dies with
-- it: a restarted ecrd resumes a crashed one's uploads at once. Leases of
-- rows written before this column existed name no process ('') and lapse
-- by their timeout.
ALTER TABLE uploads ADD COLUMN lease_holder TEXT NOT NULL DEFAULT '';
