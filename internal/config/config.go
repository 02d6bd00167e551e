// Package config holds ecrd's typed configuration: defaults, loading from
// flags and environment variables, and validation that reports every
// problem at once.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Config is everything `ecrd serve` needs.
type Config struct {
	Server   Server
	Store    Store
	Identity Identity
	Uploads  Uploads
	Images   Images
	Auth     Auth
	Public   Public
	Bodies   Bodies
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
	// CreateOnPush makes a /v2/ push to a missing repository create it
	// with default settings (ECR refuses such pushes).
	CreateOnPush bool
}

// Server configures the HTTP listener.
type Server struct {
	// Listen is the host:port to listen on.
	Listen string
	// Hostname is the host[:port] clients reach the registry at; it
	// appears in repositoryUri. Empty means the listen address.
	Hostname string
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
	// TLSCert and TLSKey are the PEM files of the certificate (with its
	// chain) and key both listeners serve HTTPS with; empty serves plain
	// HTTP. They are read again on SIGHUP and when the files change.
	TLSCert string
	TLSKey  string
}

// Store configures where state is kept.
type Store struct {
	// DataDir holds the metadata database and the blobs.
	DataDir string
}

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

// Default returns the configuration `ecrd serve` runs with when given nothing.
func Default() Config {
	return Config{
		Server: Server{Listen: "127.0.0.1:5000", ShutdownTimeout: 30 * time.Second,
			HeaderTimeout: 20 * time.Second, StallTimeout: 30 * time.Second, MaxConnections: 1024},
		Store:    Store{DataDir: "./ecrd-data"},
		Identity: Identity{Region: "us-east-1", AccountID: "000000000000"},
		Uploads:  Uploads{Expiry: 24 * time.Hour},
		Images:   Images{RestoreDelay: 5 * time.Second, GCInterval: time.Hour, GCGrace: 24 * time.Hour},
		Auth:     Auth{Mode: "sigv4", TokenTTL: 12 * time.Hour},
		Public:   Public{Alias: "ecrd"},
		Bodies:   Bodies{Memory: 128 << 20, Pending: 256 << 20, Wait: 10 * time.Second},
	}
}

// AdvertisedHost returns the host clients are told to use.
func (c Config) AdvertisedHost() string {
	if c.Server.Hostname != "" {
		return c.Server.Hostname
	}
	return c.Server.Listen
}

