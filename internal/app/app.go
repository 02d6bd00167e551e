// Package app is ecrd's composition root: it opens the stores, builds the
// core, mounts the protocol front ends and runs the HTTP server.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecr"
	"github.com/ecrd/ecrd/internal/api/ecrpublic"
	"github.com/ecrd/ecrd/internal/api/oci"
	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/budget"
	"github.com/ecrd/ecrd/internal/buildinfo"
	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/instance"
	"github.com/ecrd/ecrd/internal/lifecycle"
	"github.com/ecrd/ecrd/internal/metastore/postgres"
	"github.com/ecrd/ecrd/internal/metrics"
	"github.com/ecrd/ecrd/internal/pullthrough"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/replication"
	"github.com/ecrd/ecrd/internal/scan"
	"github.com/ecrd/ecrd/internal/signing"
)

// App is a running ecrd: stores open, listener bound.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	meta    registry.MetaStore
	reg     *registry.Registry
	ln      net.Listener
	handler http.Handler
	// keys are the access keys of --credentials (nil with --auth=none);
	// the /v2/ API checks that a token's key still exists.
	keys *auth.Keyring
	// directory is the credentials file's principals, once loaded; nil
	// without a file (the well-known key's account has no IAM to consult).
	directory *auth.Keyring
	// accounts are the accounts served, each with a public registry.
	accounts []string
	// publicLn and publicHandler serve the ECR Public /v2/ namespace (nil
	// when ECR Public is off).
	publicLn      net.Listener
	publicHandler http.Handler
	// certs is the certificate both listeners serve (nil: plain HTTP).
	certs *certificates
	// debugLn serves Go's profiles (--debug-listen; nil when not asked).
	debugLn net.Listener
	// instances registers this process among those on the data dir.
	instances *instance.Dir
	// pgHolders beats for this process in PostgreSQL (--meta postgres),
	// for the upload leases of replicas; closed before meta.
	pgHolders *postgres.Holders
	// lifecycle serves the lifecycle policy operations and runs policies.
	lifecycle *lifecycle.Service
	// pullThrough serves the pull through cache rules and pulls.
	pullThrough *pullthrough.Service
	replicator  *replication.Replicator
	scanner     *scan.Scanner
	signer      *signing.Signer
	// bodies bounds the request bodies held at once (config.Bodies).
	bodies *awsjson.Bodies
	// wrapStores, when set, wraps the stores the core uses (WithStores).
	wrapStores func(registry.MetaStore, registry.BlobStore) (registry.MetaStore, registry.BlobStore)
	// metrics counts what the server does (/metrics).
	metrics *metrics.Metrics
	// build is the binary's version, for the start-up log and the metrics.
	build buildinfo.Info
	// now is the core's clock (WithClock); nil: the system clock.
	now func() time.Time
	// notServing: the App is opened to run maintenance (ecrd gc), so the
	// warnings about who could reach its listeners do not apply.
	notServing bool
}

// StartupError is a problem with the configuration or environment that
// stops ecrd from starting (as opposed to a failure while serving).
type StartupError struct{ Err error }

func (e *StartupError) Error() string { return e.Err.Error() }
func (e *StartupError) Unwrap() error { return e.Err }

// Option adjusts how New assembles the server.
type Option func(*App)

// WithStores has the core use the stores wrap returns in place of the ones
// opened, which it is given: fault-injection tests fail store calls this
// way. The stores opened are still closed by the App.
func WithStores(wrap func(registry.MetaStore, registry.BlobStore) (registry.MetaStore, registry.BlobStore)) Option {
	return func(a *App) { a.wrapStores = wrap }
}

// WithClock has the core read the time from now instead of the system
// clock: tests push images "days apart" and see what lifecycle policies
// then do. Only the registry's own records see it (push, pull and archive
// times, restores, previews); request signatures are checked against the
// system clock.
func WithClock(now func() time.Time) Option { return func(a *App) { a.now = now } }

// NotServing opens the App for maintenance only (ecrd gc): it will not be
// Run, so nothing is said about who could reach its listeners.
func NotServing() Option { return func(a *App) { a.notServing = true } }

// New opens the stores under the data dir and binds the listener. Problems
// come back as *StartupError naming what is wrong.
func New(cfg config.Config, log *slog.Logger, opts ...Option) (*App, error) {
	// Load validates too; a Config built in code must pass the same checks.
	if err := cfg.Validate(); err != nil {
		return nil, &StartupError{Err: err}
	}
	a := &App{cfg: cfg, log: log, build: buildinfo.Read()}
	a.metrics = metrics.New(a.build)
	for _, o := range opts {
		o(a)
	}
	if err := a.open(); err != nil {
		a.close()
		return nil, &StartupError{Err: err}
	}
	return a, nil
}

