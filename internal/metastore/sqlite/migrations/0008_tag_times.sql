-- When each tag was set to the image it names (DescribeImageTags reports
-- it). Tags set before this migration have none; readers fall back to
-- their image's push time.
ALTER TABLE tags ADD COLUMN created_at INTEGER;
