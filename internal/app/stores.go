package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ecrd/ecrd/internal/blobstore/fs"
	"github.com/ecrd/ecrd/internal/blobstore/s3"
	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/metastore/postgres"
	"github.com/ecrd/ecrd/internal/metastore/sqlite"
	"github.com/ecrd/ecrd/internal/registry"
)

// storeTimeout bounds how long opening a networked store may take at
// start-up: a database or bucket that does not answer stops start-up with
// its name rather than hanging it.
const storeTimeout = 30 * time.Second

// openMeta opens the metadata store --meta names: SQLite in the data dir,
// or PostgreSQL.
func (a *App) openMeta(dir string) (registry.MetaStore, error) {
	c := a.cfg.Store
	switch c.Meta {
	case config.MetaPostgres:
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		// The error never quotes the DSN: it may hold a password.
		m, err := postgres.Open(ctx, c.PostgresDSN, postgres.Options{MaxConns: c.PostgresMaxConns})
		if err != nil {
			return nil, fmt.Errorf("%s: opening PostgreSQL: %w", a.cfg.Origin("postgres-dsn"), err)
		}
		return m, nil
	default:
		m, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
		if err != nil {
			return nil, fmt.Errorf("%s %s: opening the metadata database: %w", a.cfg.Origin("data-dir"), dir, err)
		}
		return m, nil
	}
}

// openBlobs opens the blob store --blob names: files in the data dir, or
// S3-compatible object storage.
func (a *App) openBlobs(dir string) (registry.BlobStore, error) {
	c := a.cfg.Store
	switch c.Blob {
	case config.BlobS3:
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		b, err := s3.New(ctx, s3.Options{Bucket: c.S3.Bucket, Prefix: c.S3.Prefix, Endpoint: c.S3.Endpoint,
			Region: c.S3.Region, PathStyle: c.S3.PathStyle, AccessKey: c.S3.AccessKey, SecretKey: c.S3.SecretKey})
		if err != nil {
			return nil, fmt.Errorf("%s %s: opening the bucket: %w", a.cfg.Origin("s3-bucket"), c.S3.Bucket, err)
		}
		return b, nil
	default:
		b, err := fs.Open(dir)
		if err != nil {
			return nil, fmt.Errorf("%s %s: opening the blob store: %w", a.cfg.Origin("data-dir"), dir, err)
		}
		return b, nil
	}
}

// holders tells the core whether the process holding an upload's lease
// still runs. Processes sharing a data dir see each other's lock files
// (internal/instance). Over PostgreSQL, replicas run on other hosts with
// data dirs of their own, so each beats in the database instead
// (postgres.Holders), stopped by close.
func (a *App) holders() (registry.Holders, error) {
	pg, ok := a.meta.(*postgres.Store)
	if !ok {
		return a.instances, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	h, err := pg.Holders(ctx, postgres.HolderOptions{Logger: a.log})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.cfg.Origin("postgres-dsn"), err)
	}
	a.pgHolders = h
	return h, nil
}