func (a *App) open() error {
	dir := a.cfg.Store.DataDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s %s: %w", a.cfg.Origin("data-dir"), dir, err)
	}
	meta, err := a.openMeta(dir)
	if err != nil {
		return err
	}
	a.meta = meta
	blobs, err := a.openBlobs(dir)
	if err != nil {
		return err
	}
	// Every process on the data dir registers, so that the upload leases
	// of one that died can be taken over at once.
	if a.instances, err = instance.Open(filepath.Join(dir, "instances")); err != nil {
		return fmt.Errorf("%s %s: %w", a.cfg.Origin("data-dir"), dir, err)
	}
	limits := registry.DefaultLimits()
	limits.UploadExpiry = a.cfg.Uploads.Expiry
	limits.RestoreDelay = a.cfg.Images.RestoreDelay
	holders, err := a.holders()
	if err != nil {
		return err
	}
	var coreMeta registry.MetaStore = meta
	var coreBlobs registry.BlobStore = blobs
	if a.wrapStores != nil {
		coreMeta, coreBlobs = a.wrapStores(meta, blobs)
	}
	a.reg = registry.New(registry.Options{Meta: coreMeta, Blobs: coreBlobs, Region: a.cfg.Identity.Region, Limits: limits, Logger: a.log, Holders: holders, Now: a.now,
		OnStorageError: a.countStorageError, Links: a.links(blobs), Principals: keyDirectory{a},
		CreateOnPush: a.cfg.Images.CreateOnPush})
	a.lifecycle = lifecycle.New(a.reg, lifecycle.Options{Logger: a.log, OnAction: a.metrics.LifecycleAction})
	if a.pullThrough, err = a.newPullThrough(); err != nil {
		return err
	}
	if a.replicator, err = a.newReplicator(); err != nil {
		return err
	}
	if a.scanner, err = scan.New(a.reg, scan.Options{DBDir: a.cfg.Scan.VulnDB, Concurrency: a.cfg.Scan.Concurrency,
		DBInterval: a.cfg.Scan.DBInterval, Logger: a.log}); err != nil {
		return fmt.Errorf("%s %s: %w", a.cfg.Origin("vuln-db"), a.cfg.Scan.VulnDB, err)
	}
	keys, err := signing.LoadKeys(a.cfg.Signing.KeysFile)
	if err != nil {
		return fmt.Errorf("%s: %w", a.cfg.Origin("signing-keys"), err)
	}
	a.signer = signing.New(a.reg, keys, a.log)

	if a.ln, err = net.Listen("tcp", a.cfg.Server.Listen); err != nil {
		return fmt.Errorf("%s %s: %w", a.cfg.Origin("listen"), a.cfg.Server.Listen, err)
	}
	if l := a.cfg.Server.DebugListen; l != "" {
		if a.debugLn, err = net.Listen("tcp", l); err != nil {
			return fmt.Errorf("%s %s: %w", a.cfg.Origin("debug-listen"), l, err)
		}
	}
	publicListen, publicOn := a.cfg.PublicListen()
	if publicOn {
		if a.publicLn, err = net.Listen("tcp", publicListen); err != nil {
			return fmt.Errorf("%s %s (ECR Public's /v2/ listener; off turns it off): %w", a.cfg.Origin("public-listen"), publicListen, err)
		}
	}
	host := a.cfg.Server.Hostname
	if host == "" {
		host = a.ln.Addr().String()
	}
	scheme, err := a.openTLS()
	if err != nil {
		return err
	}
	forService, tokens, err := a.authenticator(context.Background())
	if err != nil {
		return err
	}
	downloadKey, err := a.reg.Secret(context.Background(), downloadKeyName, 32)
	if err != nil {
		return fmt.Errorf("loading the download URL key: %w", err)
	}
	// Request bodies are bounded together, across both AWS APIs and the
	// /v2/ manifests of both listeners; bodies that wait for their
	// signature check beyond the memory budget go to the data dir.
	spool := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return fmt.Errorf("%s %s: the request spool: %w", a.cfg.Origin("data-dir"), dir, err)
	}
	clearSpool(spool, a.log)
	a.bodies = &awsjson.Bodies{
		Memory: budget.New(a.cfg.Bodies.Memory), Pending: budget.New(a.cfg.Bodies.Pending),
		SpoolDir: spool, Wait: a.cfg.Bodies.Wait,
	}
	private := forService(a.cfg.Identity.Region, "ecr")
	api, err := ecr.New(a.reg, ecr.Options{
		Region: a.cfg.Identity.Region, Hostname: host, ProxyEndpoint: scheme + host, Scheme: scheme,
		Tokens: tokens, DownloadKey: downloadKey,
		Precheck: private.precheck, Authenticate: private.authenticate, Bodies: a.bodies, Logger: a.log,
		Lifecycle:    a.lifecycle,
		PullThrough:  a.pullThrough,
		RegistryHost: registryHost(a.cfg.Server.RegistryDomain, host),
	})
	if err != nil {
		return err
	}
	v2, err := oci.New(a.reg, a.ociOptions(tokens, scheme+host+"/", false))
	if err != nil {
		return err
	}
	publicHost, err := a.openPublic()
	if err != nil {
		return err
	}
	public := forService(ecrpublic.Region, "ecr-public")
	papi, err := ecrpublic.New(a.reg, ecrpublic.Options{
		Off: !publicOn, Hostname: publicHost, Scheme: scheme, Tokens: tokens,
		Precheck: public.precheck, Authenticate: public.authenticate, Bodies: a.bodies, Logger: a.log,
	})
	if err != nil {
		return err
	}
	a.handler = a.routes(api, papi.API, v2)
	if publicOn {
		pv2, err := oci.New(a.reg, a.ociOptions(tokens, scheme+publicHost+tokenPath, true))
		if err != nil {
			return err
		}
		a.publicHandler = a.publicRoutes(pv2, papi.Logos)
	}
	return nil
}

