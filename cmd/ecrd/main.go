// Command ecrd is an Amazon ECR–compatible container registry.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ecrd/ecrd/internal/app"
	"github.com/ecrd/ecrd/internal/blobstore/s3"
	"github.com/ecrd/ecrd/internal/buildinfo"
	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/lifecycle"
	"github.com/ecrd/ecrd/internal/migrate"
	"github.com/ecrd/ecrd/internal/scan"
)

const usage = `ecrd: an Amazon ECR-compatible container registry

Usage:
  ecrd serve [flags]    run the registry (ecrd serve --help lists its flags)
  ecrd gc [flags]       collect unused layers and blobs once (ecrd gc --help)
  ecrd health [flags]   check that the server answers, for container health checks
  ecrd migrate [flags]  copy an embedded registry into PostgreSQL and S3 (ecrd migrate --help)
  ecrd lifecycle run [flags]
                        apply every lifecycle policy once, as of now or --at (ecrd lifecycle run --help)
  ecrd vuln-db check --vuln-db DIR
                        read the scanner's OSV vulnerability database and say what it holds
  ecrd version          print the version, commit and Go version
  ecrd --help           show this help
`

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)) }

// run is main with its dependencies passed in; it returns the exit status:
// 0 on success, 2 for usage and start-up problems, 1 for failures while
// serving (and an unhealthy server).
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, buildinfo.Read())
		return 0
	case "serve":
		return serve(args[1:], getenv, stdout, stderr)
	case "gc":
		return gc(args[1:], getenv, stdout, stderr)
	case "health":
		return health(args[1:], getenv, stdout, stderr)
	case "migrate":
		return runMigrate(args[1:], getenv, stdout, stderr)
	case "lifecycle":
		if len(args) < 2 || args[1] != "run" {
			fmt.Fprintf(stderr, "ecrd lifecycle: the command is ecrd lifecycle run [flags]\n\n%s", usage)
			return 2
		}
		return lifecycleRun(args[2:], getenv, stdout, stderr)
	case "vuln-db":
		if len(args) < 2 || args[1] != "check" {
			fmt.Fprintf(stderr, "ecrd vuln-db: the command is ecrd vuln-db check --vuln-db DIR\n\n%s", usage)
			return 2
		}
		return vulnDBCheck(args[2:], getenv, stdout, stderr)
	}
	fmt.Fprintf(stderr, "ecrd: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// load reads a subcommand's settings. It returns ok false with the exit
// status when the command should stop: help was asked for (printed to
// stdout), or the settings are wrong (each problem printed once).
func load(cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) (config.Config, int, bool) {
	cfg, err := config.Load(cmd, args, getenv)
	if errors.Is(err, config.ErrHelp) {
		config.Usage(stdout, cmd)
		return cfg, 0, false
	}
	if err != nil {
		fmt.Fprintf(stderr, "ecrd %s: %v\n", cmd, err)
		return cfg, 2, false
	}
	return cfg, 0, true
}

// newLogger is the log --log-format and --log-level ask for, on w.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: config.LogLevels[c.Level]}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, status, ok := load("serve", args, getenv, stdout, stderr)
	if !ok {
		return status
	}
	log := newLogger(cfg.Log, stderr)
	if old, ok := cfg.FormerDataDir(); ok {
		log.Warn("found a registry in ./ecrd-data, the default data dir of earlier versions; serving the new default instead: pass --data-dir "+old+" to keep serving it",
			"data_dir", cfg.Store.DataDir)
	}
	a, err := app.New(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "ecrd serve: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := a.Run(ctx); err != nil {
		log.Error("ecrd stopped with an error", "err", err)
		return 1
	}
	log.Info("ecrd stopped")
	return 0
}

// maintain opens the stores for a one-off command (gc, lifecycle run)
// and runs fn on them. It is safe while a server runs on the same stores:
// both go through the store's transactions. It serves nothing: whatever
// listeners a server holds, it binds a throwaway loopback port and no
// public listener.
func maintain(name string, cfg config.Config, stderr io.Writer, fn func(a *app.App) error) int {
	cfg.Server.Listen, cfg.Public.Listen, cfg.Server.DebugListen = "127.0.0.1:0", config.PublicOff, ""
	a, err := app.New(cfg, newLogger(cfg.Log, stderr), app.NotServing())
	if err != nil {
		fmt.Fprintf(stderr, "ecrd %s: %v\n", name, err)
		return 2
	}
	defer a.Close()
	if err := fn(a); err != nil {
		fmt.Fprintf(stderr, "ecrd %s: %v\n", name, err)
		return 1
	}
	return 0
}

