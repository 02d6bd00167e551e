package config

import (
	"fmt"
	"strconv"
	"time"
)

// A setting is one configurable value, reachable three ways: the flag
// --<name>, the environment variable env, and the key <name> of a config
// file. One table of them drives parsing, precedence, error messages and
// usage, so the three cannot drift apart.
type setting struct {
	name string
	env  string
	// arg names the value in usage (HOST:PORT, DUR, ...).
	arg  string
	help string
	kind kind
	// field points into a Config at the value: *string, *time.Duration,
	// *bool, *int or *int64, as kind says.
	field func(*Config) any
	// cmds are the subcommands that read the setting.
	cmds cmdSet
}

type kind int

const (
	kindString kind = iota
	// kindPath is a string naming a file or directory; a relative one in
	// a config file is relative to the file's directory.
	kindPath
	kindDuration
	kindBool
	kindInt
	kindSize
)

// cmdSet is a set of subcommands.
type cmdSet int

const (
	cmdServe cmdSet = 1 << iota
	cmdGC
	cmdHealth
	cmdMigrate
	cmdLifecycle
	cmdVulnDB

	cmdAll = cmdServe | cmdGC | cmdHealth | cmdMigrate | cmdLifecycle | cmdVulnDB
	// cmdStores are the commands that open the stores.
	cmdStores = cmdServe | cmdGC | cmdLifecycle
)

// commands maps a subcommand's name to its bit.
var commands = map[string]cmdSet{"serve": cmdServe, "gc": cmdGC, "health": cmdHealth, "migrate": cmdMigrate, "lifecycle": cmdLifecycle, "vuln-db": cmdVulnDB}

// configSetting is --config: where the file is, so not itself a file key.
const configSetting = "config"

