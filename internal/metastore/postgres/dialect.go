package postgres

import (
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/metastore/sqlstore"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/jackc/pgx/v5/pgtype"
)

// dialect is how PostgreSQL spells what the shared statements leave to
// each engine (sqlstore.Dialect). Statements over many rows bind them as
// arrays, = ANY($n) or unnest($n): PostgreSQL's limit of 65,535
// parameters never comes into it, and the primary key serves = ANY as one
// seek per element. Tags have a foreign key to their image, whose ON
// DELETE CASCADE removes them (by tags_digest).
var dialect = sqlstore.Dialect{
	Violation: violation,
	Time:      func(p *time.Time) any { return pgTime{p} },
	Strings:   func(s *[]string) any { return s },

	Layers: `SELECT digest, size, media_type, created_at FROM layers
		WHERE registry_id = $1 AND repo_name = $2 AND digest = ANY($3)`,
	LayerRefsFrom: `unnest($4::text[]) AS u (value)`,
	// = ANY keeps the primary key's seek: a join with unnest may take
	// layers_digest, every repository's row of a shared digest.
	HeldLayersFrom: `layers AS l WHERE l.registry_id = $1 AND l.repo_name = $2 AND l.digest = ANY($4)`,
	SetLayerMediaTypes: `UPDATE layers AS l SET media_type = u.media_type
		FROM unnest($3::text[], $4::text[]) AS u (digest, media_type)
		WHERE l.registry_id = $1 AND l.repo_name = $2 AND l.digest = u.digest AND l.media_type <> u.media_type`,
	LayerMediaTypeArgs: func(digests []registry.Digest, types []string) [][]any {
		return [][]any{{digestStrings(digests), types}}
	},
	// unnest expands the arrays side by side, WITH ORDINALITY numbers
	// them from 1.
	InsertImageBlobs: `INSERT INTO image_blobs (registry_id, repo_name, image_digest, position,
			blob_digest, media_type, size, image_status, image_active_at)
		SELECT $1, $2, $3, u.n - 1, u.digest, u.media_type, u.size, $4, $5
		FROM unnest($6::text[], $7::text[], $8::bigint[]) WITH ORDINALITY AS u (digest, media_type, size, n)`,
	ImageBlobArgs: imageBlobArrays,
	InsertImageChildren: `INSERT INTO image_children (registry_id, repo_name, image_digest, position, child_digest)
		SELECT $1, $2, $3, u.n - 1, u.digest
		FROM unnest($4::text[]) WITH ORDINALITY AS u (digest, n)`,

	// existed reads the snapshot the statement began with, before its
	// insert.
	PutImageWith: `WITH existed AS (
			SELECT 1 FROM images WHERE registry_id = $1 AND repo_name = $2 AND digest = $3)
		`,
	PutImageExisted: `EXISTS (SELECT 1 FROM existed)`,
}

// imageBlobArrays implements dialect.ImageBlobArgs: the blobs' digests,
// media types and sizes as three arrays.
func imageBlobArrays(blobs []registry.ImageBlob) []any {
	digests, types, sizes := make([]string, len(blobs)), make([]string, len(blobs)), make([]int64, len(blobs))
	for i, b := range blobs {
		digests[i], types[i], sizes[i] = string(b.Digest), b.MediaType, b.Size
	}
	return []any{digests, types, sizes}
}

// pgTime is dialect.Time's Scan destination: pgx gives it the decoded
// timestamptz directly, where a sql.Scanner (sqlstore.Time) would cost a
// conversion to a driver value and an allocation per column of every row.
type pgTime struct{ t *time.Time }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (d pgTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		*d.t = time.Time{}
		return nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("postgres: an infinite time (%v)", v.InfinityModifier)
	}
	*d.t = sqlstore.FromDB(v.Time)
	return nil
}
