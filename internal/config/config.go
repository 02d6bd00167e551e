// Package config holds ecrd's typed configuration: defaults, loading from
// flags, environment variables and a config file, and validation that
// reports every problem at once, each naming where its value came from.
package config

import (
	"log/slog"
	"net"
	"strconv"
	"time"
)

// Config is everything `ecrd serve` needs.
type Config struct {
	Server    Server
	Store     Store
	Identity  Identity
	Uploads   Uploads
	Images    Images
	Auth      Auth
	Public    Public
	Bodies    Bodies
	Log       Log
	Migrate   Migrate
	Lifecycle Lifecycle
	// PullThrough is where the pull through cache reaches its upstreams
	// and reads their credentials.
	PullThrough PullThrough
	// Replication is where other regions' ecrd instances are and how
	// often the due replications are looked for.
	Replication Replication
	// Scan is the image scanner's vulnerability database and pace.
	Scan Scan
	// Signing is managed signing's keys and pace.
	Signing Signing

	// origins says where each setting's value came from (a flag, an
	// environment variable or a config file key), by setting name, so that
	// an error about a value can name it; Load fills it in. A setting not
	// in it has its default (or was set in code).
	origins map[string]string
}

// Signing configures managed signing.
type Signing struct {
	// KeysFile maps signing profile ARNs to key and certificate files
	// ("": no keys, and every signing fails SIGNING_PROFILE_NOT_CONFIGURED).
	KeysFile string
	// Interval is how often due signings are looked for (0 turns signing
	// off in this process).
	Interval time.Duration
}

// Scan configures the image scanner.
type Scan struct {
	// VulnDB is the directory of the OSV database ("": none, and scans
	// end FINDINGS_UNAVAILABLE).
	VulnDB string
	// Concurrency bounds the scans a process makes at once.
	Concurrency int
	// Interval is how often due scans are looked for (0 turns scanning off
	// in this process); DBInterval how often VulnDB is checked for changes.
	Interval   time.Duration
	DBInterval time.Duration
}

// Replication configures the replicator.
type Replication struct {
	// Regions are the other regions' ecrd instances, with the keys the
	// replication signs with there (<region>=http(s)://KEY:SECRET@host,
	// ...; see replication.ParseRegions).
	Regions string
	// Interval is how often the due replications are looked for (0 turns
	// replication off in this process; others over the store still run it).
	Interval time.Duration
}

// PullThrough configures the pull through cache.
type PullThrough struct {
	// Upstreams maps upstream registry URLs, as rules name them, to the
	// base URLs ecrd reaches them at (<url>=<base>,...; see
	// pullthrough.ParseUpstreams); an upstream not listed is reached at
	// https://<its URL>.
	Upstreams string
	// SecretsFile holds the upstreams' credentials by secret ARN, where
	// ECR reads Secrets Manager; "" has none.
	SecretsFile string
}

// Migrate is what `ecrd migrate` copies where: the embedded registry in
// FromDataDir into the PostgreSQL database ToPostgres and the bucket of
// Store.S3.
type Migrate struct {
	FromDataDir string
	ToPostgres  string
}

// Lifecycle configures the application of lifecycle policies.
type Lifecycle struct {
	// Interval is how often a server applies every repository's policy (0:
	// never in the background; `ecrd lifecycle run` still does).
	Interval time.Duration
	// At is the RFC 3339 time `ecrd lifecycle run` evaluates the policies
	// as of ("": now).
	At string
}

// AtTime is At parsed; the zero time when At is empty. Validate has
// checked that it parses.
func (l Lifecycle) AtTime() time.Time {
	t, _ := time.Parse(time.RFC3339, l.At)
	return t
}

// Log configures the server's log.
type Log struct {
	// Format is "text" (logfmt) or "json".
	Format string
	// Level is the least severe level written: debug, info, warn or error.
	// Health checks and metrics scrapes are logged at debug.
	Level string
}

// Origin names where the setting called name got its value, for messages
// about it: "--listen", "ECRD_LISTEN" or "/etc/ecrd/ecrd.toml: listen"
// ("--listen" too when it has its default).
func (c Config) Origin(name string) string {
	if o, ok := c.origins[name]; ok {
		return o
	}
	return "--" + name
}

