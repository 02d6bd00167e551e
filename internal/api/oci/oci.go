package oci

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/registry"
)

// maxManifestSize bounds a manifest put, as ECR does (4 MiB).
const maxManifestSize = 4 << 20

// Options configure the /v2/ front end.
type Options struct {
	// Tokens verifies the passwords of docker login (GetAuthorizationToken).
	Tokens *auth.Tokens
	// Lookup finds an access key, so that a token outlives neither its key
	// nor the key's account.
	Lookup func(accessKeyID string) (auth.Credential, bool)
	// Realm is the URL advertised in the Basic challenge.
	Realm string
	// NoAuth, when set, is the principal every request acts as
	// (--auth=none); Tokens and Lookup are then unused.
	NoAuth *registry.Principal
	// CreateOnPush creates, with default settings, a repository a push
	// names that does not exist; ECR refuses such pushes, and so does
	// ecrd unless this is set.
	CreateOnPush bool
	// Public serves the ECR Public namespace instead of the private one: a
	// path's name is <registry alias>/<repository>, anyone may pull, and
	// pushes log in with ECR Public's tokens.
	Public bool
	// Logger receives the detail of unexpected errors; discarded when nil.
	Logger *slog.Logger
}

// Handler serves the OCI Distribution API v1.1 under /v2/.
type Handler struct {
	reg *registry.Registry
	o   Options
	log *slog.Logger
}

// New returns the /v2/ handler over the core.
func New(reg *registry.Registry, o Options) (*Handler, error) {
	if o.NoAuth == nil && (o.Tokens == nil || o.Lookup == nil) {
		return nil, errors.New("oci: Tokens and Lookup are required unless NoAuth is set")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{reg: reg, o: o, log: log}, nil
}

// handlerFunc is a /v2/ operation: it writes a success or returns an error
// for ServeHTTP to answer. key is the route's parsed repository.
type handlerFunc func(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error

// ServeHTTP authenticates the request, routes it and answers its error.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
	rt, routed := parseRoute(r.URL.EscapedPath())
	err := h.serve(w, r, rt, routed)
	if err == nil {
		return
	}
	we, ok := mapError(err, rt)
	if ok && h.o.Public && registry.ErrorCode(err) == registry.CodeRepositoryNotFound {
		// The core's message names the registry by account ID; anonymous
		// callers of an alias need not learn whose it is.
		we.Message = "The repository '" + rt.name + "' does not exist"
	}
	if !ok {
		h.log.Error("/v2/ request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		we = serverError()
	}
	writeError(w, r, we)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, rt route, routed bool) error {
	p, err := h.authenticate(r)
	if err != nil {
		return err
	}
	r = r.WithContext(registry.WithCaller(r.Context(), p))
	if !routed {
		return newError(nameUnknown, "The path %s names no repository or endpoint of the /v2/ API", r.URL.Path)
	}
	var fn handlerFunc
	switch rt.endpoint {
	case endpointBase:
		fn = methods{http.MethodGet: base, http.MethodHead: base}.pick(r)
	case endpointCatalog:
		return newError(catalogUnsupported, "ecrd does not serve the catalog; use the ECR API's DescribeRepositories")
	case endpointBlob:
		fn = methods{http.MethodGet: h.getBlob, http.MethodHead: h.getBlob, http.MethodDelete: h.deleteBlob}.pick(r)
	case endpointUploads:
		fn = methods{http.MethodPost: h.startUpload}.pick(r)
	case endpointUpload:
		fn = methods{http.MethodGet: h.uploadStatus, http.MethodPatch: h.patchUpload,
			http.MethodPut: h.finishUpload, http.MethodDelete: h.cancelUpload}.pick(r)
	case endpointManifest:
		fn = methods{http.MethodGet: h.getManifest, http.MethodHead: h.getManifest,
			http.MethodPut: h.putManifest, http.MethodDelete: h.deleteManifest}.pick(r)
	case endpointTags:
		fn = methods{http.MethodGet: h.listTags}.pick(r)
	case endpointReferrers:
		fn = methods{http.MethodGet: h.referrers}.pick(r)
	}
	var key registry.RepoKey
	if rt.endpoint != endpointBase {
		if key, err = h.repoKey(r.Context(), rt.name); err != nil {
			return err
		}
	}
	return fn(w, r, rt, key)
}

// repoKey parses the repository name of a path. In the private namespace
// it is the caller's repository; in the public one, <alias>/<repository>
// names a repository of the public registry with that alias.
func (h *Handler) repoKey(ctx context.Context, name string) (registry.RepoKey, error) {
	var key registry.RepoKey
	if h.o.Public {
		alias, rest, ok := strings.Cut(name, "/")
		if !ok {
			return key, newError(nameUnknown, "The repository '%s' is not in a public registry: public repositories are named <registry alias>/<repository>", name)
		}
		p, err := h.reg.PublicRegistryByAlias(ctx, alias)
		if registry.ErrorCode(err) == registry.CodeRegistryNotFound {
			return key, newError(nameUnknown, "No public registry has the alias '%s'", alias)
		} else if err != nil {
			return key, err
		}
		key.Registry, name = p.ID(), rest
	}
	n, err := registry.ParseRepositoryName(name)
	if err != nil {
		return key, newError(nameInvalid, "Invalid repository name '%s': %s", name, messageOf(err))
	}
	key.Name = n
	return key, nil
}

// methods maps HTTP methods to the operations of one endpoint.
type methods map[string]handlerFunc

// pick returns the operation for r's method, or one answering 405.
func (m methods) pick(r *http.Request) handlerFunc {
	if fn, ok := m[r.Method]; ok {
		return fn
	}
	return func(w http.ResponseWriter, _ *http.Request, _ route, _ registry.RepoKey) error {
		allow := make([]string, 0, len(m))
		for _, k := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if _, ok := m[k]; ok {
				allow = append(allow, k)
			}
		}
		e := newError(methodNotAllowed, "The method %s is not allowed here", r.Method)
		e.Header = http.Header{"Allow": {strings.Join(allow, ", ")}}
		return e
	}
}

// base answers GET /v2/: an authenticated client learns that the API is
// here.
func base(w http.ResponseWriter, r *http.Request, _ route, _ registry.RepoKey) error {
	return writeJSON(w, r, http.StatusOK, "application/json", struct{}{})
}

// writeJSON writes v as the whole answer; it fails only before writing.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, contentType string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// noContent writes an empty answer with status.
func noContent(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// messageOf is the message of a domain error, or the error's text.
func messageOf(err error) string {
	var de *registry.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}

// pushing runs a push step, creating the repository first when it is
// missing and CreateOnPush is set.
func (h *Handler) pushing(ctx context.Context, key registry.RepoKey, step func() error) error {
	err := step()
	if !h.o.CreateOnPush || registry.ErrorCode(err) != registry.CodeRepositoryNotFound {
		return err
	}
	_, cerr := h.reg.CreateRepository(ctx, registry.NewRepository{Key: key})
	if cerr != nil && registry.ErrorCode(cerr) != registry.CodeRepositoryAlreadyExists {
		return cerr
	}
	return step()
}
