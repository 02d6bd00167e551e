package ecrpublic

import (
	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
)

// The request and response shapes of ECR Public's operations. Field json
// names are the model's member names; TestShapesMatchModel holds them to it.

type createRepositoryInput struct {
	RepositoryName string          `json:"repositoryName"`
	CatalogData    *catalogInput   `json:"catalogData"`
	Tags           []ecrshared.Tag `json:"tags"`
}

type createRepositoryOutput struct {
	Repository  repository   `json:"repository"`
	CatalogData *catalogData `json:"catalogData,omitempty"`
}

type describeRepositoriesInput struct {
	RegistryID      string   `json:"registryId"`
	RepositoryNames []string `json:"repositoryNames"`
	NextToken       *string  `json:"nextToken"`
	MaxResults      *int     `json:"maxResults"`
}

type describeRepositoriesOutput struct {
	Repositories []repository `json:"repositories"`
	NextToken    string       `json:"nextToken,omitempty"`
}

type deleteRepositoryInput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	Force          bool   `json:"force"`
}

type deleteRepositoryOutput struct {
	Repository repository `json:"repository"`
}

type repository struct {
	RepositoryArn  string       `json:"repositoryArn"`
	RegistryID     string       `json:"registryId"`
	RepositoryName string       `json:"repositoryName"`
	RepositoryURI  string       `json:"repositoryUri"`
	CreatedAt      awsjson.Time `json:"createdAt"`
}

type catalogInput struct {
	Description      string   `json:"description"`
	Architectures    []string `json:"architectures"`
	OperatingSystems []string `json:"operatingSystems"`
	LogoImageBlob    []byte   `json:"logoImageBlob"`
	AboutText        string   `json:"aboutText"`
	UsageText        string   `json:"usageText"`
}

type catalogData struct {
	Description          string   `json:"description,omitempty"`
	Architectures        []string `json:"architectures,omitempty"`
	OperatingSystems     []string `json:"operatingSystems,omitempty"`
	LogoURL              string   `json:"logoUrl,omitempty"`
	AboutText            string   `json:"aboutText,omitempty"`
	UsageText            string   `json:"usageText,omitempty"`
	MarketplaceCertified bool     `json:"marketplaceCertified"`
}

type getRepositoryCatalogDataInput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
}

type getRepositoryCatalogDataOutput struct {
	CatalogData catalogData `json:"catalogData"`
}

type putRepositoryCatalogDataInput struct {
	RegistryID     string       `json:"registryId"`
	RepositoryName string       `json:"repositoryName"`
	CatalogData    catalogInput `json:"catalogData"`
}

type putRepositoryCatalogDataOutput struct {
	CatalogData catalogData `json:"catalogData"`
}

type describeRegistriesInput struct {
	NextToken  *string `json:"nextToken"`
	MaxResults *int    `json:"maxResults"`
}

type describeRegistriesOutput struct {
	Registries []publicRegistry `json:"registries"`
	NextToken  string           `json:"nextToken,omitempty"`
}

type publicRegistry struct {
	RegistryID  string          `json:"registryId"`
	RegistryArn string          `json:"registryArn"`
	RegistryURI string          `json:"registryUri"`
	Verified    bool            `json:"verified"`
	Aliases     []registryAlias `json:"aliases"`
}

type registryAlias struct {
	Name                 string `json:"name"`
	Status               string `json:"status"`
	PrimaryRegistryAlias bool   `json:"primaryRegistryAlias"`
	DefaultRegistryAlias bool   `json:"defaultRegistryAlias"`
}

type getRegistryCatalogDataInput struct{}

type getRegistryCatalogDataOutput struct {
	RegistryCatalogData registryCatalogData `json:"registryCatalogData"`
}

type putRegistryCatalogDataInput struct {
	DisplayName *string `json:"displayName"`
}

type putRegistryCatalogDataOutput struct {
	RegistryCatalogData registryCatalogData `json:"registryCatalogData"`
}

type registryCatalogData struct {
	DisplayName string `json:"displayName,omitempty"`
}

type getAuthorizationTokenInput struct{}

type getAuthorizationTokenOutput struct {
	AuthorizationData authorizationData `json:"authorizationData"`
}

type authorizationData struct {
	AuthorizationToken string       `json:"authorizationToken"`
	ExpiresAt          awsjson.Time `json:"expiresAt"`
}
