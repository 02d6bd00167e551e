package e2e

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecr"

	// The driver registers itself as "sqlite" when imported.
	_ "modernc.org/sqlite"

	"github.com/ecrd/ecrd/internal/blobstore/s3"
	"github.com/ecrd/ecrd/internal/migrate"
	"github.com/ecrd/ecrd/internal/registry"
)

// TestMigrateDamagedSource: a data dir that is not a registry, a blob
// whose bytes do not match its digest or its recorded size, a layer whose
// blob has no record, and a schema this build does not know all stop the
// migration with an error that names the cause, before any metadata is
// written and without the bad blob reaching the bucket.
func TestMigrateDamagedSource(t *testing.T) {
	s := startServer(t, "")
	createRepos(t, s.client(), "web")
	cfg := pushConfig(t, s.client(), "web", 1)
	layer := pushBlob(t, s.client(), "web", layerBytes(64<<10, 7))
	putImage(t, s.client(), "web", ociManifest(cfg, "", layer), "v1")
	s.stop()
	blobFile := func(dir, d string) string {
		hex := strings.TrimPrefix(d, "sha256:")
		return filepath.Join(dir, "blobs", "sha256", hex[:2], hex)
	}
	sqlExec := func(t *testing.T, dir, stmt string, args ...any) {
		db, err := sql.Open("sqlite", filepath.Join(dir, "metadata.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(stmt, args...); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}

	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
		// bad is a blob that must not reach the bucket.
		bad string
	}{
		{"NotADataDir", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "metadata.db")); err != nil {
				t.Fatal(err)
			}
		}, "holds no metadata.db", ""},
		{"BytesNotOfDigest", func(t *testing.T, dir string) {
			f := blobFile(dir, layer.Digest)
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 1
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "hash to sha256:", layer.Digest},
		{"BytesNotOfSize", func(t *testing.T, dir string) {
			if err := os.Truncate(blobFile(dir, layer.Digest), int64(layer.Size-1)); err != nil {
				t.Fatal(err)
			}
		}, "its record says", layer.Digest},
		{"LayerWithoutBlobRecord", func(t *testing.T, dir string) {
			sqlExec(t, dir, "DELETE FROM blobs WHERE digest = ?", layer.Digest)
		}, "which has no record", layer.Digest},
		{"NewerSchema", func(t *testing.T, dir string) {
			sqlExec(t, dir, "ALTER TABLE repositories ADD COLUMN colour TEXT")
		}, "has columns PostgreSQL's lacks", ""},
		{"OlderSchema", func(t *testing.T, dir string) {
			sqlExec(t, dir, "ALTER TABLE tags DROP COLUMN image_active_at")
		}, "run `ecrd gc --data-dir", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(s.DataDir)); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, dir)
			to := newMigrationTarget(t)
			o := to.options(dir)
			_, err := migrate.Run(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("migrate: %v, want an error saying %q", err, tc.want)
			}
			t.Logf("migrate: %v", err)
			if tc.bad != "" {
				bucket, err := s3.New(context.Background(), o.S3)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := bucket.Stat(context.Background(), registry.Digest(tc.bad)); !errors.Is(err, registry.ErrNotFound) {
					t.Errorf("the bad blob in the bucket: %v, want ErrNotFound", err)
				}
			}
			target := startServer(t, "", to.stores)
			out, err := target.client().DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{})
			if err != nil || len(out.Repositories) != 0 {
				t.Errorf("the target after the failure: %+v, %v; want no repository", out, err)
			}
		})
	}
}