// settings is every setting, in the order usage lists them.
var settings = []setting{
	{configSetting, "ECRD_CONFIG", "FILE", "TOML file of settings, keyed by these flags' names; flags and environment variables override it", kindPath, nil, cmdAll},

	{"listen", "ECRD_LISTEN", "HOST:PORT", "address to listen on", kindString, func(c *Config) any { return &c.Server.Listen }, cmdServe | cmdHealth},
	{"hostname", "ECRD_HOSTNAME", "HOST[:PORT]", "host clients reach ecrd at, shown in repositoryUri (default: the listen address)", kindString, func(c *Config) any { return &c.Server.Hostname }, cmdServe},
	{"registry-domain", "ECRD_REGISTRY_DOMAIN", "DOMAIN", "with it, /v2/ requests to the host <account>.DOMAIN address that account's registry (cross-account pulls and pushes, as <account>.dkr.ecr.<region>.amazonaws.com); repositoryUri and docker login name it (default: off, /v2/ serves the caller's registry)", kindString, func(c *Config) any { return &c.Server.RegistryDomain }, cmdServe},
	{"trusted-proxies", "ECRD_TRUSTED_PROXIES", "CIDR,...", "load balancers whose X-Forwarded-For and X-Forwarded-Proto name the client's address and scheme (aws:SourceIp, aws:SecureTransport); others' are ignored (default: none, the peer is the source)", kindString, func(c *Config) any { return &c.Server.TrustedProxies }, cmdServe},
	{"data-dir", "ECRD_DATA_DIR", "DIR", "directory of the metadata and blobs, created if missing (default: $XDG_DATA_HOME/ecrd, else ~/.local/share/ecrd)", kindPath, func(c *Config) any { return &c.Store.DataDir }, cmdStores},
	{"meta", "ECRD_META", "sqlite|postgres", "metadata store: SQLite in --data-dir, or PostgreSQL at --postgres-dsn (for replicas)", kindString, func(c *Config) any { return &c.Store.Meta }, cmdStores},
	{"postgres-dsn", "ECRD_POSTGRES_DSN", "DSN", "PostgreSQL connection string of --meta postgres, such as postgres://ecrd:PASSWORD@db:5432/ecrd", kindString, func(c *Config) any { return &c.Store.PostgresDSN }, cmdStores},
	{"postgres-max-conns", "ECRD_POSTGRES_MAX_CONNS", "N", "most connections to PostgreSQL this process holds", kindInt, func(c *Config) any { return &c.Store.PostgresMaxConns }, cmdStores},
	{"blob", "ECRD_BLOB", "fs|s3", "blob store: files in --data-dir, or S3-compatible object storage (for replicas)", kindString, func(c *Config) any { return &c.Store.Blob }, cmdStores},
	{"from-data-dir", "ECRD_FROM_DATA_DIR", "DIR", "ecrd migrate: data dir of the embedded registry (SQLite and files) to copy; no server may run on it", kindPath, func(c *Config) any { return &c.Migrate.FromDataDir }, cmdMigrate},
	{"to-postgres", "ECRD_TO_POSTGRES", "DSN", "ecrd migrate: PostgreSQL database to copy the metadata into, empty or holding an earlier run's copy (the blobs go to --s3-bucket)", kindString, func(c *Config) any { return &c.Migrate.ToPostgres }, cmdMigrate},
	{"s3-bucket", "ECRD_S3_BUCKET", "NAME", "bucket of --blob s3, and ecrd migrate's target", kindString, func(c *Config) any { return &c.Store.S3.Bucket }, cmdStores | cmdMigrate},
	{"s3-prefix", "ECRD_S3_PREFIX", "PREFIX", "key prefix of every object ecrd writes, such as ecrd/", kindString, func(c *Config) any { return &c.Store.S3.Prefix }, cmdStores | cmdMigrate},
	{"s3-endpoint", "ECRD_S3_ENDPOINT", "URL", "S3 endpoint of an S3-compatible server (default: AWS's for --s3-region); keys from ECRD_S3_ACCESS_KEY/ECRD_S3_SECRET_KEY, else the AWS SDK's chain", kindString, func(c *Config) any { return &c.Store.S3.Endpoint }, cmdStores | cmdMigrate},
	{"s3-region", "ECRD_S3_REGION", "REGION", "region of the bucket", kindString, func(c *Config) any { return &c.Store.S3.Region }, cmdStores | cmdMigrate},
	{"s3-path-style", "ECRD_S3_PATH_STYLE", "", "address the bucket in the path (most S3-compatible servers), not the host name", kindBool, func(c *Config) any { return &c.Store.S3.PathStyle }, cmdStores | cmdMigrate},
	{"blob-redirect", "ECRD_BLOB_REDIRECT", "", "send blob downloads to presigned S3 URLs (/v2/ GET: 307; GetDownloadUrlForLayer) so the bytes bypass ecrd; --blob s3 only", kindBool, func(c *Config) any { return &c.Store.BlobRedirect }, cmdServe},
	{"region", "ECRD_REGION", "REGION", "AWS region ecrd answers as", kindString, func(c *Config) any { return &c.Identity.Region }, cmdServe},
	{"account-id", "ECRD_ACCOUNT_ID", "ID", "12-digit account of the registry (without --credentials)", kindString, func(c *Config) any { return &c.Identity.AccountID }, cmdServe},
	{"credentials", "ECRD_CREDENTIALS", "FILE", "JSON file of accounts and access keys (default: account --account-id with the key test/test, on loopback only)", kindPath, func(c *Config) any { return &c.Auth.CredentialsFile }, cmdServe},
	{"auth", "ECRD_AUTH", "sigv4|none", "sigv4, or none to accept unsigned requests as --account-id (local use only)", kindString, func(c *Config) any { return &c.Auth.Mode }, cmdServe},
	{"token-ttl", "ECRD_TOKEN_TTL", "DUR", "lifetime of GetAuthorizationToken's tokens (docker login passwords)", kindDuration, func(c *Config) any { return &c.Auth.TokenTTL }, cmdServe},
	{"tls-cert", "ECRD_TLS_CERT", "FILE", "PEM certificate (and chain) both listeners serve HTTPS with, reloaded on SIGHUP and when it changes (default: plain HTTP)", kindPath, func(c *Config) any { return &c.Server.TLSCert }, cmdServe | cmdHealth},
	{"tls-key", "ECRD_TLS_KEY", "FILE", "PEM private key of --tls-cert", kindPath, func(c *Config) any { return &c.Server.TLSKey }, cmdServe | cmdHealth},
	{"tls-at-proxy", "ECRD_TLS_AT_PROXY", "", "TLS ends at a proxy in front of ecrd: the URLs it hands out for itself say https://", kindBool, func(c *Config) any { return &c.Server.TLSAtProxy }, cmdServe},

	{"public-listen", "ECRD_PUBLIC_LISTEN", "HOST:PORT|off", "ECR Public's /v2/ listener, where anyone may pull public repositories; off turns ECR Public off (default: the --listen host, next port)", kindString, func(c *Config) any { return &c.Public.Listen }, cmdServe},
	{"public-hostname", "ECRD_PUBLIC_HOSTNAME", "HOST[:PORT]", "host clients reach the public listener at, shown in public repositoryUri (default: its listen address)", kindString, func(c *Config) any { return &c.Public.Hostname }, cmdServe},
	{"public-alias", "ECRD_PUBLIC_ALIAS", "NAME", "registry alias of the --account-id account's public registry (others get ecrd-<account>)", kindString, func(c *Config) any { return &c.Public.Alias }, cmdServe},

	{"upload-expiry", "ECRD_UPLOAD_EXPIRY", "DUR", "how long an idle layer upload lives before its bytes are reclaimed", kindDuration, func(c *Config) any { return &c.Uploads.Expiry }, cmdServe},
	{"restore-delay", "ECRD_RESTORE_DELAY", "DUR", "how long a restored image stays ACTIVATING before it can be pulled (ECR: up to 20m)", kindDuration, func(c *Config) any { return &c.Images.RestoreDelay }, cmdServe},
	{"create-on-push", "ECRD_CREATE_ON_PUSH", "", "a push to a missing repository creates it as a ROOT CREATE_ON_PUSH template would, instead of being refused as by ECR", kindBool, func(c *Config) any { return &c.Images.CreateOnPush }, cmdServe},
	{"pull-through-upstreams", "ECRD_PULL_THROUGH_UPSTREAMS", "URL=BASE,...", "where the pull through cache reaches an upstream registry a rule names, such as registry-1.docker.io=http://127.0.0.1:5001 (default: https://<its URL>)", kindString, func(c *Config) any { return &c.PullThrough.Upstreams }, cmdServe},
	{"pull-through-secrets", "ECRD_PULL_THROUGH_SECRETS", "FILE", "JSON file of the upstreams' credentials keyed by secret ARN, read where ECR reads Secrets Manager (default: none)", kindPath, func(c *Config) any { return &c.PullThrough.SecretsFile }, cmdServe},
	{"replication-regions", "ECRD_REPLICATION_REGIONS", "REGION=URL,...", "the ecrd instances of the other regions replication rules name, with the source account's keys there: us-west-2=http://KEY:SECRET@west:5000 (default: none)", kindString, func(c *Config) any { return &c.Replication.Regions }, cmdServe},
	{"replication-interval", "ECRD_REPLICATION_INTERVAL", "DUR", "how often this process looks for images due to replicate (0 turns it off here)", kindDuration, func(c *Config) any { return &c.Replication.Interval }, cmdServe},
	{"vuln-db", "ECRD_VULN_DB", "DIR", "the image scanner's vulnerability database: a directory of OSV entries (.json) and zips of them, such as osv.dev's Debian/all.zip and Alpine/all.zip; ecrd vuln-db check reads it (default: none, scans end FINDINGS_UNAVAILABLE)", kindPath, func(c *Config) any { return &c.Scan.VulnDB }, cmdServe | cmdVulnDB},
	{"vuln-db-interval", "ECRD_VULN_DB_INTERVAL", "DUR", "how often the --vuln-db directory is checked for changes, which rescan the images under CONTINUOUS_SCAN rules", kindDuration, func(c *Config) any { return &c.Scan.DBInterval }, cmdServe},
	{"scan-interval", "ECRD_SCAN_INTERVAL", "DUR", "how often this process looks for images due to scan (0 turns scanning off here)", kindDuration, func(c *Config) any { return &c.Scan.Interval }, cmdServe},
	{"scan-concurrency", "ECRD_SCAN_CONCURRENCY", "N", "how many images this process scans at once, each layer streamed", kindInt, func(c *Config) any { return &c.Scan.Concurrency }, cmdServe},
	{"signing-keys", "ECRD_SIGNING_KEYS", "FILE", "managed signing's keys: a JSON object from signing profile ARN to {\"key\": PEM private key file, \"certificates\": PEM chain file} (default: none, signings fail SIGNING_PROFILE_NOT_CONFIGURED)", kindPath, func(c *Config) any { return &c.Signing.KeysFile }, cmdServe},
	{"signing-interval", "ECRD_SIGNING_INTERVAL", "DUR", "how often this process looks for images due to sign (0 turns signing off here)", kindDuration, func(c *Config) any { return &c.Signing.Interval }, cmdServe},
	{"gc-interval", "ECRD_GC_INTERVAL", "DUR", "how often unused layers and blobs are collected in the background (0 turns it off)", kindDuration, func(c *Config) any { return &c.Images.GCInterval }, cmdServe},
	{"lifecycle-interval", "ECRD_LIFECYCLE_INTERVAL", "DUR", "how often the repositories' lifecycle policies are applied in the background (0 turns it off; ECR applies them within 24h)", kindDuration, func(c *Config) any { return &c.Lifecycle.Interval }, cmdServe},
	{"at", "ECRD_LIFECYCLE_AT", "TIME", "ecrd lifecycle run: evaluate the policies as of this RFC 3339 time, such as 2027-06-01T00:00:00Z, to apply now what they would do then (default: now)", kindString, func(c *Config) any { return &c.Lifecycle.At }, cmdLifecycle},
	{"gc-grace", "ECRD_GC_GRACE", "DUR", "how long an unused layer or blob is kept before it is collected", kindDuration, func(c *Config) any { return &c.Images.GCGrace }, cmdServe | cmdGC},

	{"metrics", "ECRD_METRICS", "", "serve Prometheus metrics at /metrics on the main listener, to anyone who reaches it (they are always on --debug-listen)", kindBool, func(c *Config) any { return &c.Server.Metrics }, cmdServe},
	{"debug-listen", "ECRD_DEBUG_LISTEN", "HOST:PORT", "serve Go profiles (/debug/pprof/) and /metrics there (default: off; keep it on loopback)", kindString, func(c *Config) any { return &c.Server.DebugListen }, cmdServe},
	{"log-format", "ECRD_LOG_FORMAT", "text|json", "log lines as logfmt text or as JSON objects", kindString, func(c *Config) any { return &c.Log.Format }, cmdAll},
	{"log-level", "ECRD_LOG_LEVEL", "LEVEL", "least severe level logged: debug (adds health checks and scrapes), info, warn or error", kindString, func(c *Config) any { return &c.Log.Level }, cmdAll},
	{"shutdown-timeout", "ECRD_SHUTDOWN_TIMEOUT", "DUR", "how long in-flight requests may drain on SIGINT/SIGTERM", kindDuration, func(c *Config) any { return &c.Server.ShutdownTimeout }, cmdServe},

	{"header-timeout", "ECRD_HEADER_TIMEOUT", "DUR", "how long a client may take to send a request's headers", kindDuration, func(c *Config) any { return &c.Server.HeaderTimeout }, cmdServe},
	{"stall-timeout", "ECRD_STALL_TIMEOUT", "DUR", "how long the server waits on a client per 16 KiB of a request or response body before cutting it off (30s admits uploads above about 0.5 KiB/s)", kindDuration, func(c *Config) any { return &c.Server.StallTimeout }, cmdServe},
	{"max-connections", "ECRD_MAX_CONNECTIONS", "N", "most connections open at once on each listener, idle keep-alive ones included; more clients wait to be accepted", kindInt, func(c *Config) any { return &c.Server.MaxConnections }, cmdServe},
	{"body-memory", "ECRD_BODY_MEMORY", "SIZE", "most memory AWS API request bodies and /v2/ manifests hold at once, before and after authentication (a 20 MiB UploadLayerPart holds about 54 MiB)", kindSize, func(c *Config) any { return &c.Bodies.Memory }, cmdServe},
	{"pending-bodies", "ECRD_PENDING_BODIES", "SIZE", "most bytes of not yet authenticated request bodies spooled to the data dir when --body-memory is full", kindSize, func(c *Config) any { return &c.Bodies.Pending }, cmdServe},
	{"body-wait", "ECRD_BODY_WAIT", "DUR", "how long a request waits for room under --body-memory/--pending-bodies before ThrottlingException (AWS APIs) or 429 (/v2/)", kindDuration, func(c *Config) any { return &c.Bodies.Wait }, cmdServe},
}

// lookup returns the setting called name.
func lookup(name string) (setting, bool) {
	for _, s := range settings {
		if s.name == name {
			return s, true
		}
	}
	return setting{}, false
}

// set parses v into the setting's field of c. The error says what was
// wanted, not where v came from: the caller knows that.
func (s setting) set(c *Config, v string) error {
	switch p := s.field(c).(type) {
	case *string:
		*p = v
	case *time.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 24h, 90s or 0", v)
		}
		*p = d
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*p = b
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*p = n
	case *int64:
		n, err := ParseSize(v)
		if err != nil {
			return err
		}
		*p = n
	default:
		panic(fmt.Sprintf("config: setting %s has a field of type %T", s.name, p))
	}
	return nil
}

// format writes the setting's value in c as it would be given.
func (s setting) format(c *Config) string {
	switch p := s.field(c).(type) {
	case *string:
		return *p
	case *time.Duration:
		return p.String()
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		return FormatSize(*p)
	}
	return ""
}