// Load parses `serve` flags from args, with environment variables (looked up
// through getenv) as fallbacks and Default() beneath both, then validates.
// A flag syntax error is returned alone (flag's usage goes to usage);
// otherwise every problem is returned at once.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet("ecrd serve", flag.ContinueOnError)
	fs.SetOutput(usage)
	str := func(p *string, name, env, help string) {
		if v := getenv(env); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, help+" (env "+env+")")
	}
	dur := func(p *time.Duration, name, env, help string) error {
		if v := getenv(env); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a duration such as 24h", env, v)
			}
			*p = d
		}
		fs.DurationVar(p, name, *p, help+" (env "+env+")")
		return nil
	}
	str(&c.Server.Listen, "listen", "ECRD_LISTEN", "host:port to listen on")
	str(&c.Server.Hostname, "hostname", "ECRD_HOSTNAME", "host[:port] clients use to reach ecrd, shown in repositoryUri (default: the listen address)")
	str(&c.Store.DataDir, "data-dir", "ECRD_DATA_DIR", "directory for metadata and blobs, created if missing")
	str(&c.Identity.Region, "region", "ECRD_REGION", "AWS region ecrd answers as")
	str(&c.Identity.AccountID, "account-id", "ECRD_ACCOUNT_ID", "12-digit AWS account ID of the registry")
	str(&c.Auth.CredentialsFile, "credentials", "ECRD_CREDENTIALS", "JSON file of accounts and access keys (default: account --account-id with key test/test)")
	str(&c.Auth.Mode, "auth", "ECRD_AUTH", "sigv4, or none to accept unsigned requests as the configured account (local use only)")
	str(&c.Server.DebugListen, "debug-listen", "ECRD_DEBUG_LISTEN", "host:port serving Go profiles under /debug/pprof/ and /debug/cpuprofile (default: none; keep it on loopback)")
	str(&c.Public.Listen, "public-listen", "ECRD_PUBLIC_LISTEN", "host:port of the ECR Public /v2/ listener, where anyone may pull public repositories; off turns ECR Public off (default: the --listen host, next port)")
	str(&c.Public.Hostname, "public-hostname", "ECRD_PUBLIC_HOSTNAME", "host[:port] clients use to reach the public listener, shown in public repositoryUri (default: its listen address)")
	str(&c.Server.TLSCert, "tls-cert", "ECRD_TLS_CERT", "PEM certificate (and chain) both listeners serve HTTPS with; reloaded on SIGHUP and when it changes (default: plain HTTP)")
	str(&c.Server.TLSKey, "tls-key", "ECRD_TLS_KEY", "PEM private key of --tls-cert")
	str(&c.Public.Alias, "public-alias", "ECRD_PUBLIC_ALIAS", "registry alias of the --account-id account's public registry (others get ecrd-<account>)")
	var errs []error
	errs = append(errs, dur(&c.Images.RestoreDelay, "restore-delay", "ECRD_RESTORE_DELAY", "how long a restored image stays ACTIVATING before it can be pulled (ECR: up to 20m)"))
	errs = append(errs, dur(&c.Images.GCInterval, "gc-interval", "ECRD_GC_INTERVAL", "how often unused layers and blobs are collected in the background (0 turns it off)"))
	errs = append(errs, dur(&c.Images.GCGrace, "gc-grace", "ECRD_GC_GRACE", "how long an unused layer or blob is kept before it is collected"))
	errs = append(errs, dur(&c.Auth.TokenTTL, "token-ttl", "ECRD_TOKEN_TTL", "how long GetAuthorizationToken's tokens (docker login passwords) are valid"))
	if v := getenv("ECRD_CREATE_ON_PUSH"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ECRD_CREATE_ON_PUSH: %q is not true or false", v))
		}
		c.Images.CreateOnPush = b
	}
	fs.BoolVar(&c.Images.CreateOnPush, "create-on-push", c.Images.CreateOnPush, "create a missing repository when a /v2/ push names it, instead of refusing as ECR does (env ECRD_CREATE_ON_PUSH)")
	errs = append(errs, dur(&c.Uploads.Expiry, "upload-expiry", "ECRD_UPLOAD_EXPIRY", "how long an idle layer upload lives before its bytes are reclaimed"))
	errs = append(errs, dur(&c.Server.ShutdownTimeout, "shutdown-timeout", "ECRD_SHUTDOWN_TIMEOUT", "how long in-flight requests may drain on SIGINT/SIGTERM"))

	// Limits and timeouts of the listeners (main and public).
	errs = append(errs, dur(&c.Server.HeaderTimeout, "header-timeout", "ECRD_HEADER_TIMEOUT", "how long a client may take to send a request's headers"))
	errs = append(errs, dur(&c.Server.StallTimeout, "stall-timeout", "ECRD_STALL_TIMEOUT", "how long the server waits on a client per 16 KiB of a request or response body before cutting it off (30s admits uploads above about 0.5 KiB/s, downloads above about 2 KiB/s)"))
	if v := getenv("ECRD_MAX_CONNECTIONS"); v != "" {
		if n, err := strconv.Atoi(v); err != nil {
			errs = append(errs, fmt.Errorf("ECRD_MAX_CONNECTIONS: %q is not a whole number", v))
		} else {
			c.Server.MaxConnections = n
		}
	}
	fs.IntVar(&c.Server.MaxConnections, "max-connections", c.Server.MaxConnections, "most connections open at once on each listener, idle keep-alive ones included; more clients wait to be accepted (env ECRD_MAX_CONNECTIONS)")

	// Request bodies held at once.
	size := func(p *int64, name, env, help string) {
		if v := getenv(env); v != "" {
			n, err := ParseSize(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
			*p = n
		}
		fs.Func(name, fmt.Sprintf("%s (default %s; env %s)", help, FormatSize(*p), env), func(v string) error {
			n, err := ParseSize(v)
			*p = n
			return err
		})
	}
	size(&c.Bodies.Memory, "body-memory", "ECRD_BODY_MEMORY", "most memory AWS API request bodies and /v2/ manifests hold at once, before and after authentication (a 20 MiB UploadLayerPart holds about 54 MiB)")
	size(&c.Bodies.Pending, "pending-bodies", "ECRD_PENDING_BODIES", "most bytes of not yet authenticated request bodies spooled to the data dir when --body-memory is full")
	errs = append(errs, dur(&c.Bodies.Wait, "body-wait", "ECRD_BODY_WAIT", "how long a request waits for room under --body-memory/--pending-bodies before ThrottlingException (AWS APIs) or 429 (/v2/)"))

	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	errs = append(errs, c.Validate())
	return c, errors.Join(errs...)
}

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Validate returns every problem with c, joined, or nil.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: want host:port, such as 127.0.0.1:5000", c.Server.Listen))
	}
	if l := c.Server.DebugListen; l != "" {
		if _, _, err := net.SplitHostPort(l); err != nil {
			errs = append(errs, fmt.Errorf("--debug-listen %q: want host:port, such as 127.0.0.1:6060", l))
		}
	}
	if h := c.Server.Hostname; h != "" && strings.ContainsAny(h, "/ ") {
		errs = append(errs, fmt.Errorf("--hostname %q: want host or host:port, without scheme or path", h))
	}
	if c.Store.DataDir == "" {
		errs = append(errs, errors.New("--data-dir: must not be empty"))
	}
	if !regionPattern.MatchString(c.Identity.Region) {
		errs = append(errs, fmt.Errorf("--region %q: want an AWS region name such as us-east-1", c.Identity.Region))
	}
	if !accountPattern.MatchString(c.Identity.AccountID) {
		errs = append(errs, fmt.Errorf("--account-id %q: want 12 digits", c.Identity.AccountID))
	}
	if c.Uploads.Expiry < time.Minute {
		errs = append(errs, fmt.Errorf("--upload-expiry %s: must be at least 1m", c.Uploads.Expiry))
	}
	if c.Images.RestoreDelay < 0 || c.Images.RestoreDelay > 24*time.Hour {
		errs = append(errs, fmt.Errorf("--restore-delay %s: must be between 0 and 24h", c.Images.RestoreDelay))
	}
	if c.Images.GCInterval < 0 || c.Images.GCGrace < 0 {
		errs = append(errs, fmt.Errorf("--gc-interval %s, --gc-grace %s: must not be negative", c.Images.GCInterval, c.Images.GCGrace))
	}
	if c.Auth.Mode != "sigv4" && c.Auth.Mode != "none" {
		errs = append(errs, fmt.Errorf("--auth %q: want sigv4 or none", c.Auth.Mode))
	}
	if c.Auth.TokenTTL < time.Minute || c.Auth.TokenTTL > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("--token-ttl %s: must be between 1m and 168h", c.Auth.TokenTTL))
	}
	if l := c.Public.Listen; l != "" && l != PublicOff {
		if _, _, err := net.SplitHostPort(l); err != nil {
			errs = append(errs, fmt.Errorf("--public-listen %q: want host:port, or off", l))
		}
	}
	if h := c.Public.Hostname; h != "" && strings.ContainsAny(h, "/ ") {
		errs = append(errs, fmt.Errorf("--public-hostname %q: want host or host:port, without scheme or path", h))
	}
	if _, err := registry.ParseRegistryAlias(c.Public.Alias); err != nil {
		errs = append(errs, fmt.Errorf("--public-alias %q: want 2 to 50 characters matching [a-z][a-z0-9]+([._-][a-z0-9]+)*", c.Public.Alias))
	}
	if (c.Server.TLSCert == "") != (c.Server.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key: give both, or neither for plain HTTP"))
	}
	if c.Server.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--shutdown-timeout %s: must be positive", c.Server.ShutdownTimeout))
	}

	// Limits and timeouts of the listeners.
	if d := c.Server.HeaderTimeout; d < time.Second || d > 10*time.Minute {
		errs = append(errs, fmt.Errorf("--header-timeout %s: must be between 1s and 10m", d))
	}
	if d := c.Server.StallTimeout; d < time.Second || d > time.Hour {
		errs = append(errs, fmt.Errorf("--stall-timeout %s: must be between 1s and 1h", d))
	}
	if n := c.Server.MaxConnections; n < 1 || n > 1_000_000 {
		errs = append(errs, fmt.Errorf("--max-connections %d: must be between 1 and 1000000", n))
	}

	// Request bodies held at once: room for at least one largest
	// UploadLayerPart (about 27 MiB of JSON, 54 MiB with its decoding).
	if n := c.Bodies.Memory; n < 64<<20 {
		errs = append(errs, fmt.Errorf("--body-memory %s: must be at least 64MiB (one UploadLayerPart of 20 MiB holds about 54 MiB)", FormatSize(n)))
	}
	if n := c.Bodies.Pending; n < 32<<20 {
		errs = append(errs, fmt.Errorf("--pending-bodies %s: must be at least 32MiB (one UploadLayerPart body)", FormatSize(n)))
	}
	if d := c.Bodies.Wait; d < 0 || d > 10*time.Minute {
		errs = append(errs, fmt.Errorf("--body-wait %s: must be between 0 and 10m", d))
	}
	return errors.Join(errs...)
}
