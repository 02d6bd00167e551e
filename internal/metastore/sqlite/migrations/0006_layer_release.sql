-- When the last image referring to a layer let go of it: garbage collection
-- counts its grace period from then, not from the layer's upload.
ALTER TABLE layers ADD COLUMN released_at INTEGER;
