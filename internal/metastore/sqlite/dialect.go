package sqlite

import (
	"time"

	"github.com/ecrd/ecrd/internal/metastore/sqlstore"
	"github.com/ecrd/ecrd/internal/registry"
)

// dialect is how SQLite spells what the shared statements leave to each
// engine (sqlstore.Dialect): lists are JSON arrays that json_each expands
// (see jsonargs.go); tags have no foreign key to images (migration 0011),
// so the store deletes them itself, by the index it names, which it names
// too where SQLite without statistics would search the tags by the
// repository alone (the plan test).
var dialect = sqlstore.Dialect{
	Violation: violation,
	Time:      func(p *time.Time) any { return sqlstore.Time{T: p} },
	Strings:   func(s *[]string) any { return jsonStrings{s} },

	// CROSS JOIN keeps json_each the outer loop: one primary-key lookup
	// per digest, where IN (SELECT …) would first build a temporary index
	// of the digests.
	Layers: `SELECT l.digest, l.size, l.media_type, l.created_at
		FROM json_each($3) AS j CROSS JOIN layers AS l
		WHERE l.registry_id = $1 AND l.repo_name = $2 AND l.digest = j.value`,
	LayerRefsFrom: `json_each($4) AS u`,
	HeldLayersFrom: `json_each($4) AS u CROSS JOIN layers AS l
		WHERE l.registry_id = $1 AND l.repo_name = $2 AND l.digest = u.value`,
	// An UPDATE … FROM json_each has the layers as its outer loop, a
	// search by the repository alone; one UPDATE per media type (an image
	// has a handful, whatever its number of layers) seeks each digest.
	SetLayerMediaTypes: `UPDATE layers SET media_type = $3
		WHERE registry_id = $1 AND repo_name = $2 AND digest IN (SELECT value FROM json_each($4))
			AND media_type <> $3`,
	LayerMediaTypeArgs: byMediaType,
	InsertImageBlobs: `INSERT INTO image_blobs (registry_id, repo_name, image_digest, position,
			blob_digest, media_type, size, image_status, image_active_at)
		SELECT $1, $2, $3, j.key, j.value ->> 0, j.value ->> 1, j.value ->> 2, $4, $5 FROM json_each($6) AS j`,
	ImageBlobArgs: func(blobs []registry.ImageBlob) []any { return []any{blobsJSON(blobs)} },
	InsertImageChildren: `INSERT INTO image_children (registry_id, repo_name, image_digest, position, child_digest)
		SELECT $1, $2, $3, j.key, j.value FROM json_each($4) AS j`,

	// RETURNING sees the row as the statement left it, not the snapshot
	// it began with, so whether the image existed is not told; the
	// rewrites it spares cost a statement each, in process.
	PutImageWith:    "",
	PutImageExisted: "true",
	TagsByDigest:    " INDEXED BY tags_digest",
	DeleteImageTags: `DELETE FROM tags INDEXED BY tags_digest
		WHERE registry_id = $1 AND repo_name = $2 AND digest = $3`,
	DeleteRepositoryTags: `DELETE FROM tags WHERE registry_id = $1 AND repo_name = $2`,
}
