package oci

import (
	"errors"
	"net/http"
	"strings"

	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/registry"
)

// ecrService is the service ECR names in its Basic challenge.
const ecrService = "ecr.amazonaws.com"

// ecrPublicService is the service named in the public listener's
// challenge (public.ecr.aws's).
const ecrPublicService = "public.ecr.aws"

// authenticate returns the principal a request acts for. As ECR, /v2/
// takes HTTP Basic with user "AWS" and a GetAuthorizationToken password;
// the token's account is the registry served.
func (h *Handler) authenticate(r *http.Request) (registry.Principal, error) {
	if h.o.NoAuth != nil {
		return *h.o.NoAuth, nil
	}
	header := r.Header.Get("Authorization")
	if header == "" && h.o.Public && anonymousRead(r) {
		// Anyone may pull a public repository; the core allows reads of
		// public registries to a caller of no account.
		return registry.Principal{}, nil
	}
	scheme, encoded, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return registry.Principal{}, h.challenge()
	}
	user, password, err := auth.DecodeAuthorizationToken(strings.TrimSpace(encoded))
	if err != nil || user != "AWS" {
		return registry.Principal{}, h.challenge()
	}
	c, err := h.o.Tokens.Parse(password)
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
	}
	// A token outlives neither its access key nor the key's account.
	cred, ok := h.o.Lookup(c.AccessKeyID)
	account, aerr := registry.ParseRegistryID(c.Account)
	if !ok || cred.AccountID != c.Account || aerr != nil {
		return registry.Principal{}, h.challenge()
	}
	return registry.Principal{
		Account:     account,
		AccessKeyID: c.AccessKeyID,
		// A key made read-only since the token was issued is read-only now.
		ReadOnly: c.ReadOnly || cred.ReadOnly,
	}, nil
}

// anonymousRead reports whether r may be served without credentials in
// the public namespace: a pull. The base endpoint still asks for
// credentials, so that clients holding some learn to send them (a client
// told "no auth needed" would push without them); clients without any
// read on anonymously after the challenge.
func anonymousRead(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	rt, ok := parseRoute(r.URL.EscapedPath())
	return ok && rt.endpoint != endpointBase && rt.endpoint != endpointUpload
}

// challenge is ECR's answer to a request without valid credentials.
func (h *Handler) challenge() *wireError {
	service := ecrService
	if h.o.Public {
		service = ecrPublicService
	}
	e := newError(unauthorized, "Not Authorized")
	e.Header = http.Header{}
	e.Header.Set("WWW-Authenticate", `Basic realm="`+h.o.Realm+`",service="`+service+`"`)
	return e
}
