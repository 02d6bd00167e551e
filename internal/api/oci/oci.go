package oci

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/budget"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/reqinfo"
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
	// PullThrough, when set, fills the repositories under pull through
	// cache rules from their upstreams when a manifest read misses (and
	// checks cached tags upstream once a day).
	PullThrough PullThrough
	// Public serves the ECR Public namespace instead of the private one: a
	// path's name is <registry alias>/<repository>, anyone may pull, and
	// pushes log in with ECR Public's tokens.
	Public bool
	// RegistryDomain, when set, makes a request to the host
	// <account>.<RegistryDomain> (any port) address that account's
	// private registry, as ECR's <account>.dkr.ecr.<region>.amazonaws.com;
	// the policies decide what the caller may do there. Any other host,
	// and every host when unset, addresses the caller's own registry.
	RegistryDomain string
	// Logger receives the detail of unexpected errors; discarded when nil.
	Logger *slog.Logger
	// Memory bounds the memory manifest bodies hold at once, shared with
	// the AWS APIs' bodies; a manifest put waits up to MemoryWait for
	// room, then gets 429. Nil bounds each manifest by its 4 MiB only.
	Memory     *budget.Budget
	MemoryWait time.Duration
}

// PullThrough is the pull through cache (internal/pullthrough's
// Service): Pull makes sure a repository under a rule has the image ref,
// cached or not, and answers pullthrough.ErrNoRule for any other.
type PullThrough interface {
	Pull(ctx context.Context, key registry.RepoKey, ref string, cached bool) error
}

// Handler serves the OCI Distribution API v1.1 under /v2/.
type Handler struct {
	reg *registry.Registry
	o   Options
	log *slog.Logger
	// routes is the route table (operations), built once.
	routes map[endpoint]map[string]operation
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
	h := &Handler{reg: reg, o: o, log: log}
	h.routes = h.operations()
	return h, nil
}

// ServeHTTP authenticates the request, routes it and answers its error.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
	// Every answer carries an ID the log line has too, as the AWS APIs'
	// x-amzn-RequestId does.
	info := reqinfo.From(r.Context())
	if info == nil {
		var ctx context.Context
		ctx, info = reqinfo.New(r.Context(), "")
		r = r.WithContext(ctx)
	}
	info.RequestID = reqinfo.NewID()
	w.Header().Set(RequestIDHeader, info.RequestID)
	rt, routed := parseRoute(r.URL.EscapedPath())
	if routed {
		info.Repository = reqinfo.Clip(rt.name)
	}
	err := h.serve(w, r, rt, routed)
	if err == nil {
		return
	}
	we, ok := mapError(err, rt)
	if ok && h.o.Public && registry.IsCode(err, registry.CodeRepositoryNotFound) {
		// The core's message names the registry by account ID; anonymous
		// callers of an alias need not learn whose it is.
		we.Message = "The repository '" + rt.name + "' does not exist"
	}
	if !ok {
		h.log.Error("/v2/ request failed", "method", r.Method, "path", r.URL.Path, "request_id", info.RequestID, "err", err)
		we = serverError()
	}
	info.ErrorType = we.Code
	if we.Status == http.StatusUnauthorized || we.Code == denied.Code {
		info.AuthRefusal = refusalReason(we)
	}
	writeError(w, r, we)
}

// RequestIDHeader carries the request's ID on every /v2/ answer.
const RequestIDHeader = "X-Request-Id"

// refusalReason says in a word why a request was refused, for the metrics
// (a small fixed set: it is a label).
func refusalReason(we *wireError) string {
	switch {
	case we.Code == denied.Code:
		return "denied"
	case strings.Contains(we.Message, "expired"):
		return "expired token"
	}
	return "no valid credentials"
}

// handlerFunc is a /v2/ operation: it writes a success or returns an error
// for ServeHTTP to answer. key is the route's parsed repository.
type handlerFunc func(w http.ResponseWriter, r *http.Request, rt route, key registry.RepoKey) error

// access is what an operation asks of its caller. Every route of the table
// has one; the zero value is no decision, which TestRouteAccess refuses, so
// a route cannot be added without saying whether it writes.
type access int

const (
	accessUndecided access = iota
	// accessLogin: any caller with valid credentials (GET /v2/).
	accessLogin
	// accessRead: pulls. In the public namespace anyone may read, with or
	// without credentials.
	accessRead
	// accessWrite: pushes and deletes. Never anonymous, never a read-only
	// key: they are refused before the body is read.
	accessWrite
)

// operation is one row of the route table: what a method on an endpoint
// does, what it asks of the caller and the IAM action ECR names it by.
type operation struct {
	fn     handlerFunc
	access access
	action string
	// name is what the log and the metrics call it.
	name string
}

