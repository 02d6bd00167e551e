package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/api/ecr"
	"github.com/ecrd/ecrd/internal/api/ecrpublic"
	"github.com/ecrd/ecrd/internal/api/oci"
	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/registry"
)

// routes mounts the front ends. The ECR API is POST / with X-Amz-Target;
// its layer download URLs live under ecr.DownloadPath; the OCI
// Distribution API (docker push and pull) under /v2/; /healthz answers
// load balancers.
// ECR Public's API shares POST / with ECR's, told apart by X-Amz-Target.
func (a *App) routes(api ecr.Handlers, publicAPI, v2 http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", named("Healthz", http.HandlerFunc(a.healthz)))
	mux.Handle("GET /readyz", named("Readyz", http.HandlerFunc(a.readyz)))
	if a.cfg.Server.Metrics {
		mux.Handle("GET /metrics", named("Metrics", a.metrics.Handler()))
	}
	mux.Handle(ecr.DownloadPath, named("DownloadLayer", api.Downloads))
	mux.Handle("/v2/", v2)
	mux.Handle("/v2", v2)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), ecrpublic.TargetPrefix) {
			publicAPI.ServeHTTP(w, r)
			return
		}
		api.API.ServeHTTP(w, r)
	}))
	return auth.Forwarded(a.trustedProxies(), observe(a.log, a.metrics, mainAPI, mux))
}

// tokenPath is the public listener's token endpoint, the realm of its
// Bearer challenge (public.ecr.aws has /token/).
const tokenPath = "/token"

// publicRoutes mounts what the public listener serves: the public /v2/
// namespace (anonymous pulls) with its token endpoint, and the repository
// logos of catalog data.
func (a *App) publicRoutes(v2 *oci.Handler, logos http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", named("Healthz", http.HandlerFunc(a.healthz)))
	mux.Handle("GET /readyz", named("Readyz", http.HandlerFunc(a.readyz)))
	mux.Handle(tokenPath, named("GetToken", v2.TokenHandler()))
	mux.Handle(tokenPath+"/", named("GetToken", v2.TokenHandler()))
	mux.Handle(ecrpublic.LogoPath, named("GetLogo", logos))
	mux.Handle("/v2/", v2)
	mux.Handle("/v2", v2)
	return auth.Forwarded(a.trustedProxies(), observe(a.log, a.metrics, publicAPI, mux))
}

// readyz answers load balancers whether to send this replica traffic: 200
// only while both stores answer. /healthz is liveness: whether to restart
// the process.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := a.reg.Ready(ctx); err != nil {
		a.log.Warn("not ready", "err", err)
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ready")
}

func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := a.reg.Ping(ctx); err != nil {
		a.log.Error("health check failed", "err", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// ociOptions configures a /v2/ front end: the private namespace, or the
// public one.
func (a *App) ociOptions(tokens *auth.Tokens, realm string, public bool) oci.Options {
	o := oci.Options{Tokens: tokens, Realm: realm, Public: public, Logger: a.log,
		RegistryDomain: a.cfg.Server.RegistryDomain,
		Memory:         a.bodies.Memory, MemoryWait: a.bodies.Wait}
	if !public {
		o.PullThrough = a.pullThrough
	}
	if a.keys != nil {
		o.Lookup = a.keys.Lookup
	}
	if a.cfg.Auth.Mode == "none" {
		admin := registry.AccountAdmin(registry.RegistryID(a.cfg.Identity.AccountID), auth.DefaultAccessKey)
		o.NoAuth = &admin
	}
	return o
}

// openPublic gives every account served its public registry, with its
// configured alias, and returns the host public repository URIs name.
func (a *App) openPublic() (string, error) {
	if a.publicLn == nil {
		return "", nil
	}
	for _, account := range a.accounts {
		alias := a.cfg.PublicAlias(account)
		if _, err := a.reg.EnsurePublicRegistry(context.Background(), registry.RegistryID(account), alias); err != nil {
			return "", fmt.Errorf("the public registry of account %s: %w", account, err)
		}
	}
	if h := a.cfg.Public.Hostname; h != "" {
		return h, nil
	}
	return a.publicLn.Addr().String(), nil
}
