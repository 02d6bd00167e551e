package oci

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/iam"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/reqinfo"
)

// ecrService is the service ECR names in its Basic challenge.
const ecrService = "ecr.amazonaws.com"

// ecrPublicService is the service named in the public listener's
// challenge (public.ecr.aws's).
const ecrPublicService = "public.ecr.aws"

// credentials are what a request presents: a token (a
// GetAuthorizationToken password), or nothing.
type credentials struct {
	token string
	given bool // an Authorization header with some credentials in it
}

// credentialsOf reads the Authorization header: Basic with user "AWS" and
// the password (ECR's docker login), or Bearer with the password as
// exchanged at the public listener's token endpoint. Basic with an empty
// user and password, as some clients send when they have none, is none.
func credentialsOf(r *http.Request) (credentials, bool) {
	scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	value = strings.TrimSpace(value)
	switch {
	case scheme == "":
		return credentials{}, true
	case strings.EqualFold(scheme, "Bearer") && value != "":
		return credentials{token: value, given: true}, true
	case strings.EqualFold(scheme, "Basic"):
		user, password, err := auth.DecodeAuthorizationToken(value)
		switch {
		case err != nil:
			return credentials{}, false
		case user == "" && password == "":
			return credentials{}, true
		case user != "AWS":
			return credentials{}, false
		}
		return credentials{token: password, given: true}, true
	}
	return credentials{}, false
}

// authenticate returns the principal a request acts for. As ECR, /v2/
// takes HTTP Basic with user "AWS" and a GetAuthorizationToken password;
// the token's account is the registry served. The public namespace also
// takes Bearer tokens from its token endpoint, and serves the routes whose
// access is accessRead to anyone. need is the route's access (undecided
// for a path or method the table does not serve, which asks for
// credentials like any other).
func (h *Handler) authenticate(r *http.Request, need access) (registry.Principal, error) {
	if h.o.NoAuth != nil {
		return *h.o.NoAuth, nil
	}
	anonymousOK := h.o.Public && need == accessRead
	creds, ok := credentialsOf(r)
	if !ok {
		return registry.Principal{}, h.challenge()
	}
	if !creds.given {
		if anonymousOK {
			// Anyone may pull a public repository; the core allows
			// reads of public registries to a caller of no account.
			return registry.Principal{}, nil
		}
		return registry.Principal{}, h.challenge()
	}
	p, err := h.principal(r, creds.token)
	if err == nil && p.Account == "" && !anonymousOK {
		// An anonymous bearer token pulls, and does nothing else.
		err = h.challenge()
	}
	return p, err
}

// principal verifies a token and returns whom it stands for: an account's
// key, or (in the public namespace) anyone.
func (h *Handler) principal(r *http.Request, token string) (registry.Principal, error) {
	c, err := h.o.Tokens.Parse(token)
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		// ECR's message, word for word; a 401 with the challenge, so that
		// clients log in again rather than give up.
		e := h.challenge()
		e.Message = "Your authorization token has expired. Reauthenticate and try again."
		return registry.Principal{}, e
	case err != nil || c.Public != h.o.Public:
		// A private registry's token does not log in to the public
		// listener, nor a public one to the private listener.
		return registry.Principal{}, h.challenge()
	case c.Account == "" && c.Public:
		return registry.Principal{}, nil
	}
	// A token outlives neither its access key nor the key's account.
	cred, ok := h.o.Lookup(c.AccessKeyID)
	if _, aerr := registry.ParseRegistryID(c.Account); !ok || cred.AccountID != c.Account || aerr != nil {
		return registry.Principal{}, h.challenge()
	}
	// The key's identity as it is now decides, not as it was when the
	// token was issued: a token carries no permissions of its own, only,
	// when read-only, a restriction.
	p := auth.Principal(cred, r)
	if c.ReadOnly {
		p = p.Restricted(iam.ReadOnlyRestriction())
	}
	return p, nil
}

// challenge is the answer to a request without valid credentials: ECR's
// Basic challenge, or in the public namespace public.ecr.aws's Bearer
// challenge, whose realm is the token endpoint (TokenHandler).
func (h *Handler) challenge() *wireError {
	e := newError(unauthorized, "Not Authorized")
	e.Header = http.Header{}
	if h.o.Public {
		e.Header.Set("WWW-Authenticate", `Bearer realm="`+h.o.Realm+`",service="`+ecrPublicService+`",scope="aws"`)
	} else {
		e.Header.Set("WWW-Authenticate", `Basic realm="`+h.o.Realm+`",service="`+ecrService+`"`)
	}
	return e
}

// TokenHandler is the public namespace's token endpoint (the challenge's
// realm), as public.ecr.aws has: anyone gets a token that pulls; Basic
// credentials (user AWS, an ECR Public password) get a token that acts for
// their key. Docker, podman and skopeo pull anonymously only this way.
func (h *Handler) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		creds, ok := credentialsOf(r)
		token, expires := "", time.Time{}
		if ok && creds.given {
			// The password is itself a token; hand it back once checked.
			var c auth.Claims
			if _, err := h.principal(r, creds.token); err == nil {
				c, _ = h.o.Tokens.Parse(creds.token)
				token, expires = creds.token, c.ExpiresAt
			}
		} else if ok {
			token, expires = h.o.Tokens.IssuePublic("", "", true)
		}
		if token == "" {
			reqinfo.Refused(r.Context(), "no valid credentials")
			writeError(w, r, h.challenge())
			return
		}
		body, _ := json.Marshal(map[string]any{
			"token":        token,
			"access_token": token,
			"expires_in":   int(time.Until(expires).Seconds()),
			"issued_at":    time.Now().UTC().Format(time.RFC3339),
		})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}