// gc runs one garbage collection over the stores and exits.
func gc(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, status, ok := load("gc", args, getenv, stdout, stderr)
	if !ok {
		return status
	}
	return maintain("gc", cfg, stderr, func(a *app.App) error {
		st, err := a.CollectGarbage(context.Background())
		if err == nil {
			fmt.Fprintf(stdout, "removed %d unused layer records and %d blobs (%d bytes)\n", st.Layers, st.Blobs, st.Bytes)
		}
		return err
	})
}

// lifecycleRun applies every repository's lifecycle policy once, as of
// --at, and exits.
func lifecycleRun(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, status, ok := load("lifecycle", args, getenv, stdout, stderr)
	if !ok {
		return status
	}
	return maintain("lifecycle run", cfg, stderr, func(a *app.App) error {
		st, err := a.RunLifecycle(context.Background(), lifecycle.RunOptions{At: cfg.Lifecycle.AtTime()})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "evaluated %d repositories: %d images expired, %d archived, %d changed since evaluated and left\n",
			st.Repositories, st.Expired, st.Archived, st.Skipped)
		if st.FailedRepositories > 0 {
			return fmt.Errorf("%d repositories failed, the last: %w", st.FailedRepositories, st.LastFailure)
		}
		return nil
	})
}

// vulnDBCheck reads --vuln-db as ecrd serve would and says what it holds:
// a database that does not load fails, naming the entry.
func vulnDBCheck(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, status, ok := load("vuln-db", args, getenv, stdout, stderr)
	if !ok {
		return status
	}
	if cfg.Scan.VulnDB == "" {
		fmt.Fprintln(stderr, "ecrd vuln-db check: --vuln-db DIR is required")
		return 2
	}
	db, err := scan.LoadDB(cfg.Scan.VulnDB)
	if err != nil {
		fmt.Fprintf(stderr, "ecrd vuln-db check: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d entries, version %s, updated %s\ndistributions: %s\n", db.Entries, db.Version,
		db.UpdatedAt.UTC().Format(time.RFC3339), strings.Join(db.Ecosystems, " "))
	return 0
}

// health asks the server on --listen for /healthz: the health check of
// the container image, which has no curl. With TLS on it speaks HTTPS
// without verifying the certificate, which names the registry's public
// host, not the loopback address asked: this checks that the server
// answers, not who it is.
func health(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, status, ok := load("health", args, getenv, stdout, stderr)
	if !ok {
		return status
	}
	host, port, _ := net.SplitHostPort(cfg.Server.Listen)
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme, client := "http", &http.Client{Timeout: 5 * time.Second}
	if cfg.Server.TLSCert != "" {
		scheme = "https"
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	}
	url := scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
	res, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(stderr, "ecrd health: %v\n", err)
		return 1
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "ecrd health: %s answered %s: %s\n", url, res.Status, body)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %s", url, body)
	return 0
}

// runMigrate copies the embedded registry of --from-data-dir into the
// scale-out stores, showing progress on stderr: a bar redrawn in place on
// a terminal, plain lines otherwise. SIGINT stops it; run again to resume.
func runMigrate(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, status, ok := load("migrate", args, getenv, stdout, stderr)
	if !ok {
		return status
	}
	b := cfg.Store.S3
	o := migrate.Options{DataDir: cfg.Migrate.FromDataDir, PostgresDSN: cfg.Migrate.ToPostgres, Progress: stderr,
		S3: s3.Options{Bucket: b.Bucket, Prefix: b.Prefix, Endpoint: b.Endpoint, Region: b.Region,
			PathStyle: b.PathStyle, AccessKey: b.AccessKey, SecretKey: b.SecretKey}}
	if f, ok := stderr.(*os.File); ok {
		fi, err := f.Stat()
		o.Terminal = err == nil && fi.Mode()&os.ModeCharDevice != 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	sum, err := migrate.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "ecrd migrate: %v\n", err)
		return 1
	}
	if sum.AlreadyMigrated {
		fmt.Fprintf(stdout, "the database holds this registry already; checked its %d blobs (%d copied, %d bytes)\n", sum.Blobs, sum.Copied, sum.CopiedBytes)
		return 0
	}
	fmt.Fprintf(stdout, "migrated %d records and %d blobs (%d bytes; %d blobs, %d bytes copied by this run) in %s\n",
		sum.Records, sum.Blobs, sum.Bytes, sum.Copied, sum.CopiedBytes, sum.Elapsed.Round(time.Millisecond))
	return 0
}
