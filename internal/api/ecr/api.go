// Package ecr is the Amazon ECR API front end (AWS JSON 1.1, target prefix
// AmazonEC2ContainerRegistry_V20150921): each operation decodes its input,
// parses it into domain values, calls the core and encodes the output.
package ecr

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/lifecycle"
	"github.com/ecrd/ecrd/internal/pullthrough"
	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/replication"
	"github.com/ecrd/ecrd/internal/templates"
)

// modelJSON is the botocore ECR model trimmed to what validation needs
// (go generate refreshes it from the installed botocore).
//
//go:embed model.json
var modelJSON []byte

// MaxBody caps request bodies: UploadLayerPart carries up to 20 MiB, which
// is about 27 MiB in base64, plus the JSON around it.
const MaxBody = 32 << 20

// Body caps of the other operations. A body is held whole to be validated,
// so each cap bounds what one request can make the server hold.
const (
	// maxPutImageBody admits a 4 MiB manifest written entirely as \uXXXX
	// escapes (6 bytes a byte: 24 MiB) and the members around it.
	maxPutImageBody = 26 << 20
	// maxSmallBody is every other operation's cap: their inputs are names,
	// digests and lists of at most 1000 of them, far below 1 MiB.
	maxSmallBody = 1 << 20
)

// Options configure the front end.
type Options struct {
	// Region and Hostname shape ARNs and repository URIs.
	Region   string
	Hostname string
	// ProxyEndpoint is the URL docker logs in to, as GetAuthorizationToken
	// reports it.
	ProxyEndpoint string
	// RegistryHost, when set, is the host[:port] of an account's registry
	// (--registry-domain), in repositoryUri and, after Scheme,
	// proxyEndpoint, instead of Hostname and ProxyEndpoint.
	RegistryHost func(account string) string
	Scheme       string
	// Tokens issues GetAuthorizationToken's passwords.
	Tokens *auth.Tokens
	// DownloadKey signs the layer URLs of GetDownloadUrlForLayer.
	DownloadKey []byte
	// Precheck checks each request's headers before its body is read
	// (SigV4 form, scope, time, key); nil checks nothing early.
	Precheck func(r *http.Request) *awsjson.WireError
	// Authenticate checks each request before it is decoded (SigV4); nil
	// accepts every request as it is.
	Authenticate func(r *http.Request, payload [32]byte) (context.Context, *awsjson.WireError)
	// Bodies bounds what request bodies hold (see awsjson.Bodies); nil
	// bounds each by its limit only.
	Bodies *awsjson.Bodies
	// Lifecycle serves the lifecycle policy operations; nil: one over the
	// core with its defaults.
	Lifecycle *lifecycle.Service
	// Templates serves the repository creation template operations; nil:
	// one over the core.
	Templates *templates.Service
	// PullThrough serves the pull through cache rule operations; nil:
	// one over the core reaching every upstream at its own URL, with no
	// secrets.
	PullThrough *pullthrough.Service
	Logger      *slog.Logger
}

// API holds the front end's dependencies.
type API struct {
	reg           *registry.Registry
	region        string
	hostname      string
	proxyEndpoint string
	registryHost  func(account string) string
	scheme        string
	tokens        *auth.Tokens
	downloadKey   []byte
	// shared serves the operations whose shapes ECR Public shares.
	shared      *ecrshared.Ops
	lifecycle   *lifecycle.Service
	templates   *templates.Service
	pullThrough *pullthrough.Service
	// log receives the failures of the download handler, which answers
	// outside the AWS JSON service.
	log *slog.Logger
}

// replicating marks the requests of another ecrd's replicator
// (replication.ReplicatingHeader) as replications, for an account
// administrator's key only: a user's or role's key pushes as itself.
func replicating(authenticate func(r *http.Request, payload [32]byte) (context.Context, *awsjson.WireError)) func(r *http.Request, payload [32]byte) (context.Context, *awsjson.WireError) {
	if authenticate == nil {
		return nil
	}
	return func(r *http.Request, payload [32]byte) (context.Context, *awsjson.WireError) {
		ctx, werr := authenticate(r, payload)
		if werr == nil && r.Header.Get(replication.ReplicatingHeader) != "" && registry.Caller(ctx).IsAccountAdmin() {
			ctx = registry.AsReplicating(ctx)
		}
		return ctx, werr
	}
}

