package sqlstore

import (
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Dialect is what one engine's SQL spells its own way. Each store has one,
// a read-only table built once. Queries in it are in the $N form, with the
// parameters numbered as the field says.
type Dialect struct {
	// Violation tells which constraint, if any, a failed statement
	// violated.
	Violation func(err error) Violation
	// Time returns a Scan destination that fills *p from a time column,
	// the zero time for NULL, as Time does.
	Time func(p *time.Time) any
	// Strings returns a Scan destination that fills *s from a list column
	// (PostgreSQL's text[], SQLite's JSON array text).
	Strings func(s *[]string) any

	// Layers selects digest, size, media_type, created_at of the layers of
	// repository $1/$2 among the digests $3 (a []registry.Digest).
	Layers string
	// LayerRefsFrom is the FROM item of LayerRefs: a row, named u, per
	// element of the digests $4, whose column u.value is the digest.
	LayerRefsFrom string
	// HeldLayersFrom is the FROM and WHERE of HeldLayers: the layers,
	// named l, of repository $1/$2 among the digests $4, each found by
	// its primary key.
	HeldLayersFrom string
	// SetLayerMediaTypes sets the media types of layers of repository
	// $1/$2 from arguments $3 and on, leaving layers that have theirs
	// already unwritten. It runs once per argument set LayerMediaTypeArgs
	// makes from digests in byte order and their media types: once in all
	// where the engine binds both lists, once per media type where it
	// cannot join them without a plan that reads the repository's layers.
	SetLayerMediaTypes string
	LayerMediaTypeArgs func(digests []registry.Digest, types []string) [][]any
	// InsertImageBlobs inserts image $3's image_blobs rows in repository
	// $1/$2, with image status $4 and restore time $5, from the blobs that
	// ImageBlobArgs makes $6 and on, their positions counted from 0.
	InsertImageBlobs string
	// ImageBlobArgs makes the arguments $6 and on of InsertImageBlobs.
	ImageBlobArgs func(blobs []registry.ImageBlob) []any
	// InsertImageChildren inserts image $3's image_children rows in
	// repository $1/$2 from the digests $4, positions counted from 0.
	InsertImageChildren string

	// PutImageWith and PutImageExisted are PutImage's upsert's WITH
	// clause and RETURNING expression, which says whether the image
	// existed before it: one that did not has no blob, child or tag rows
	// to rewrite. Where the engine cannot tell within the statement,
	// PutImageWith is empty and PutImageExisted true.
	PutImageWith, PutImageExisted string
	// TagsByDigest follows "tags" in the statements that find an image's
	// tags: an index hint, where the planner needs one.
	TagsByDigest string
	// DeleteImageTags deletes image $3's tags in repository $1/$2, and
	// DeleteRepositoryTags every tag of repository $1/$2, where the schema
	// has no foreign key to cascade the delete of the image or repository
	// into its tags; empty where it has.
	DeleteImageTags, DeleteRepositoryTags string
}
