// Package ecrpublic is the Amazon ECR Public API front end (AWS JSON 1.1,
// target prefix SpencerFrontendService, signing name ecr-public): each
// operation decodes its input, resolves the public registry it names,
// calls the core and encodes the output. The core keeps an account's
// public registry apart from its private one (registry.PublicRegistryOf).
package ecrpublic

import (
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/registry"
)

//go:generate go run ../awsjson/modeltrim -o model.json ecr-public/2020-10-30

// modelJSON is the botocore ECR Public model trimmed to what validation
// needs.
//
//go:embed model.json
var modelJSON []byte

// TargetPrefix is what X-Amz-Target starts with for this API.
const TargetPrefix = "SpencerFrontendService."

// Region is the only region ECR Public's API exists in.
const Region = "us-east-1"

// Body caps: UploadLayerPart carries up to 20 MiB (about 27 MiB in
// base64); PutImage a 4 MiB manifest, possibly all \uXXXX escapes;
// catalog data a 500 KB logo (in base64) and 50 KiB of text; the rest
// names and short lists.
const (
	maxBody        = 32 << 20
	maxPutImage    = 26 << 20
	maxCatalogBody = 1 << 20
	maxSmallBody   = 256 << 10
)

// Options configure the front end.
type Options struct {
	// Off makes every operation answer UnsupportedCommandException, for a
	// server whose ECR Public is turned off.
	Off bool
	// Hostname is the public listener's host[:port]: repository URIs are
	// <Hostname>/<alias>/<name>.
	Hostname string
	// Scheme is how logo URLs reach the public listener: "https://" when
	// it serves TLS; empty is "http://".
	Scheme string
	// Tokens issues GetAuthorizationToken's passwords.
	Tokens *auth.Tokens
	// Precheck and Authenticate check requests as in the ECR front end
	// (SigV4 with signing name ecr-public, region us-east-1); nil checks
	// nothing.
	Precheck     func(r *http.Request) *awsjson.WireError
	Authenticate func(r *http.Request, payload [32]byte) (context.Context, *awsjson.WireError)
	// Bodies bounds what request bodies hold (see awsjson.Bodies); nil
	// bounds each by its limit only.
	Bodies *awsjson.Bodies
	Logger *slog.Logger
}

// API holds the front end's dependencies.
type API struct {
	reg      *registry.Registry
	hostname string
	scheme   string // of logo URLs, "http://" or "https://"
	tokens   *auth.Tokens
	off      bool
	precheck func(r *http.Request) *awsjson.WireError
	// shared serves the operations whose shapes ECR shares.
	shared *ecrshared.Ops
	// log receives the failures of the logo handler, which answers
	// outside the AWS JSON service.
	log *slog.Logger
}

// Handlers are what the ECR Public front end serves: the API, and the
// repository logos its catalog data links to (for the public listener,
// under LogoPath).
type Handlers struct {
	API   http.Handler
	Logos http.Handler
}