// Handlers are what the ECR front end serves: the API (POST / with
// X-Amz-Target) and the layer downloads its URLs point to (under
// DownloadPath).
type Handlers struct {
	API       http.Handler
	Downloads http.Handler
}

// New returns the ECR front end over the core.
func New(reg *registry.Registry, o Options) (Handlers, error) {
	model, err := awsjson.LoadModel(modelJSON)
	if err != nil {
		return Handlers{}, fmt.Errorf("loading the ECR model: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{reg: reg, region: o.Region, hostname: o.Hostname, proxyEndpoint: o.ProxyEndpoint, tokens: o.Tokens, downloadKey: o.DownloadKey, log: log,
		registryHost: o.RegistryHost, scheme: o.Scheme}
	a.shared = a.sharedOps()
	if a.lifecycle = o.Lifecycle; a.lifecycle == nil {
		a.lifecycle = lifecycle.New(reg, lifecycle.Options{Logger: log})
	}
	if a.templates = o.Templates; a.templates == nil {
		a.templates = templates.New(reg)
	}
	if a.pullThrough = o.PullThrough; a.pullThrough == nil {
		a.pullThrough = pullthrough.New(reg, pullthrough.Options{Logger: log})
	}
	limits := make(map[string]int64, len(model.Operations()))
	for _, name := range model.Operations() {
		limits[name] = maxSmallBody
	}
	limits["UploadLayerPart"] = MaxBody
	limits["PutImage"] = maxPutImageBody
	api := &awsjson.Service{
		Model:         model,
		Ops:           a.operations(),
		MapError:      mapError,
		Logger:        o.Logger,
		MaxBody:       MaxBody,
		BodyLimits:    limits,
		Unimplemented: unimplemented,
		ServerError:   serverError,
		Precheck:      o.Precheck,
		Authenticate:  replicating(o.Authenticate),
		Bodies:        o.Bodies,
	}
	return Handlers{API: api, Downloads: a.downloadHandler()}, nil
}

// operations maps each implemented operation to its handler.
func (a *API) operations() map[string]awsjson.Handler {
	return map[string]awsjson.Handler{
		"CreateRepository":                        awsjson.Op(a.createRepository),
		"DescribeRepositories":                    awsjson.Op(a.describeRepositories),
		"DeleteRepository":                        awsjson.Op(a.deleteRepository),
		"ListTagsForResource":                     awsjson.Op(a.shared.ListTagsForResource),
		"BatchCheckLayerAvailability":             awsjson.Op(a.shared.BatchCheckLayerAvailability),
		"InitiateLayerUpload":                     awsjson.Op(a.shared.InitiateLayerUpload),
		"UploadLayerPart":                         awsjson.Op(a.shared.UploadLayerPart),
		"CompleteLayerUpload":                     awsjson.Op(a.shared.CompleteLayerUpload),
		"GetAuthorizationToken":                   awsjson.Op(a.getAuthorizationToken),
		"GetDownloadUrlForLayer":                  awsjson.Op(a.getDownloadURLForLayer),
		"UpdateImageStorageClass":                 awsjson.Op(a.updateImageStorageClass),
		"PutImageTagMutability":                   awsjson.Op(a.putImageTagMutability),
		"PutImage":                                awsjson.Op(a.shared.PutImage),
		"BatchGetImage":                           awsjson.Op(a.batchGetImage),
		"BatchDeleteImage":                        awsjson.Op(a.shared.BatchDeleteImage),
		"DescribeImages":                          awsjson.Op(a.describeImages),
		"ListImages":                              awsjson.Op(a.listImages),
		"GetRepositoryPolicy":                     awsjson.Op(a.shared.GetRepositoryPolicy),
		"SetRepositoryPolicy":                     awsjson.Op(a.shared.SetRepositoryPolicy),
		"DeleteRepositoryPolicy":                  awsjson.Op(a.shared.DeleteRepositoryPolicy),
		"TagResource":                             awsjson.Op(a.shared.TagResource),
		"UntagResource":                           awsjson.Op(a.shared.UntagResource),
		"PutImageScanningConfiguration":           awsjson.Op(a.putImageScanningConfiguration),
		"StartImageScan":                          awsjson.Op(a.startImageScan),
		"DescribeImageScanFindings":               awsjson.Op(a.describeImageScanFindings),
		"GetRegistryScanningConfiguration":        awsjson.Op(a.getRegistryScanningConfiguration),
		"PutRegistryScanningConfiguration":        awsjson.Op(a.putRegistryScanningConfiguration),
		"BatchGetRepositoryScanningConfiguration": awsjson.Op(a.batchGetRepositoryScanningConfiguration),
		"PutSigningConfiguration":                 awsjson.Op(a.putSigningConfiguration),
		"GetSigningConfiguration":                 awsjson.Op(a.getSigningConfiguration),
		"DeleteSigningConfiguration":              awsjson.Op(a.deleteSigningConfiguration),
		"DescribeImageSigningStatus":              awsjson.Op(a.describeImageSigningStatus),
		"ListImageReferrers":                      awsjson.Op(a.listImageReferrers),
		"GetRegistryPolicy":                       awsjson.Op(a.getRegistryPolicy),
		"PutRegistryPolicy":                       awsjson.Op(a.putRegistryPolicy),
		"DeleteRegistryPolicy":                    awsjson.Op(a.deleteRegistryPolicy),
		"DescribeRegistry":                        awsjson.Op(a.describeRegistry),
		"PutReplicationConfiguration":             awsjson.Op(a.putReplicationConfiguration),
		"GetAccountSetting":                       awsjson.Op(a.getAccountSetting),
		"PutAccountSetting":                       awsjson.Op(a.putAccountSetting),
		"RegisterPullTimeUpdateExclusion":         awsjson.Op(a.registerPullTimeUpdateExclusion),
		"DeregisterPullTimeUpdateExclusion":       awsjson.Op(a.deregisterPullTimeUpdateExclusion),
		"ListPullTimeUpdateExclusions":            awsjson.Op(a.listPullTimeUpdateExclusions),
		"DescribeImageReplicationStatus":          awsjson.Op(a.describeImageReplicationStatus),
		"PutLifecyclePolicy":                      awsjson.Op(a.putLifecyclePolicy),
		"GetLifecyclePolicy":                      awsjson.Op(a.getLifecyclePolicy),
		"DeleteLifecyclePolicy":                   awsjson.Op(a.deleteLifecyclePolicy),
		"StartLifecyclePolicyPreview":             awsjson.Op(a.startLifecyclePolicyPreview),
		"GetLifecyclePolicyPreview":               awsjson.Op(a.getLifecyclePolicyPreview),
		"CreatePullThroughCacheRule":              awsjson.Op(a.createPullThroughCacheRule),
		"DescribePullThroughCacheRules":           awsjson.Op(a.describePullThroughCacheRules),
		"UpdatePullThroughCacheRule":              awsjson.Op(a.updatePullThroughCacheRule),
		"DeletePullThroughCacheRule":              awsjson.Op(a.deletePullThroughCacheRule),
		"ValidatePullThroughCacheRule":            awsjson.Op(a.validatePullThroughCacheRule),
		"CreateRepositoryCreationTemplate":        awsjson.Op(a.createRepositoryCreationTemplate),
		"DescribeRepositoryCreationTemplates":     awsjson.Op(a.describeRepositoryCreationTemplates),
		"UpdateRepositoryCreationTemplate":        awsjson.Op(a.updateRepositoryCreationTemplate),
		"DeleteRepositoryCreationTemplate":        awsjson.Op(a.deleteRepositoryCreationTemplate),
	}
}

// sharedOps serves ECR's layer and image operations: registryId, when
// given, is an account ID.
func (a *API) sharedOps() *ecrshared.Ops {
	return &ecrshared.Ops{Reg: a.reg, ARNKey: a.arnKey, Key: func(_ context.Context, registryID, name string) (registry.RepoKey, error) {
		return repoKey(registryID, name)
	}}
}

// repoKey parses the registryId and repositoryName every repository
// operation carries.
func repoKey(registryID, name string) (registry.RepoKey, error) {
	var key registry.RepoKey
	if registryID != "" {
		id, err := registry.ParseRegistryID(registryID)
		if err != nil {
			return key, err
		}
		key.Registry = id
	}
	n, err := registry.ParseRepositoryName(name)
	if err != nil {
		return key, err
	}
	key.Name = n
	return key, nil
}

// hostOf is the host[:port] of an account's registry.
func (a *API) hostOf(account registry.RegistryID) string {
	if a.registryHost == nil {
		return a.hostname
	}
	return a.registryHost(string(account))
}

// proxyEndpointOf is the URL docker logs in to for an account's registry.
func (a *API) proxyEndpointOf(account registry.RegistryID) string {
	if a.registryHost == nil {
		return a.proxyEndpoint
	}
	return a.scheme + a.registryHost(string(account))
}