// Bodies bounds the request bodies of the AWS APIs (and /v2/ manifests)
// held at once. An AWS request's body is received whole before its
// signature can be checked, so these bytes are held for callers not yet
// known: an unsigned flood must not exhaust memory or disk.
type Bodies struct {
	// Memory is the most memory request bodies (and decoding them) may
	// hold at once, before and after authentication. A 20 MiB
	// UploadLayerPart holds about 54 MiB.
	Memory int64
	// Pending is the most bytes of bodies, not yet authenticated, that
	// may be spooled to the data dir when Memory is full.
	Pending int64
	// Wait is how long a request waits for room before it is answered
	// ThrottlingException (which the AWS SDKs retry) or, on /v2/, 429.
	Wait time.Duration
}

// Public configures ECR Public: the public registries and the listener
// that serves their /v2/ namespace, where anyone may pull.
type Public struct {
	// Listen is the host:port of the public /v2/ listener; empty means
	// the --listen host with the next port (port 0 stays 0), and "off"
	// turns ECR Public off.
	Listen string
	// Hostname is the host[:port] in public repository URIs; empty means
	// the public listener's address.
	Hostname string
	// Alias is the registry alias of the --account-id account's public
	// registry; other accounts get ecrd-<account ID>.
	Alias string
}

// PublicOff is the --public-listen value that turns ECR Public off.
const PublicOff = "off"

// PublicListen returns the address of the public /v2/ listener, and false
// when ECR Public is off.
func (c Config) PublicListen() (string, bool) {
	switch c.Public.Listen {
	case PublicOff:
		return "", false
	case "":
		host, port, err := net.SplitHostPort(c.Server.Listen)
		if err != nil {
			return "", false
		}
		n, err := strconv.Atoi(port)
		if err != nil {
			return "", false
		}
		if n != 0 {
			n++
		}
		return net.JoinHostPort(host, strconv.Itoa(n)), true
	}
	return c.Public.Listen, true
}

// PublicAlias returns the alias of an account's public registry.
func (c Config) PublicAlias(account string) string {
	if account == c.Identity.AccountID {
		return c.Public.Alias
	}
	return "ecrd-" + account
}

// Images configures the image lifecycle.
type Images struct {
	// RestoreDelay is how long a restored image stays ACTIVATING.
	RestoreDelay time.Duration
	// GCInterval is how often unused layers and blobs are collected (0: never
	// in the background; `ecrd gc` still runs a collection).
	GCInterval time.Duration
	// GCGrace is how old an unused layer or blob must be to be collected.
	GCGrace time.Duration
	// CreateOnPush makes a push to a missing repository create it with
	// default settings, as a ROOT CREATE_ON_PUSH template would, where no
	// stored template applies (ECR refuses such pushes).
	CreateOnPush bool
}

// Server configures the HTTP listener.
type Server struct {
	// Listen is the host:port to listen on.
	Listen string
	// Hostname is the host[:port] clients reach the registry at; it
	// appears in repositoryUri. Empty means the listen address.
	Hostname string
	// RegistryDomain, when set, makes the host <account>.<domain> (with
	// Hostname's port) address that account's private registry on /v2/,
	// as <account>.dkr.ecr.<region>.amazonaws.com does ECR's, and names
	// it in repositoryUri and proxyEndpoint. Empty: /v2/ serves the
	// caller's registry, whatever the host.
	RegistryDomain string
	// TrustedProxies are addresses and CIDR prefixes (comma-separated)
	// of the load balancers in front of ecrd: from them, X-Forwarded-For
	// names the client (aws:SourceIp) and X-Forwarded-Proto whether it
	// used TLS (aws:SecureTransport). Empty: every request's source is
	// its peer.
	TrustedProxies string
	// ShutdownTimeout bounds how long in-flight requests may drain.
	ShutdownTimeout time.Duration
	// DebugListen, when set, is a host:port serving Go's profiles
	// (/debug/pprof/) for diagnosing performance; off by default.
	DebugListen string
	// HeaderTimeout bounds the time to receive a request's headers, on
	// the main and the public listener.
	HeaderTimeout time.Duration
	// StallTimeout is the progress window of request and response bodies
	// on both listeners: for every 16 KiB moved (or the rest of the body)
	// the server waits on the client at most this long, so the slowest
	// upload allowed is 16 KiB per StallTimeout (a download: about 64 KiB,
	// the granularity at which the kernel reports a reader's progress).
	StallTimeout time.Duration
	// MaxConnections caps the open connections of each listener, idle
	// keep-alive ones included; at the cap new clients wait in the
	// kernel's backlog.
	MaxConnections int
	// Metrics serves Prometheus metrics at /metrics on the main listener,
	// to anyone who can reach it (they are always on --debug-listen).
	Metrics bool
	// TLSCert and TLSKey are the PEM files of the certificate (with its
	// chain) and key both listeners serve HTTPS with; empty serves plain
	// HTTP. They are read again on SIGHUP and when the files change.
	TLSCert string
	TLSKey  string
	// TLSAtProxy says that clients reach ecrd through a proxy or load
	// balancer that ends TLS, so the URLs ecrd hands out for itself
	// (proxyEndpoint, download URLs, /v2/ realms) must say https://
	// though ecrd itself serves plain HTTP.
	TLSAtProxy bool
}