// operations is the route table: every method each endpoint serves. A
// method not listed answers 405 with the endpoint's Allow list.
func (h *Handler) operations() map[endpoint]map[string]operation {
	return map[endpoint]map[string]operation{
		endpointBase: {
			http.MethodGet:  {base, accessLogin, "", "Ping"},
			http.MethodHead: {base, accessLogin, "", "Ping"},
		},
		endpointCatalog: {
			// Anyone may learn that there is no catalog.
			http.MethodGet: {catalog, accessRead, "", "ListCatalog"},
		},
		endpointBlob: {
			http.MethodGet:    {h.getBlob, accessRead, "GetDownloadUrlForLayer", "GetBlob"},
			http.MethodHead:   {h.getBlob, accessRead, "BatchCheckLayerAvailability", "HeadBlob"},
			http.MethodDelete: {h.deleteBlob, accessWrite, "BatchDeleteImage", "DeleteBlob"},
		},
		endpointUploads: {
			http.MethodPost: {h.startUpload, accessWrite, "InitiateLayerUpload", "StartUpload"},
		},
		endpointUpload: {
			// Reading an upload's state is part of a push: only a pusher
			// has an upload to ask about.
			http.MethodGet:    {h.uploadStatus, accessWrite, "UploadLayerPart", "GetUploadStatus"},
			http.MethodPatch:  {h.patchUpload, accessWrite, "UploadLayerPart", "PatchUpload"},
			http.MethodPut:    {h.finishUpload, accessWrite, "CompleteLayerUpload", "FinishUpload"},
			http.MethodDelete: {h.cancelUpload, accessWrite, "InitiateLayerUpload", "CancelUpload"},
		},
		endpointManifest: {
			http.MethodGet:    {h.getManifest, accessRead, "BatchGetImage", "GetManifest"},
			http.MethodHead:   {h.getManifest, accessRead, "BatchGetImage", "HeadManifest"},
			http.MethodPut:    {h.putManifest, accessWrite, "PutImage", "PutManifest"},
			http.MethodDelete: {h.deleteManifest, accessWrite, "BatchDeleteImage", "DeleteManifest"},
		},
		endpointTags: {
			http.MethodGet: {h.listTags, accessRead, "ListImages", "ListTags"},
		},
		endpointReferrers: {
			http.MethodGet: {h.referrers, accessRead, "BatchGetImage", "ListReferrers"},
		},
	}
}

// lookup returns the operation for a method on an endpoint; false means
// the endpoint does not serve the method.
func (h *Handler) lookup(e endpoint, method string) (operation, bool) {
	op, ok := h.routes[e][method]
	return op, ok
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, rt route, routed bool) error {
	op, served := h.lookup(rt.endpoint, r.Method)
	info := reqinfo.From(r.Context())
	info.Operation = op.name
	p, err := h.authenticate(r, op.access)
	if err != nil {
		return err
	}
	info.Account = string(p.Account)
	ctx := registry.WithCaller(r.Context(), p)
	r = r.WithContext(ctx)
	if !routed {
		return newError(nameUnknown, "The path %s names no repository or endpoint of the /v2/ API", r.URL.Path)
	}
	if !served {
		return h.methodNotAllowed(rt.endpoint, r.Method)
	}
	var key registry.RepoKey
	if rt.endpoint != endpointBase && rt.endpoint != endpointCatalog {
		if key, err = h.repoKey(ctx, r.Host, rt.name); err != nil {
			return err
		}
	}
	if op.access == accessWrite && r.Method == http.MethodPut {
		// A PUT's request is read (a manifest whole, an upload's digest
		// checked) before the core decides, so it is decided here first,
		// from the table. Every other write the core decides before it
		// reads a byte of the body (an upload's, in the transaction that
		// takes the upload), which a second read here would only repeat.
		// A repository that does not exist is the operation's to answer
		// (or to create, on push).
		if err := h.reg.Authorize(ctx, op.action, key); err != nil && !registry.IsCode(err, registry.CodeRepositoryNotFound) {
			return err
		}
	}
	return op.fn(w, r, rt, key)
}

// repoKey parses the repository name of a path. In the private namespace
// it is the caller's repository; in the public one, <alias>/<repository>
// names a repository of the public registry with that alias.
func (h *Handler) repoKey(ctx context.Context, host, name string) (registry.RepoKey, error) {
	var key registry.RepoKey
	if !h.o.Public {
		key.Registry = h.registryOfHost(host)
	}
	if h.o.Public {
		alias, rest, ok := strings.Cut(name, "/")
		if !ok {
			return key, newError(nameUnknown, "The repository '%s' is not in a public registry: public repositories are named <registry alias>/<repository>", name)
		}
		p, err := h.reg.PublicRegistryByAlias(ctx, alias)
		switch {
		case registry.IsCode(err, registry.CodeRegistryNotFound):
			return key, newError(nameUnknown, "No public registry has the alias '%s'", alias)
		case err != nil:
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

// registryOfHost returns the account a host names under RegistryDomain,
// or "" (the caller's registry).
func (h *Handler) registryOfHost(host string) registry.RegistryID {
	if h.o.RegistryDomain == "" {
		return ""
	}
	if hp, _, err := net.SplitHostPort(host); err == nil {
		host = hp
	}
	account, ok := strings.CutSuffix(strings.ToLower(host), "."+h.o.RegistryDomain)
	if !ok {
		return ""
	}
	id, err := registry.ParseRegistryID(account)
	if err != nil {
		return ""
	}
	return id
}

// methodNotAllowed answers a method the endpoint does not serve, listing
// those it does.
func (h *Handler) methodNotAllowed(e endpoint, method string) error {
	allow := make([]string, 0, len(h.routes[e]))
	for _, k := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if _, ok := h.routes[e][k]; ok {
			allow = append(allow, k)
		}
	}
	we := newError(methodNotAllowed, "The method %s is not allowed here", method)
	we.Header = http.Header{"Allow": {strings.Join(allow, ", ")}}
	return we
}

// catalog answers GET /v2/_catalog: ECR has no catalog.
func catalog(http.ResponseWriter, *http.Request, route, registry.RepoKey) error {
	return newError(catalogUnsupported, "ecrd does not serve the catalog; use the ECR API's DescribeRepositories")
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
