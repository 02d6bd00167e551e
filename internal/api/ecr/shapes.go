package ecr

import (
	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
)

// The request and response shapes of the implemented operations. Field json
// names are the model's member names; TestShapesMatchModel holds them to it.

type createRepositoryInput struct {
	RegistryID                         string            `json:"registryId"`
	RepositoryName                     string            `json:"repositoryName"`
	Tags                               []ecrshared.Tag   `json:"tags"`
	ImageTagMutability                 string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter `json:"imageTagMutabilityExclusionFilters"`
	ImageScanningConfiguration         *scanningConfig   `json:"imageScanningConfiguration"`
	EncryptionConfiguration            *encryptionConfig `json:"encryptionConfiguration"`
}

type createRepositoryOutput struct {
	Repository repository `json:"repository"`
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
	RepositoryArn                      string            `json:"repositoryArn"`
	RegistryID                         string            `json:"registryId"`
	RepositoryName                     string            `json:"repositoryName"`
	RepositoryURI                      string            `json:"repositoryUri"`
	CreatedAt                          awsjson.Time      `json:"createdAt"`
	ImageTagMutability                 string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter `json:"imageTagMutabilityExclusionFilters,omitempty"`
	ImageScanningConfiguration         scanningConfig    `json:"imageScanningConfiguration"`
	EncryptionConfiguration            encryptionConfig  `json:"encryptionConfiguration"`
}

type exclusionFilter struct {
	FilterType string `json:"filterType"`
	Filter     string `json:"filter"`
}

type scanningConfig struct {
	ScanOnPush bool `json:"scanOnPush"`
}

type encryptionConfig struct {
	EncryptionType string `json:"encryptionType"`
	KMSKey         string `json:"kmsKey,omitempty"`
}
