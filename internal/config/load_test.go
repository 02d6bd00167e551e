package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/config"
)

// writeFile writes a config file into a fresh directory and returns its path.
func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ecrd.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestPrecedence: flags win over environment variables, variables over the
// file, the file over the defaults — for each kind of value.
func TestPrecedence(t *testing.T) {
	home := t.TempDir()
	file := writeFile(t, `
listen = "127.0.0.1:7000"
region = "eu-west-1"
account-id = "111111111111"
gc-interval = "2h"
max-connections = 10
metrics = true
body-memory = "96MiB"
`)
	env := map[string]string{"HOME": home, "ECRD_CONFIG": file,
		"ECRD_REGION": "eu-west-2", "ECRD_GC_INTERVAL": "3h", "ECRD_MAX_CONNECTIONS": "20"}
	c, err := config.Load("serve", []string{"--gc-interval", "4h"}, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
		origin    string
	}{
		{"listen", c.Server.Listen, "127.0.0.1:7000", file + ": listen"},     // file
		{"region", c.Identity.Region, "eu-west-2", "ECRD_REGION"},            // env over file
		{"gc-interval", c.Images.GCInterval, 4 * time.Hour, "--gc-interval"}, // flag over env over file
		{"max-connections", c.Server.MaxConnections, 20, "ECRD_MAX_CONNECTIONS"},
		{"metrics", c.Server.Metrics, true, file + ": metrics"},
		{"body-memory", c.Bodies.Memory, int64(96 << 20), file + ": body-memory"},
		{"account-id", c.Identity.AccountID, "111111111111", file + ": account-id"},
		{"token-ttl", c.Auth.TokenTTL, 12 * time.Hour, "--token-ttl"}, // default
		{"data-dir", c.Store.DataDir, filepath.Join(home, ".local", "share", "ecrd"), "--data-dir"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
		if o := c.Origin(ch.name); o != ch.origin {
			t.Errorf("origin of %s = %q, want %q", ch.name, o, ch.origin)
		}
	}

	// --config wins over ECRD_CONFIG.
	other := writeFile(t, `listen = "127.0.0.1:7001"`)
	c, err = config.Load("serve", []string{"--config", other}, envOf(env))
	if err != nil || c.Server.Listen != "127.0.0.1:7001" {
		t.Fatalf("--config over ECRD_CONFIG: listen %q, %v", c.Server.Listen, err)
	}
	// A flag that is a switch takes false explicitly over a file's true.
	c, err = config.Load("serve", []string{"--metrics=false"}, envOf(env))
	if err != nil || c.Server.Metrics {
		t.Fatalf("--metrics=false over the file: %v, %v", c.Server.Metrics, err)
	}
}

// TestErrorsNameTheirOrigin: a bad value names the flag, the variable or
// the file and key it came from, and every problem is reported at once.
func TestErrorsNameTheirOrigin(t *testing.T) {
	home := t.TempDir()
	file := writeFile(t, "listen = \"nonsense\"\nupload-expiry = \"soon\"\nmax-connections = \"many\"\nmetrics = \"yes\"\nlistne = \"x\"\ngc-grace = 5\n")
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"Flag", []string{"--listen", "nonsense"}, nil, []string{`--listen "nonsense": want host:port`}},
		{"Variable", nil, map[string]string{"ECRD_LISTEN": "nonsense"}, []string{`ECRD_LISTEN "nonsense": want host:port`}},
		{"VariableDuration", nil, map[string]string{"ECRD_UPLOAD_EXPIRY": "soon"}, []string{`ECRD_UPLOAD_EXPIRY: "soon" is not a duration`}},
		{"VariableBool", nil, map[string]string{"ECRD_CREATE_ON_PUSH": "perhaps"}, []string{`ECRD_CREATE_ON_PUSH: "perhaps" is not true or false`}},
		{"VariableTooSmall", nil, map[string]string{"ECRD_BODY_MEMORY": "1MiB"}, []string{"ECRD_BODY_MEMORY 1MiB: must be at least 64MiB"}},
		{"File", []string{"--config", file}, nil, []string{
			file + `: listen "nonsense": want host:port`,
			file + `: upload-expiry: "soon" is not a duration`,
			file + `: max-connections: "many": want a bare number`,
			file + `: metrics: "yes": want a bare true or false`,
			file + `: listne: unknown key`,
			file + `: gc-grace: 5: want a string such as "24h"`,
		}},
		{"FlagOverridesBadFile", []string{"--config", file, "--listen", "127.0.0.1:0"}, nil, []string{file + ": upload-expiry"}},
		{"MissingFile", []string{"--config", filepath.Join(home, "none.toml")}, nil, []string{"--config " + filepath.Join(home, "none.toml")}},
		{"FileSyntax", []string{"--config", writeFile(t, "listen = \n")}, nil, []string{"line 1"}},
		{"TLSPair", nil, map[string]string{"ECRD_TLS_CERT": "/c.pem"}, []string{"ECRD_TLS_CERT and --tls-key: give both"}},
		{"TrustedProxies", []string{"--trusted-proxies", "10.0.0.0/8,lb.example.com"}, nil, []string{`--trusted-proxies "lb.example.com" is neither an address nor a CIDR prefix`}},
		{"LogFormat", []string{"--log-format", "xml"}, nil, []string{`--log-format "xml": want text or json`}},
		{"PostgresNeedsDSN", []string{"--meta", "postgres"}, nil, []string{"--postgres-dsn must be given with --meta postgres"}},
		{"UnknownMeta", nil, map[string]string{"ECRD_META": "mysql"}, []string{`ECRD_META "mysql": want sqlite or postgres`}},
		{"S3NeedsBucket", nil, map[string]string{"ECRD_BLOB": "s3"}, []string{"--s3-bucket must be given with ECRD_BLOB s3"}},
		{"S3Endpoint", []string{"--blob", "s3", "--s3-bucket", "b", "--s3-endpoint", "minio:9000"}, nil, []string{`--s3-endpoint "minio:9000": want an http://`}},
		{"BlobRedirectNeedsS3", []string{"--blob-redirect"}, map[string]string{"ECRD_BLOB": "fs"}, []string{"--blob-redirect needs ECRD_BLOB s3"}},
		{"S3KeyPair", []string{"--blob", "s3", "--s3-bucket", "b"}, map[string]string{"ECRD_S3_ACCESS_KEY": "k"}, []string{"ECRD_S3_ACCESS_KEY and ECRD_S3_SECRET_KEY: give both"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"HOME": home}
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := config.Load("serve", tc.args, envOf(env))
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
	// The flag wins over the bad file value: not reported.
	_, err := config.Load("serve", []string{"--config", file, "--listen", "127.0.0.1:0"}, envOf(map[string]string{"HOME": home}))
	if strings.Contains(err.Error(), "nonsense") {
		t.Errorf("a value overridden by a flag is still reported: %v", err)
	}
}

// TestFilePaths: relative paths in a file are relative to the file.
func TestFilePaths(t *testing.T) {
	file := writeFile(t, "data-dir = \"data\"\ncredentials = \"keys/credentials.json\"\ntls-cert = \"/abs/tls.crt\"\ntls-key = \"tls.key\"\n")
	c, err := config.Load("serve", []string{"--config", file}, envOf(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(file)
	if c.Store.DataDir != filepath.Join(dir, "data") || c.Auth.CredentialsFile != filepath.Join(dir, "keys/credentials.json") ||
		c.Server.TLSCert != "/abs/tls.crt" || c.Server.TLSKey != filepath.Join(dir, "tls.key") {
		t.Fatalf("paths: %q %q %q %q", c.Store.DataDir, c.Auth.CredentialsFile, c.Server.TLSCert, c.Server.TLSKey)
	}
	// A relative --data-dir is made absolute against the working directory.
	c, err = config.Load("serve", []string{"--data-dir", "rel"}, envOf(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if c.Store.DataDir != filepath.Join(wd, "rel") {
		t.Fatalf("data dir %q", c.Store.DataDir)
	}
}

// TestDataDirDefault: the user's data directory, never the working one.
func TestDataDirDefault(t *testing.T) {
	c, err := config.Load("serve", nil, envOf(map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "/data"}))
	if err != nil || c.Store.DataDir != "/data/ecrd" {
		t.Fatalf("XDG_DATA_HOME: %q, %v", c.Store.DataDir, err)
	}
	c, err = config.Load("serve", nil, envOf(map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "relative"}))
	if err != nil || c.Store.DataDir != "/home/u/.local/share/ecrd" {
		t.Fatalf("HOME: %q, %v", c.Store.DataDir, err)
	}
	if _, err = config.Load("serve", nil, envOf(nil)); err == nil || !strings.Contains(err.Error(), "--data-dir must not be empty (its default") {
		t.Fatalf("no HOME: %v", err)
	}
}

// TestSubcommands: each reads only its own flags; a config file written
// for serve serves them all.
func TestSubcommands(t *testing.T) {
	env := envOf(map[string]string{"HOME": t.TempDir(), "ECRD_LISTEN": "nonsense"})
	_, err := config.Load("gc", []string{"--listen", "127.0.0.1:0"}, env)
	var uerr *config.UsageError
	if !errors.As(err, &uerr) || !strings.Contains(err.Error(), "ecrd gc --help") {
		t.Fatalf("gc --listen: %v", err)
	}
	// gc ignores ECRD_LISTEN, which it does not read.
	if _, err := config.Load("gc", nil, env); err != nil {
		t.Fatalf("gc with a bad ECRD_LISTEN: %v", err)
	}
	file := writeFile(t, "listen = \"127.0.0.1:7002\"\ngc-grace = \"1h\"\nregion = \"eu-west-1\"\n")
	c, err := config.Load("gc", []string{"--config", file}, envOf(map[string]string{"HOME": t.TempDir()}))
	if err != nil || c.Images.GCGrace != time.Hour || c.Identity.Region != "us-east-1" {
		t.Fatalf("gc with serve's file: grace %s region %s, %v", c.Images.GCGrace, c.Identity.Region, err)
	}
	if _, err := config.Load("serve", []string{"--help"}, env); !errors.Is(err, config.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, cmd := range []string{"serve", "gc", "health"} {
		var b strings.Builder
		config.Usage(&b, cmd)
		if !strings.HasPrefix(b.String(), "Usage: ecrd "+cmd+" [flags]") {
			t.Errorf("usage of %s: %q", cmd, b.String()[:40])
		}
		if cmd == "gc" && strings.Contains(b.String(), "--listen") {
			t.Errorf("gc's usage lists --listen")
		}
	}
}

// TestFormerDataDir: a registry in ./ecrd-data, the default of earlier
// versions, is pointed out when the new default is in use, and only then.
func TestFormerDataDir(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	env := envOf(map[string]string{"HOME": t.TempDir()})
	c, err := config.Load("serve", nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.FormerDataDir(); ok {
		t.Fatal("no ./ecrd-data, yet one is pointed out")
	}
	if err := os.MkdirAll(filepath.Join(wd, "ecrd-data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wd, "ecrd-data", "metadata.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if old, ok := c.FormerDataDir(); !ok || old != filepath.Join(wd, "ecrd-data") {
		t.Fatalf("FormerDataDir = %q, %v", old, ok)
	}
	c, err = config.Load("serve", []string{"--data-dir", "elsewhere"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.FormerDataDir(); ok {
		t.Fatal("pointed out although --data-dir was given")
	}
}
