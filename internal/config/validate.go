package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/pullthrough"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/replication"
)

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Validate returns every problem with c, joined, or nil. Each names the
// setting by where its value came from (Origin).
func (c Config) Validate() error { return c.validate(cmdServe) }

// validate checks the settings the subcommands of cmds read.
func (c Config) validate(cmds cmdSet) error {
	var errs []error
	bad := func(name string, format string, args ...any) {
		if s, ok := lookup(name); ok && s.cmds&cmds == 0 {
			return
		}
		errs = append(errs, fmt.Errorf("%s %s", c.Origin(name), fmt.Sprintf(format, args...)))
	}
	hostPort := func(name, v, example string) {
		if _, _, err := net.SplitHostPort(v); err != nil {
			bad(name, "%q: want host:port, such as %s", v, example)
		}
	}
	hostPort("listen", c.Server.Listen, "127.0.0.1:5000")
	if l := c.Server.DebugListen; l != "" {
		hostPort("debug-listen", l, "127.0.0.1:6060")
	}
	if h := c.Server.Hostname; h != "" && strings.ContainsAny(h, "/ ") {
		bad("hostname", "%q: want host or host:port, without scheme or path", h)
	}
	if d := c.Server.RegistryDomain; d != "" && !domainRE.MatchString(d) {
		bad("registry-domain", "%q: want a DNS name such as dkr.ecr.localhost, without port, scheme or path (the port is --hostname's)", d)
	}
	if _, err := auth.ParseProxies(c.Server.TrustedProxies); err != nil {
		bad("trusted-proxies", "%v", err)
	}
	if _, err := pullthrough.ParseUpstreams(c.PullThrough.Upstreams); err != nil {
		bad("pull-through-upstreams", "%v", err)
	}
	if _, err := replication.ParseRegions(c.Replication.Regions); err != nil {
		bad("replication-regions", "%v", err)
	}
	if c.Store.DataDir == "" {
		bad("data-dir", "must not be empty (its default, ~/.local/share/ecrd, needs HOME or XDG_DATA_HOME)")
	}
	switch c.Store.Meta {
	case MetaSQLite:
	case MetaPostgres:
		if c.Store.PostgresDSN == "" {
			bad("postgres-dsn", "must be given with %s %s", c.Origin("meta"), MetaPostgres)
		}
	default:
		bad("meta", "%q: want sqlite or postgres", c.Store.Meta)
	}
	if n := c.Store.PostgresMaxConns; n < 1 || n > 10_000 {
		bad("postgres-max-conns", "%d: must be between 1 and 10000", n)
	}
	// checkS3 checks the bucket settings of --blob s3 and ecrd migrate;
	// need says why the bucket must be given.
	checkS3 := func(need string) {
		if c.Store.S3.Bucket == "" {
			bad("s3-bucket", "must be given %s", need)
		}
		if e := c.Store.S3.Endpoint; e != "" && !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
			bad("s3-endpoint", "%q: want an http:// or https:// URL", e)
		}
		if (c.Store.S3.AccessKey == "") != (c.Store.S3.SecretKey == "") {
			errs = append(errs, errors.New("ECRD_S3_ACCESS_KEY and ECRD_S3_SECRET_KEY: give both, or neither for the AWS SDK's default credentials"))
		}
	}
	switch c.Store.Blob {
	case BlobFS:
	case BlobS3:
		checkS3(fmt.Sprintf("with %s %s", c.Origin("blob"), BlobS3))
	default:
		bad("blob", "%q: want fs or s3", c.Store.Blob)
	}
	if c.Store.BlobRedirect && c.Store.Blob != BlobS3 {
		bad("blob-redirect", "needs %s %s: only S3 can hand out download URLs", c.Origin("blob"), BlobS3)
	}
	if cmds&cmdMigrate != 0 {
		if c.Migrate.FromDataDir == "" {
			bad("from-data-dir", "must be given: the data dir of the embedded registry to copy")
		}
		if c.Migrate.ToPostgres == "" {
			bad("to-postgres", "must be given: the PostgreSQL database to copy the metadata into")
		}
		checkS3("to name the bucket the blobs are copied into")
	}
	if !regionPattern.MatchString(c.Identity.Region) {
		bad("region", "%q: want an AWS region name such as us-east-1", c.Identity.Region)
	}
	if !accountPattern.MatchString(c.Identity.AccountID) {
		bad("account-id", "%q: want 12 digits", c.Identity.AccountID)
	}
	if c.Uploads.Expiry < time.Minute {
		bad("upload-expiry", "%s: must be at least 1m", c.Uploads.Expiry)
	}
	if c.Images.RestoreDelay < 0 || c.Images.RestoreDelay > 24*time.Hour {
		bad("restore-delay", "%s: must be between 0 and 24h", c.Images.RestoreDelay)
	}
	if c.Signing.Interval < 0 {
		bad("signing-interval", "%s: must not be negative", c.Signing.Interval)
	}
	if c.Scan.Interval < 0 {
		bad("scan-interval", "%s: must not be negative", c.Scan.Interval)
	}
	if c.Scan.DBInterval <= 0 {
		bad("vuln-db-interval", "%s: must be positive", c.Scan.DBInterval)
	}
	if c.Scan.Concurrency < 1 {
		bad("scan-concurrency", "%d: must be at least 1", c.Scan.Concurrency)
	}
	if c.Lifecycle.Interval < 0 {
		bad("lifecycle-interval", "%s: must not be negative", c.Lifecycle.Interval)
	}
	if _, err := time.Parse(time.RFC3339, c.Lifecycle.At); c.Lifecycle.At != "" && err != nil {
		bad("at", "%q: not an RFC 3339 time such as 2027-06-01T00:00:00Z", c.Lifecycle.At)
	}
	if c.Images.GCInterval < 0 {
		bad("gc-interval", "%s: must not be negative", c.Images.GCInterval)
	}
	if c.Images.GCGrace < 0 {
		bad("gc-grace", "%s: must not be negative", c.Images.GCGrace)
	}
	if c.Auth.Mode != "sigv4" && c.Auth.Mode != "none" {
		bad("auth", "%q: want sigv4 or none", c.Auth.Mode)
	}
	if c.Auth.TokenTTL < time.Minute || c.Auth.TokenTTL > 7*24*time.Hour {
		bad("token-ttl", "%s: must be between 1m and 168h", c.Auth.TokenTTL)
	}
	if l := c.Public.Listen; l != "" && l != PublicOff {
		if _, _, err := net.SplitHostPort(l); err != nil {
			bad("public-listen", "%q: want host:port, or off", l)
		}
	}
	if h := c.Public.Hostname; h != "" && strings.ContainsAny(h, "/ ") {
		bad("public-hostname", "%q: want host or host:port, without scheme or path", h)
	}
	if _, err := registry.ParseRegistryAlias(c.Public.Alias); err != nil {
		bad("public-alias", "%q: want 2 to 50 characters matching [a-z][a-z0-9]+([._-][a-z0-9]+)*", c.Public.Alias)
	}
	if (c.Server.TLSCert == "") != (c.Server.TLSKey == "") {
		errs = append(errs, fmt.Errorf("%s and %s: give both, or neither for plain HTTP", c.Origin("tls-cert"), c.Origin("tls-key")))
	}
	if c.Server.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "%s: must be positive", c.Server.ShutdownTimeout)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log-format", "%q: want text or json", c.Log.Format)
	}
	if _, ok := LogLevels[c.Log.Level]; !ok {
		bad("log-level", "%q: want debug, info, warn or error", c.Log.Level)
	}

	// Limits and timeouts of the listeners.
	if d := c.Server.HeaderTimeout; d < time.Second || d > 10*time.Minute {
		bad("header-timeout", "%s: must be between 1s and 10m", d)
	}
	if d := c.Server.StallTimeout; d < time.Second || d > time.Hour {
		bad("stall-timeout", "%s: must be between 1s and 1h", d)
	}
	if n := c.Server.MaxConnections; n < 1 || n > 1_000_000 {
		bad("max-connections", "%d: must be between 1 and 1000000", n)
	}

	// Request bodies held at once: room for at least one largest
	// UploadLayerPart (about 27 MiB of JSON, 54 MiB with its decoding).
	if n := c.Bodies.Memory; n < 64<<20 {
		bad("body-memory", "%s: must be at least 64MiB (one UploadLayerPart of 20 MiB holds about 54 MiB)", FormatSize(n))
	}
	if n := c.Bodies.Pending; n < 32<<20 {
		bad("pending-bodies", "%s: must be at least 32MiB (one UploadLayerPart body)", FormatSize(n))
	}
	if d := c.Bodies.Wait; d < 0 || d > 10*time.Minute {
		bad("body-wait", "%s: must be between 0 and 10m", d)
	}
	return errors.Join(errs...)
}

// domainRE is a DNS name of at least one label, lower case.
var domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
