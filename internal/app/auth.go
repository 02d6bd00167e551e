package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/reqinfo"
)

// tokenKeyName names the server secret that signs docker-login tokens; it
// lives in the metadata store so that every replica shares it.
const tokenKeyName = "docker-login-token-key"

// downloadKeyName names the server secret that signs layer download URLs;
// shared by replicas for the same reason.
const downloadKeyName = "layer-download-url-key"

// checks are what every AWS API request goes through: precheck, on the
// headers before the body is read, then authenticate, on the whole
// request. With --auth=none precheck is nil.
type checks struct {
	precheck     func(*http.Request) *awsjson.WireError
	authenticate func(*http.Request, [32]byte) (context.Context, *awsjson.WireError)
}

// authenticator loads the keys and returns the checks of an API signed for
// a region and service (ECR: the configured region and "ecr"; ECR Public:
// us-east-1 and "ecr-public"), and the token issuer GetAuthorizationToken
// uses.
func (a *App) authenticator(ctx context.Context) (forService func(region, service string) checks, tokens *auth.Tokens, err error) {
	key, err := a.reg.Secret(ctx, tokenKeyName, 32)
	if err != nil {
		return nil, nil, fmt.Errorf("loading the token signing key: %w", err)
	}
	tokens = &auth.Tokens{Key: key, TTL: a.cfg.Auth.TokenTTL}

	if a.cfg.Auth.Mode == "none" {
		a.warnServing("AUTHENTICATION IS OFF (--auth=none): anyone who can reach this port acts as account " +
			a.cfg.Identity.AccountID + " with full access; use this only for throwaway local work")
		p := registry.AccountAdmin(registry.RegistryID(a.cfg.Identity.AccountID), auth.DefaultAccessKey)
		a.accounts = []string{a.cfg.Identity.AccountID}
		return func(string, string) checks {
			return checks{authenticate: func(r *http.Request, _ [32]byte) (context.Context, *awsjson.WireError) {
				reqinfo.SetAccount(r.Context(), string(p.Account))
				return registry.WithCaller(r.Context(), auth.WithSource(p, r)), nil
			}}
		}, tokens, nil
	}

	keys := auth.DefaultKeyring(a.cfg.Identity.AccountID)
	if f := a.cfg.Auth.CredentialsFile; f != "" {
		if keys, err = auth.LoadKeyring(f); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", a.cfg.Origin("credentials"), err)
		}
		a.log.Info("credentials loaded", "file", f, "accounts", keys.Accounts())
		a.directory = keys
	} else {
		// The well-known key is for laptops and CI; on an address others can
		// reach it would let anyone in, so it must be asked for explicitly.
		if !loopback(a.cfg.Server.Listen) {
			return nil, nil, fmt.Errorf("%s %s is reachable from other machines, and without --credentials anyone could use the well-known key test/test: give --credentials FILE (or --auth=none for a throwaway registry)", a.cfg.Origin("listen"), a.cfg.Server.Listen)
		}
		a.warnServing("no --credentials file: serving account " + a.cfg.Identity.AccountID +
			" with the well-known access key test / secret test; anyone who knows it gets in")
	}
	a.keys = keys
	a.accounts = keys.AccountIDs()
	return func(region, service string) checks {
		v := &auth.Verifier{Region: region, Service: service, Lookup: keys.Lookup}
		return checks{
			precheck: func(r *http.Request) *awsjson.WireError {
				if err := v.Precheck(r); err != nil {
					return a.refused(r, err)
				}
				return nil
			},
			authenticate: func(r *http.Request, payload [32]byte) (context.Context, *awsjson.WireError) {
				c, err := v.VerifyPayload(r, payload)
				if err != nil {
					return nil, a.refused(r, err)
				}
				reqinfo.SetAccount(r.Context(), c.AccountID)
				return registry.WithCaller(r.Context(), auth.Principal(c, r)), nil
			},
		}
	}, tokens, nil
}

// refused logs a refused request and returns its answer.
func (a *App) refused(r *http.Request, err error) *awsjson.WireError {
	var ae *auth.Error
	if !errors.As(err, &ae) {
		a.log.Error("verifying a signature", "err", err)
		return &awsjson.WireError{Type: "InternalFailure", Status: http.StatusInternalServerError, Message: "The request processing has failed because of an unknown error."}
	}
	// The access key and the reason, never the secret or signature; the
	// target is the client's, so clipped.
	reqinfo.Refused(r.Context(), ae.Type)
	a.log.Warn("request refused", "access_key", ae.AccessKeyID, "reason", ae.Reason,
		"error", ae.Type, "remote", r.RemoteAddr, "target", reqinfo.ClipTo(r.Header.Get("X-Amz-Target"), maxLoggedTarget))
	return &awsjson.WireError{Type: ae.Type, Status: ae.Status, Message: ae.Message}
}

// loopback reports whether a listen address accepts only local clients.
func loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// warnServing warns about who could reach the server, unless it will not
// serve (ecrd gc).
func (a *App) warnServing(msg string) {
	if !a.notServing {
		a.log.Warn(msg)
	}
}

// keyDirectory is the registry's PrincipalDirectory: the credentials
// file's, loaded after the registry is made (the keys are loaded through
// it), and before any request is served.
type keyDirectory struct{ a *App }

func (d keyDirectory) Exists(arn string) (exists, known bool) {
	if d.a.directory == nil {
		return false, false
	}
	return d.a.directory.Exists(arn)
}

// trustedProxies are --trusted-proxies, which Validate has parsed once
// already.
func (a *App) trustedProxies() []netip.Prefix {
	p, err := auth.ParseProxies(a.cfg.Server.TrustedProxies)
	if err != nil {
		panic("config.Validate let through --trusted-proxies " + a.cfg.Server.TrustedProxies + ": " + err.Error())
	}
	return p
}

// registryHost returns, for --registry-domain, the host[:port] of an
// account's registry: <account>.<domain> with the advertised host's port.
// Without a domain it is nil: every account's repositories are at host.
func registryHost(domain, host string) func(account string) string {
	if domain == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(host)
	return func(account string) string {
		if err != nil {
			return account + "." + domain
		}
		return net.JoinHostPort(account+"."+domain, port)
	}
}
