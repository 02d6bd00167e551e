// Package migrate copies an embedded registry (the SQLite metadata and the
// filesystem blobs of a data dir) into the scale-out stores (PostgreSQL and
// S3), for `ecrd migrate`.
//
// The order makes it safe to interrupt at any point and run again:
//
//  1. The source is opened read-only and refused while a process (a server,
//     `ecrd gc`) holds an instance lock on the data dir. One SQLite read
//     transaction is the snapshot everything below copies.
//  2. The target database is classified before anything is written: empty
//     (or holding only the server secrets a server started on it made),
//     already migrated from this very snapshot (a marker secret holds the
//     snapshot's fingerprint), or holding another registry, which is refused.
//  3. Every blob a repository holds is streamed into S3, its digest and size
//     verified while streaming; a blob already in S3 is skipped, which is
//     what makes a rerun resume. Blobs go first, so that no metadata ever
//     names a blob the bucket lacks.
//  4. The metadata is copied table by table in one PostgreSQL transaction,
//     with the marker: a run interrupted before the commit leaves the
//     database as it found it.
//
// In-progress uploads (their rows and bytes) and leases are not copied:
// they belong to the processes of the old store, and clients restart an
// upload that disappears.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ecrd/ecrd/internal/blobstore/s3"
)

// Options say what to copy where.
type Options struct {
	// DataDir is the embedded registry's data dir: metadata.db and blobs/.
	DataDir string
	// PostgresDSN is the target database; its schema is created or brought
	// up to date first.
	PostgresDSN string
	// S3 is the target bucket and prefix.
	S3 s3.Options
	// Parallel is how many blobs are copied at once; 0 means 4. Each is
	// streamed into S3 with its length declared, so it holds no more than
	// the S3 store's part buffer (20 MiB) where the store must buffer.
	Parallel int

	// Progress receives the progress display; nil shows none.
	Progress io.Writer
	// Terminal redraws one line in place (with \r) instead of writing a
	// line every Interval.
	Terminal bool
	// Interval is how often progress is shown; 0 means 200ms on a
	// terminal, 5s otherwise.
	Interval time.Duration

	// AfterBlob, when set, is called after each blob is copied with the
	// number copied so far in this run; an error it returns stops the
	// migration as a failure would (tests interrupt a migration with it).
	AfterBlob func(copied int) error
	// BeforeCommit, when set, is called after every record is written and
	// before the transaction commits; an error rolls the metadata back.
	BeforeCommit func() error
}

// Summary is what a run did.
type Summary struct {
	// Blobs and Bytes are every blob the metadata references, and their
	// size; Copied and CopiedBytes those this run sent (the others were in
	// the bucket already).
	Blobs, Copied      int
	Bytes, CopiedBytes int64
	// Records is the number of metadata rows copied (0 when the database
	// held this registry already).
	Records int64
	// AlreadyMigrated says the database held this snapshot already.
	AlreadyMigrated bool
	Elapsed         time.Duration
}

// ErrServerRunning is returned while a process holds the data dir.
var ErrServerRunning = errors.New("a server (or ecrd gc, or another ecrd migrate) is running on the data dir: stop it first, so that the copy is of a registry nobody changes")

// ErrTargetHoldsRegistry is returned when the database holds a registry
// other than the one being migrated.
var ErrTargetHoldsRegistry = errors.New("the PostgreSQL database already holds a different registry: migrate into an empty one")

// Run copies the registry in o.DataDir into o.PostgresDSN and o.S3.
func Run(ctx context.Context, o Options) (Summary, error) {
	start := time.Now()
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	src, err := openSource(ctx, o.DataDir)
	if err != nil {
		return Summary{}, err
	}
	defer src.Close()
	dst, err := openTarget(ctx, o.PostgresDSN)
	if err != nil {
		return Summary{}, err
	}
	defer dst.Close()
	bucket, err := s3.New(ctx, o.S3)
	if err != nil {
		return Summary{}, fmt.Errorf("target bucket %s: %w", o.S3.Bucket, err)
	}

	tables, err := plan(ctx, src, dst)
	if err != nil {
		return Summary{}, err
	}
	fp, err := src.fingerprint(ctx, tables)
	if err != nil {
		return Summary{}, err
	}
	state, err := dst.state(ctx, fp.sum)
	if state == targetOther {
		return Summary{}, fmt.Errorf("%w: %v", ErrTargetHoldsRegistry, err)
	}
	if err != nil {
		return Summary{}, err
	}
	blobs, err := src.blobs(ctx)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Blobs: len(blobs), AlreadyMigrated: state == targetSame}
	for _, b := range blobs {
		sum.Bytes += b.size
	}
	records := fp.rows
	if state == targetSame {
		records = 0
	}
	p := newProgress(o, int64(len(blobs))+records, sum.Bytes)
	defer p.stop()
	if err := copyBlobs(ctx, o, src, bucket, blobs, p, &sum); err != nil {
		return sum, err
	}
	if state == targetEmpty {
		n, same, err := dst.copyRecords(ctx, src, tables, fp.sum, p, o.BeforeCommit)
		if err != nil {
			return sum, err
		}
		sum.Records, sum.AlreadyMigrated = n, same
	}
	p.finish()
	sum.Elapsed = time.Since(start)
	return sum, nil
}
