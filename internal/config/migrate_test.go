package config_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/config"
)

// TestMigrateSettings: ecrd migrate needs its source, its database and a
// bucket, and says which are missing, all at once; the S3 keys come from
// the environment in pairs; a config file serving the server too may hold
// the server's keys, which migrate ignores; the server's flags are not
// migrate's.
func TestMigrateSettings(t *testing.T) {
	t.Run("Missing", func(t *testing.T) {
		_, err := config.Load("migrate", nil, envOf(nil))
		for _, want := range []string{"--from-data-dir must be given", "--to-postgres must be given", "--s3-bucket must be given"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v: want %q", err, want)
			}
		}
	})
	t.Run("Given", func(t *testing.T) {
		file := writeFile(t, "s3-prefix = \"ecrd/\"\nlisten = \"0.0.0.0:5000\"\nmeta = \"postgres\"\n")
		env := map[string]string{"ECRD_CONFIG": file, "ECRD_TO_POSTGRES": "postgres://db/ecrd",
			"ECRD_S3_ACCESS_KEY": "AK", "ECRD_S3_SECRET_KEY": "SK"}
		c, err := config.Load("migrate", []string{"--from-data-dir", "rel/dir", "--s3-bucket", "b", "--s3-path-style"}, envOf(env))
		if err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs("rel/dir")
		if c.Migrate.FromDataDir != abs || c.Migrate.ToPostgres != "postgres://db/ecrd" {
			t.Errorf("Migrate = %+v, want %s and the DSN", c.Migrate, abs)
		}
		if s := c.Store.S3; s.Bucket != "b" || s.Prefix != "ecrd/" || !s.PathStyle || s.AccessKey != "AK" || s.SecretKey != "SK" {
			t.Errorf("S3 = %+v", s)
		}
		if c.Server.Listen == "0.0.0.0:5000" || c.Store.Meta == "postgres" {
			t.Errorf("the server's keys of the file applied to migrate: %+v", c.Server)
		}
	})
	t.Run("OneKey", func(t *testing.T) {
		env := map[string]string{"ECRD_S3_ACCESS_KEY": "AK"}
		_, err := config.Load("migrate", []string{"--from-data-dir", "d", "--to-postgres", "x", "--s3-bucket", "b"}, envOf(env))
		if err == nil || !strings.Contains(err.Error(), "ECRD_S3_SECRET_KEY") {
			t.Errorf("error %v: want the keys' pairing", err)
		}
	})
	t.Run("BadEndpoint", func(t *testing.T) {
		_, err := config.Load("migrate", []string{"--from-data-dir", "d", "--to-postgres", "x", "--s3-bucket", "b", "--s3-endpoint", "minio:9000"}, envOf(nil))
		if err == nil || !strings.Contains(err.Error(), "--s3-endpoint") {
			t.Errorf("error %v: want the endpoint's form", err)
		}
	})
	t.Run("ServerFlag", func(t *testing.T) {
		_, err := config.Load("migrate", []string{"--listen", "127.0.0.1:1"}, envOf(nil))
		var u *config.UsageError
		if !errors.As(err, &u) {
			t.Errorf("error %v: want a UsageError", err)
		}
	})
}