// New returns the ECR Public front end over the core.
func New(reg *registry.Registry, o Options) (Handlers, error) {
	model, err := awsjson.LoadModel(modelJSON)
	if err != nil {
		return Handlers{}, fmt.Errorf("loading the ECR Public model: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{reg: reg, hostname: o.Hostname, scheme: cmp.Or(o.Scheme, "http://"), tokens: o.Tokens, off: o.Off, precheck: o.Precheck, log: log}
	a.shared = a.sharedOps()
	limits := make(map[string]int64, len(model.Operations()))
	for _, name := range model.Operations() {
		limits[name] = maxSmallBody
	}
	limits["UploadLayerPart"] = maxBody
	limits["PutImage"] = maxPutImage
	limits["CreateRepository"] = maxCatalogBody
	limits["PutRepositoryCatalogData"] = maxCatalogBody
	api := &awsjson.Service{
		Model:        model,
		Ops:          a.operations(),
		MapError:     mapError,
		Logger:       o.Logger,
		MaxBody:      maxBody,
		BodyLimits:   limits,
		ServerError:  serverError,
		Precheck:     a.check,
		Authenticate: o.Authenticate,
		Bodies:       o.Bodies,
	}
	return Handlers{API: api, Logos: a.logoHandler()}, nil
}

// operations maps each operation of the model to its handler.
func (a *API) operations() map[string]awsjson.Handler {
	return map[string]awsjson.Handler{
		"CreateRepository":            awsjson.Op(a.createRepository),
		"DescribeRepositories":        awsjson.Op(a.describeRepositories),
		"DeleteRepository":            awsjson.Op(a.deleteRepository),
		"GetRepositoryCatalogData":    awsjson.Op(a.getRepositoryCatalogData),
		"PutRepositoryCatalogData":    awsjson.Op(a.putRepositoryCatalogData),
		"DescribeRegistries":          awsjson.Op(a.describeRegistries),
		"GetRegistryCatalogData":      awsjson.Op(a.getRegistryCatalogData),
		"PutRegistryCatalogData":      awsjson.Op(a.putRegistryCatalogData),
		"GetRepositoryPolicy":         awsjson.Op(a.shared.GetRepositoryPolicy),
		"SetRepositoryPolicy":         awsjson.Op(a.shared.SetRepositoryPolicy),
		"DeleteRepositoryPolicy":      awsjson.Op(a.shared.DeleteRepositoryPolicy),
		"TagResource":                 awsjson.Op(a.shared.TagResource),
		"UntagResource":               awsjson.Op(a.shared.UntagResource),
		"ListTagsForResource":         awsjson.Op(a.shared.ListTagsForResource),
		"GetAuthorizationToken":       awsjson.Op(a.getAuthorizationToken),
		"BatchCheckLayerAvailability": awsjson.Op(a.shared.BatchCheckLayerAvailability),
		"InitiateLayerUpload":         awsjson.Op(a.shared.InitiateLayerUpload),
		"UploadLayerPart":             awsjson.Op(a.shared.UploadLayerPart),
		"CompleteLayerUpload":         awsjson.Op(a.shared.CompleteLayerUpload),
		"PutImage":                    awsjson.Op(a.shared.PutImage),
		"DescribeImages":              awsjson.Op(a.describeImages),
		"DescribeImageTags":           awsjson.Op(a.describeImageTags),
		"BatchDeleteImage":            awsjson.Op(a.shared.BatchDeleteImage),
	}
}

// check refuses, from the headers alone, what ECR Public would not serve:
// anything while it is off, and requests signed for a region other than
// us-east-1 (with AWS's message), before the signature check proper.
func (a *API) check(r *http.Request) *awsjson.WireError {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	if a.off {
		return unsupported("ECR Public is turned off on this server (--public-listen=off); %s is not available", op)
	}
	if authz, err := auth.ParseAuthorization(r.Header.Get("Authorization")); err == nil && authz.Region != Region {
		return unsupported("%s command is only supported in %s.", op, Region)
	}
	if a.precheck != nil {
		return a.precheck(r)
	}
	return nil
}

// sharedOps serves ECR Public's layer and image operations: those of the
// push path name registries by account ID or alias and may answer
// RegistryNotFoundException; ECR Public's availability enum has no
// ARCHIVED (its images are never archived), so whatever is not available
// is UNAVAILABLE.
func (a *API) sharedOps() *ecrshared.Ops {
	return &ecrshared.Ops{
		Reg:    a.reg,
		ARNKey: a.arnKey,
		Key: func(ctx context.Context, registryID, name string) (registry.RepoKey, error) {
			return a.key(ctx, registryID, name, false)
		},
		PushKey: func(ctx context.Context, registryID, name string) (registry.RepoKey, error) {
			return a.key(ctx, registryID, name, true)
		},
		Availability: func(s string) string {
			if s != registry.LayerAvailable {
				return "UNAVAILABLE"
			}
			return s
		},
	}
}

// key resolves the registryId and repositoryName a repository operation
// carries. registryId is the caller's public registry when empty, else an
// account ID or an alias. One that names no public registry is
// RegistryNotFoundException where the operation lists it (registryErr:
// the push path), RepositoryNotFoundException elsewhere. Another account's
// registry resolves, and the core hides it as it hides every registry the
// caller does not own.
func (a *API) key(ctx context.Context, registryID, name string, registryErr bool) (registry.RepoKey, error) {
	n, err := registry.ParseRepositoryName(name)
	if err != nil {
		return registry.RepoKey{}, err
	}
	p, err := a.reg.FindPublicRegistry(ctx, registryID)
	switch {
	case err == nil:
		return registry.RepoKey{Registry: p.ID(), Name: n}, nil
	case registry.IsCode(err, registry.CodeRegistryNotFound) && !registryErr:
		return registry.RepoKey{}, registry.Errorf(registry.CodeRepositoryNotFound, "The repository with name '%s' does not exist in the registry with id '%s'", n, registryID)
	}
	return registry.RepoKey{}, err
}

// repositoryURI is where a public repository is pulled from.
func (a *API) repositoryURI(alias string, name registry.RepositoryName) string {
	return a.hostname + "/" + alias + "/" + string(name)
}

// repository renders a repository as ECR Public describes it. Only the
// caller's own repositories are ever rendered, so the alias is the
// caller's.
func (a *API) repository(p registry.PublicRegistry, r registry.Repository) repository {
	return repository{
		RepositoryArn:  registry.PublicRepositoryARN(r.Key()),
		RegistryID:     string(r.Registry.Account()),
		RepositoryName: string(r.Name),
		RepositoryURI:  a.repositoryURI(p.Alias, r.Name),
		CreatedAt:      awsjson.Time{Time: r.CreatedAt},
	}
}
