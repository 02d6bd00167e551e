package ecrpublic

import (
	"context"
	"strings"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/registry"
)

// describeRegistries lists the caller's public registry: an account has
// exactly one, so there is never a next page.
func (a *API) describeRegistries(ctx context.Context, in *describeRegistriesInput) (*describeRegistriesOutput, error) {
	if in.NextToken != nil && *in.NextToken != "" {
		return nil, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter at 'nextToken': the token was not issued by this listing")
	}
	p, err := a.reg.CallerPublicRegistry(ctx)
	if err != nil {
		return nil, err
	}
	return &describeRegistriesOutput{Registries: []publicRegistry{{
		RegistryID:  string(p.Account),
		RegistryArn: registry.PublicRegistryARN(p.Account),
		RegistryURI: a.hostname + "/" + p.Alias,
		Verified:    false,
		Aliases:     []registryAlias{{Name: p.Alias, Status: "ACTIVE", PrimaryRegistryAlias: true, DefaultRegistryAlias: true}},
	}}}, nil
}

func (a *API) getRegistryCatalogData(ctx context.Context, _ *getRegistryCatalogDataInput) (*getRegistryCatalogDataOutput, error) {
	p, err := a.reg.CallerPublicRegistry(ctx)
	if err != nil {
		return nil, err
	}
	return &getRegistryCatalogDataOutput{RegistryCatalogData: registryCatalogData{DisplayName: p.DisplayName}}, nil
}

// putRegistryCatalogData sets the display name; an absent displayName
// clears it, as the whole catalog data is replaced.
func (a *API) putRegistryCatalogData(ctx context.Context, in *putRegistryCatalogDataInput) (*putRegistryCatalogDataOutput, error) {
	var name string
	if in.DisplayName != nil {
		name = *in.DisplayName
	}
	p, err := a.reg.PutRegistryDisplayName(ctx, name)
	if err != nil {
		return nil, err
	}
	return &putRegistryCatalogDataOutput{RegistryCatalogData: registryCatalogData{DisplayName: p.DisplayName}}, nil
}

// arnKey parses a public repository's ARN,
// arn:aws:ecr-public::<account>:repository/<name>; only repositories carry
// tags.
func (a *API) arnKey(ctx context.Context, arn string) (registry.RepoKey, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "ecr-public" || parts[3] != "" || !strings.HasPrefix(parts[5], "repository/") {
		return registry.RepoKey{}, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter at 'resourceArn': '%s' is not the ARN of a public repository (arn:aws:ecr-public::<account>:repository/<name>)", arn)
	}
	if _, err := registry.ParseRegistryID(parts[4]); err != nil {
		return registry.RepoKey{}, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter at 'resourceArn': '%s' does not name an account", arn)
	}
	return a.key(ctx, parts[4], strings.TrimPrefix(parts[5], "repository/"), false)
}

// getAuthorizationToken hands the caller a password for docker login to
// the public listener (pushes; pulls need none), bound to its account and
// access key.
func (a *API) getAuthorizationToken(ctx context.Context, _ *getAuthorizationTokenInput) (*getAuthorizationTokenOutput, error) {
	if err := a.reg.AuthorizeService(ctx, "ecr-public", "GetAuthorizationToken"); err != nil {
		return nil, err
	}
	p := registry.Caller(ctx)
	password, expires := a.tokens.IssuePublic(string(p.Account), p.AccessKeyID, false)
	return &getAuthorizationTokenOutput{AuthorizationData: authorizationData{
		AuthorizationToken: auth.EncodeAuthorizationToken(password),
		ExpiresAt:          awsjson.Time{Time: expires},
	}}, nil
}
