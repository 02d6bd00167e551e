// Package pullthrough is ECR's pull through cache over the core: the
// rules that make a registry's repositories under a prefix caches of an
// upstream registry, and the upstream clients that fill them.
package pullthrough

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// MaxRules is how many rules a registry may have (ECR's quota).
const MaxRules = 50

// DefaultPageSize is the page DescribePullThroughCacheRules returns
// without maxResults.
const DefaultPageSize = 100

// Options configure a Service.
type Options struct {
	Upstreams Upstreams
	Secrets   Secrets
	// HTTPClient reaches the upstreams; when nil, one through the
	// environment's proxy (HTTPS_PROXY) that gives up on an upstream that
	// does not connect or answer (upstreamClient).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Service serves the rule operations and pulls through the cache.
type Service struct {
	reg       *registry.Registry
	upstreams Upstreams
	secrets   Secrets
	http      *http.Client
	log       *slog.Logger
	flights   flights
	// rulesCache serves the rules to cache hits (pull.go).
	rulesCache rulesCache
}

// New returns the service over the core.
func New(reg *registry.Registry, o Options) *Service {
	s := &Service{reg: reg, upstreams: o.Upstreams, secrets: o.Secrets, http: o.HTTPClient, log: o.Logger}
	if s.http == nil {
		s.http = upstreamClient()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// NewRule is what CreatePullThroughCacheRule is sent.
type NewRule struct {
	Prefix, UpstreamURL, UpstreamRegistry, UpstreamPrefix, CredentialARN, CustomRoleARN string
}

// registryOf is the registry a request names: the caller's own, whose
// rules these operations keep.
func registryOf(ctx context.Context, registryID string) (registry.RegistryID, error) {
	reg := registry.Caller(ctx).Account
	if registryID != "" && registryID != string(reg) {
		return reg, registry.Errorf(registry.CodeInvalidParameter,
			"Invalid parameter at 'registryId': pull through cache rules are kept by the caller's own registry, %s", reg)
	}
	return reg, nil
}

func ruleNotFound(reg registry.RegistryID, prefix string) error {
	return registry.Errorf(registry.CodePullThroughRuleNotFound,
		"The pull through cache rule with prefix '%s' does not exist in the registry with id '%s'", prefix, reg)
}

func invalidURL(u string) error {
	return registry.Errorf(registry.CodeUnsupportedUpstreamRegistry,
		"The upstream registry URL %s is invalid. Specify a valid upstream registry URL and try again", u)
}

// Create adds a rule to the caller's registry.
// Errors: PullThroughRuleAlreadyExists, UnsupportedUpstreamRegistry,
// LimitExceeded, the secret's errors, InvalidParameter, AccessDenied.
func (s *Service) Create(ctx context.Context, registryID string, in NewRule) (registry.RegistryID, registry.PullThroughRule, error) {
	reg, err := registryOf(ctx, registryID)
	if err != nil {
		return reg, registry.PullThroughRule{}, err
	}
	if err := s.reg.AuthorizeService(ctx, "ecr", "CreatePullThroughCacheRule"); err != nil {
		return reg, registry.PullThroughRule{}, err
	}
	kind, ok := kindOf(in.UpstreamURL)
	if !ok || (in.UpstreamRegistry != "" && in.UpstreamRegistry != kind.name) {
		return reg, registry.PullThroughRule{}, invalidURL(in.UpstreamURL)
	}
	switch {
	case kind.auth && in.CredentialARN == "":
		return reg, registry.PullThroughRule{}, registry.Errorf(registry.CodeUnsupportedUpstreamRegistry,
			"The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN for the credentialArn and try again")
	case in.UpstreamPrefix != "" && in.UpstreamPrefix != registry.RootPrefix && in.Prefix == registry.RootPrefix:
		return reg, registry.PullThroughRule{}, registry.Errorf(registry.CodeInvalidParameter,
			"Invalid parameter: an upstreamRepositoryPrefix can only be set when the ecrRepositoryPrefix is not ROOT")
	}
	if in.CredentialARN != "" {
		if _, err := s.secrets.Get(reg, in.CredentialARN); err != nil && !errors.Is(err, errMalformed) {
			return reg, registry.PullThroughRule{}, err
		}
	}
	if err := checkRole(reg, in.CustomRoleARN); err != nil {
		return reg, registry.PullThroughRule{}, err
	}
	if kind.name == "ecr" && in.CustomRoleARN == "" && !strings.HasPrefix(in.UpstreamURL, string(reg)+".") {
		return reg, registry.PullThroughRule{}, registry.Errorf(registry.CodeInvalidParameter,
			"Invalid parameter: a customRoleArn is required for an upstream ECR registry of another account")
	}
	now := s.reg.Now().UTC()
	r := registry.PullThroughRule{Prefix: in.Prefix, UpstreamURL: in.UpstreamURL, UpstreamRegistry: kind.name,
		UpstreamPrefix: in.UpstreamPrefix, CredentialARN: in.CredentialARN, CustomRoleARN: in.CustomRoleARN, CreatedAt: now, UpdatedAt: now}
	if r.UpstreamPrefix == "" {
		r.UpstreamPrefix = registry.RootPrefix
	}
	err = s.reg.Update(ctx, func(tx registry.Tx) error {
		rules, err := tx.PullThroughRules(reg)
		if err != nil {
			return err
		}
		if len(rules) >= MaxRules {
			return registry.Errorf(registry.CodeLimitExceeded,
				"The registry %s has %d pull through cache rules, the most it may have", reg, MaxRules)
		}
		return tx.CreatePullThroughRule(reg, r)
	})
	if errors.Is(err, registry.ErrExists) {
		err = registry.Errorf(registry.CodePullThroughRuleAlreadyExists,
			"A pull through cache rule with prefix '%s' already exists in the registry with id '%s'", in.Prefix, reg)
	}
	return reg, r, err
}

// checkRole refuses a customRoleArn that is not a role of reg's account.
func checkRole(reg registry.RegistryID, arn string) error {
	if arn == "" {
		return nil
	}
	if !strings.HasPrefix(arn, "arn:aws") || !strings.Contains(arn, ":iam::"+string(reg)+":role/") {
		return registry.Errorf(registry.CodeInvalidParameter,
			"Invalid parameter at 'customRoleArn': '%s' is not the ARN of an IAM role of account %s", arn, reg)
	}
	return nil
}

// rule reads the caller's rule of prefix: PullThroughRuleNotFound when
// there is none.
func (s *Service) rule(ctx context.Context, reg registry.RegistryID, prefix string) (registry.PullThroughRule, error) {
	var rules []registry.PullThroughRule
	err := s.reg.View(ctx, func(tx registry.Tx) (err error) {
		rules, err = tx.PullThroughRules(reg)
		return err
	})
	if err != nil {
		return registry.PullThroughRule{}, err
	}
	return findRule(rules, reg, prefix)
}

// findRule is the rule of prefix among rules: PullThroughRuleNotFound
// when there is none.
func findRule(rules []registry.PullThroughRule, reg registry.RegistryID, prefix string) (registry.PullThroughRule, error) {
	i := slices.IndexFunc(rules, func(r registry.PullThroughRule) bool { return r.Prefix == prefix })
	if i < 0 {
		return registry.PullThroughRule{}, ruleNotFound(reg, prefix)
	}
	return rules[i], nil
}

// Update changes a rule's credentials: its credentialArn, its
// customRoleArn, or both (nil leaves one as it is).
// Errors: PullThroughRuleNotFound, InvalidParameter, the secret's errors.
func (s *Service) Update(ctx context.Context, registryID, prefix string, credentialARN, customRoleARN *string) (registry.RegistryID, registry.PullThroughRule, error) {
	reg, err := registryOf(ctx, registryID)
	if err != nil {
		return reg, registry.PullThroughRule{}, err
	}
	if err := s.reg.AuthorizeService(ctx, "ecr", "UpdatePullThroughCacheRule"); err != nil {
		return reg, registry.PullThroughRule{}, err
	}
	if credentialARN == nil && customRoleARN == nil {
		return reg, registry.PullThroughRule{}, registry.Errorf(registry.CodeInvalidParameter,
			"Invalid input: Please set either credential arn or role arn to update the credentials")
	}
	if credentialARN != nil && *credentialARN != "" {
		if _, err := s.secrets.Get(reg, *credentialARN); err != nil && !errors.Is(err, errMalformed) {
			return reg, registry.PullThroughRule{}, err
		}
	}
	if customRoleARN != nil {
		if err := checkRole(reg, *customRoleARN); err != nil {
			return reg, registry.PullThroughRule{}, err
		}
	}
	var r registry.PullThroughRule
	err = s.reg.Update(ctx, func(tx registry.Tx) error {
		rules, err := tx.PullThroughRules(reg)
		if err != nil {
			return err
		}
		if r, err = findRule(rules, reg, prefix); err != nil {
			return err
		}
		if credentialARN != nil {
			r.CredentialARN = *credentialARN
		}
		if customRoleARN != nil {
			r.CustomRoleARN = *customRoleARN
		}
		if kind, _ := kindOf(r.UpstreamURL); kind.auth && r.CredentialARN == "" {
			return registry.Errorf(registry.CodeInvalidParameter,
				"Invalid parameter: the upstream registry %s requires authentication; the credentialArn can't be removed", r.UpstreamURL)
		}
		r.UpdatedAt = s.reg.Now().UTC()
		return tx.UpdatePullThroughRule(reg, r)
	})
	return reg, r, err
}

// Delete removes a rule; the repositories it cached stay, as in ECR.
// Errors: PullThroughRuleNotFound, AccessDenied.
func (s *Service) Delete(ctx context.Context, registryID, prefix string) (registry.RegistryID, registry.PullThroughRule, error) {
	reg, err := registryOf(ctx, registryID)
	if err != nil {
		return reg, registry.PullThroughRule{}, err
	}
	if err := s.reg.AuthorizeService(ctx, "ecr", "DeletePullThroughCacheRule"); err != nil {
		return reg, registry.PullThroughRule{}, err
	}
	var r registry.PullThroughRule
	err = s.reg.Update(ctx, func(tx registry.Tx) error {
		rules, err := tx.PullThroughRules(reg)
		if err != nil {
			return err
		}
		if r, err = findRule(rules, reg, prefix); err != nil {
			return err
		}
		return tx.DeletePullThroughRule(reg, prefix)
	})
	return reg, r, err
}

// Describe returns a page of the caller's rules in prefix order, of the
// given prefixes only when any are given: one without a rule is
// PullThroughRuleNotFound, as in ECR.
func (s *Service) Describe(ctx context.Context, registryID string, prefixes []string, page registry.Page) (registry.RegistryID, []registry.PullThroughRule, string, error) {
	reg, err := registryOf(ctx, registryID)
	if err != nil {
		return reg, nil, "", err
	}
	if err := s.reg.AuthorizeService(ctx, "ecr", "DescribePullThroughCacheRules"); err != nil {
		return reg, nil, "", err
	}
	after, err := registry.DecodePageToken("pull-through-rules", page.Token)
	if err != nil {
		return reg, nil, "", err
	}
	if page.Max <= 0 {
		page.Max = DefaultPageSize
	}
	var rules []registry.PullThroughRule
	err = s.reg.View(ctx, func(tx registry.Tx) (err error) {
		rules, err = tx.PullThroughRules(reg)
		return err
	})
	if err != nil {
		return reg, nil, "", err
	}
	for _, p := range prefixes {
		if !slices.ContainsFunc(rules, func(r registry.PullThroughRule) bool { return r.Prefix == p }) {
			return reg, nil, "", ruleNotFound(reg, p)
		}
	}
	out := make([]registry.PullThroughRule, 0, min(len(rules), page.Max))
	for _, r := range rules {
		if (after != "" && r.Prefix <= after) || (len(prefixes) > 0 && !slices.Contains(prefixes, r.Prefix)) {
			continue
		}
		if len(out) == page.Max {
			return reg, out, registry.EncodePageToken("pull-through-rules", out[len(out)-1].Prefix), nil
		}
		out = append(out, r)
	}
	return reg, out, "", nil
}

// Validation is ValidatePullThroughCacheRule's answer beside the rule.
type Validation struct {
	Valid   bool
	Failure string
}

// Validate reads the rule's secret and authenticates to its upstream
// with it, as ECR does: a rule that cannot reach or log in to its
// upstream is not an error but invalid, and Failure says why.
// Errors: PullThroughRuleNotFound, AccessDenied.
func (s *Service) Validate(ctx context.Context, registryID, prefix string) (registry.RegistryID, registry.PullThroughRule, Validation, error) {
	reg, err := registryOf(ctx, registryID)
	if err != nil {
		return reg, registry.PullThroughRule{}, Validation{}, err
	}
	if err := s.reg.AuthorizeService(ctx, "ecr", "ValidatePullThroughCacheRule"); err != nil {
		return reg, registry.PullThroughRule{}, Validation{}, err
	}
	r, err := s.rule(ctx, reg, prefix)
	if err != nil {
		return reg, r, Validation{}, err
	}
	c, err := s.client(ctx, reg, r)
	if err == nil {
		err = c.ping(ctx)
	}
	switch {
	case err == nil:
		return reg, r, Validation{Valid: true}, nil
	case errors.Is(err, errMalformed):
		return reg, r, Validation{Failure: "The secret " + r.CredentialARN + " does not hold a JSON object with a username and an accessToken"}, nil
	case errors.Is(err, errAuth):
		return reg, r, Validation{Failure: "The authentication to the upstream registry failed. Verify that the credentials provided in the pull through cache rule are correct, and try again."}, nil
	case ctx.Err() != nil:
		return reg, r, Validation{}, ctx.Err()
	}
	var de *registry.Error
	if errors.As(err, &de) {
		return reg, r, Validation{Failure: de.Message}, nil
	}
	return reg, r, Validation{Failure: fmt.Sprintf("Unable to reach the upstream registry %s: %v", r.UpstreamURL, err)}, nil
}

// client is an upstream client for the rule, with its credentials: the
// secret's, or for an upstream ECR registry the password its
// GetAuthorizationToken gives the rule's role (anonymous without one).
func (s *Service) client(ctx context.Context, reg registry.RegistryID, r registry.PullThroughRule) (*client, error) {
	base := s.upstreams.base(r.UpstreamURL)
	var creds *Credentials
	if r.UpstreamRegistry == "ecr" && r.CustomRoleARN != "" {
		keys, err := s.secrets.roleKeys(reg, r.CustomRoleARN)
		if err != nil {
			return nil, err
		}
		pw, err := ecrLogin(ctx, s.http, base, ecrRegion(r.UpstreamURL), keys)
		if err != nil {
			return nil, err
		}
		return newClient(base, &Credentials{Username: "AWS", AccessToken: pw}, s.http), nil
	}
	if r.CredentialARN != "" {
		c, err := s.secrets.Get(reg, r.CredentialARN)
		if err != nil {
			return nil, err
		}
		creds = &c
	}
	return newClient(base, creds, s.http), nil
}

// upstreamClient reaches upstreams through the environment's proxy, and
// gives up on one that does not connect in 10s, or answer a request's
// headers in 30s; a body that stalls is importBlob's to cut.
func upstreamClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: t}
}