// countStorageError counts a store call that failed for want of storage,
// by a label-friendly kind.
func (a *App) countStorageError(k registry.StorageKind) {
	kind := "other"
	switch k {
	case registry.StorageFull:
		kind = "full"
	case registry.StorageIO:
		kind = "io"
	}
	a.metrics.StorageError(kind)
}

// Addr is the address the server listens on (useful with port 0).
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// PublicAddr is the address of the ECR Public /v2/ listener, nil when ECR
// Public is off.
func (a *App) PublicAddr() net.Addr {
	if a.publicLn == nil {
		return nil
	}
	return a.publicLn.Addr()
}

// Handler is the root HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

// Run serves until ctx is done, then stops accepting, lets in-flight
// requests finish (up to the shutdown timeout) and closes the stores.
func (a *App) Run(ctx context.Context) error {
	// Both listeners bound what a client can hold: the time to send
	// headers, the waits on its bodies (withDeadlines), and how many
	// connections may be open at once (limitConnections). There are no
	// ReadTimeout or WriteTimeout: a total time would cut off a slow but
	// moving 2 GiB push or pull.
	srvCfg := a.cfg.Server
	srv := &http.Server{
		Handler:           withDeadlines(a.handler, srvCfg.StallTimeout),
		ReadHeaderTimeout: srvCfg.HeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          serverErrorLog(a.log),
		ConnContext:       withAcked,
	}
	stopBackground := a.startBackground(context.WithoutCancel(ctx))

	servers := []*http.Server{srv}
	served := make(chan error, 3)
	stopCerts := a.watchCertificates() // SIGHUP and changed files reload the certificate
	defer stopCerts()
	go func() { served <- a.serve(srv, limitConnections(a.ln, srvCfg.MaxConnections)) }()
	if a.publicLn != nil {
		psrv := &http.Server{Handler: withDeadlines(a.publicHandler, srvCfg.StallTimeout),
			ReadHeaderTimeout: srv.ReadHeaderTimeout, IdleTimeout: srv.IdleTimeout, ErrorLog: srv.ErrorLog,
			ConnContext: withAcked}
		servers = append(servers, psrv)
		go func() { served <- a.serve(psrv, limitConnections(a.publicLn, srvCfg.MaxConnections)) }()
		a.log.Info("ECR Public /v2/ serving (anonymous pulls)", "addr", a.publicLn.Addr().String())
	}
	if a.debugLn != nil {
		dsrv := &http.Server{Handler: debugHandler(a.metrics.Handler()), ReadHeaderTimeout: srv.ReadHeaderTimeout, ErrorLog: srv.ErrorLog}
		servers = append(servers, dsrv)
		go func() { served <- dsrv.Serve(a.debugLn) }()
		a.log.Warn("serving Go profiles: keep --debug-listen on a trusted address", "addr", a.debugLn.Addr().String())
	}
	a.log.Info("ecrd serving", "addr", a.ln.Addr().String(), "data_dir", a.cfg.Store.DataDir,
		"region", a.cfg.Identity.Region, "account", a.cfg.Identity.AccountID,
		"version", a.build.Version, "commit", a.build.Revision)

	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	// Whichever way serving ended, every listener stops and drains.
	a.log.Info("shutting down: draining in-flight requests", "timeout", a.cfg.Server.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.Server.ShutdownTimeout)
	for _, s := range servers {
		if serr := s.Shutdown(sctx); serr != nil && err == nil {
			err = serr
		}
	}
	cancel()
	stopBackground()
	a.lifecycle.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, a.close())
}

// Close releases the stores of an App that was not Run.
func (a *App) Close() error { return a.close() }

func (a *App) close() error {
	var err error
	if a.ln != nil {
		a.ln.Close() // already closed by Shutdown on the normal path
	}
	if a.publicLn != nil {
		a.publicLn.Close()
	}
	if a.debugLn != nil {
		a.debugLn.Close()
	}
	if a.pgHolders != nil {
		// Not a failed shutdown: the other replicas take this one for
		// dead by the heartbeat's expiry instead of at once.
		if herr := a.pgHolders.Close(); herr != nil {
			a.log.Warn("stopping the lease holder heartbeat", "err", herr)
		}
		a.pgHolders = nil
	}
	if a.meta != nil {
		err = a.meta.Close()
		a.meta = nil
	}
	if a.instances != nil {
		err = errors.Join(err, a.instances.Close())
		a.instances = nil
	}
	return err
}