// Store configures where state is kept.
type Store struct {
	// DataDir holds the metadata database and the blobs of the embedded
	// stores; with the scale-out stores it is local scratch only (the
	// request spool, the instance locks).
	DataDir string
	// Meta is the metadata store: "sqlite" (in DataDir) or "postgres".
	Meta string
	// PostgresDSN is the connection string of --meta postgres.
	PostgresDSN string
	// PostgresMaxConns bounds the connection pool of --meta postgres.
	PostgresMaxConns int
	// Blob is the blob store: "fs" (in DataDir) or "s3".
	Blob string
	S3   S3
	// BlobRedirect answers blob downloads with presigned URLs of the
	// bucket (307 for /v2/, GetDownloadUrlForLayer's downloadUrl), so
	// that the bytes bypass ecrd; --blob s3 only.
	BlobRedirect bool
}

// S3 configures --blob s3. Its keys come from ECRD_S3_ACCESS_KEY and
// ECRD_S3_SECRET_KEY, else the AWS SDK's default chain: never flags, which
// other users of the machine could read.
type S3 struct {
	Bucket    string
	Prefix    string
	Endpoint  string
	Region    string
	PathStyle bool
	AccessKey string
	SecretKey string
}

// Metadata and blob store kinds.
const (
	MetaSQLite   = "sqlite"
	MetaPostgres = "postgres"
	BlobFS       = "fs"
	BlobS3       = "s3"
)

// Identity is the AWS identity the registry answers as.
type Identity struct {
	Region    string
	AccountID string
}

// Uploads configures layer uploads.
type Uploads struct {
	// Expiry is how long an idle upload lives before its bytes are reclaimed.
	Expiry time.Duration
}

// Auth configures how requests are authenticated.
type Auth struct {
	// Mode is "sigv4" (every ECR API request must be signed by a known
	// key) or "none" (anyone acts as the configured account; local use only).
	Mode string
	// CredentialsFile lists the accounts and their keys; empty means one
	// account (Identity.AccountID) with the key test/test.
	CredentialsFile string
	// TokenTTL is how long GetAuthorizationToken's tokens are valid.
	TokenTTL time.Duration
}

// Default returns the configuration `ecrd serve` runs with when given
// nothing, but for the data dir, whose default depends on the user (see
// DefaultDataDir) and is filled in by Load.
func Default() Config {
	return Config{
		Server: Server{Listen: "127.0.0.1:5000", ShutdownTimeout: 30 * time.Second,
			HeaderTimeout: 20 * time.Second, StallTimeout: 30 * time.Second, MaxConnections: 1024},
		Store:       Store{Meta: MetaSQLite, PostgresMaxConns: 16, Blob: BlobFS, S3: S3{Region: "us-east-1"}},
		Identity:    Identity{Region: "us-east-1", AccountID: "000000000000"},
		Uploads:     Uploads{Expiry: 24 * time.Hour},
		Images:      Images{RestoreDelay: 5 * time.Second, GCInterval: time.Hour, GCGrace: 24 * time.Hour},
		Lifecycle:   Lifecycle{Interval: time.Hour},
		Replication: Replication{Interval: time.Second},
		Scan:        Scan{Concurrency: 2, Interval: time.Second, DBInterval: time.Minute},
		Signing:     Signing{Interval: time.Second},
		Auth:        Auth{Mode: "sigv4", TokenTTL: 12 * time.Hour},
		Public:      Public{Alias: "ecrd"},
		Bodies:      Bodies{Memory: 128 << 20, Pending: 256 << 20, Wait: 10 * time.Second},
		Log:         Log{Format: "text", Level: "info"},
	}
}

// AdvertisedHost returns the host clients are told to use.
func (c Config) AdvertisedHost() string {
	if c.Server.Hostname != "" {
		return c.Server.Hostname
	}
	return c.Server.Listen
}

// LogLevels are the --log-level names and the slog levels they mean.
var LogLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}
