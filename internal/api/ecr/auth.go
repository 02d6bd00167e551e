package ecr

import (
	"context"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/auth"
	"github.com/ecrd/ecrd/internal/registry"
)

type getAuthorizationTokenInput struct {
	RegistryIDs []string `json:"registryIds"`
}

type getAuthorizationTokenOutput struct {
	AuthorizationData []authorizationData `json:"authorizationData"`
}

type authorizationData struct {
	AuthorizationToken string       `json:"authorizationToken"`
	ExpiresAt          awsjson.Time `json:"expiresAt"`
	ProxyEndpoint      string       `json:"proxyEndpoint"`
}

// getAuthorizationToken hands the caller a docker-login password bound to
// its account and access key. The deprecated registryIds are accepted, as
// ECR accepts them; a token is only ever for the caller's own registry, so
// one entry is returned whatever they name.
func (a *API) getAuthorizationToken(ctx context.Context, in *getAuthorizationTokenInput) (*getAuthorizationTokenOutput, error) {
	for _, id := range in.RegistryIDs {
		if _, err := registry.ParseRegistryID(id); err != nil {
			return nil, err
		}
	}
	if err := a.reg.AuthorizeService(ctx, "ecr", "GetAuthorizationToken"); err != nil {
		return nil, err
	}
	p := registry.Caller(ctx)
	password, expires := a.tokens.Issue(string(p.Account), p.AccessKeyID, false)
	return &getAuthorizationTokenOutput{AuthorizationData: []authorizationData{{
		AuthorizationToken: auth.EncodeAuthorizationToken(password),
		ExpiresAt:          awsjson.Time{Time: expires},
		ProxyEndpoint:      a.proxyEndpointOf(p.Account),
	}}}, nil
}
