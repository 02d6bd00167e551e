package ecr

import "github.com/ecrd/ecrd/internal/api/awsjson"

// The request and response shapes of the implemented operations. Field json
// names are the model's member names; TestShapesMatchModel holds them to it.

type createRepositoryInput struct {
	RegistryID                         string            `json:"registryId"`
	RepositoryName                     string            `json:"repositoryName"`
	Tags                               []tag             `json:"tags"`
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

type listTagsForResourceInput struct {
	ResourceArn string `json:"resourceArn"`
}

type listTagsForResourceOutput struct {
	Tags []tag `json:"tags"`
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

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
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

type batchCheckLayerAvailabilityInput struct {
	RegistryID     string   `json:"registryId"`
	RepositoryName string   `json:"repositoryName"`
	LayerDigests   []string `json:"layerDigests"`
}

// batchCheckLayerAvailabilityOutput always carries both lists, empty or not:
// ECR does, and clients such as the containerd ECR resolver tell "not found"
// from "invalid" by which list has entries.
type batchCheckLayerAvailabilityOutput struct {
	Layers   []layer        `json:"layers"`
	Failures []layerFailure `json:"failures"`
}

type layer struct {
	LayerDigest       string `json:"layerDigest"`
	LayerAvailability string `json:"layerAvailability"`
	LayerSize         int64  `json:"layerSize"`
	MediaType         string `json:"mediaType,omitempty"`
}

type layerFailure struct {
	LayerDigest   string `json:"layerDigest"`
	FailureCode   string `json:"failureCode"`
	FailureReason string `json:"failureReason"`
}

type initiateLayerUploadInput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
}

type initiateLayerUploadOutput struct {
	UploadID string `json:"uploadId"`
	PartSize int64  `json:"partSize"`
}

type uploadLayerPartInput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	UploadID       string `json:"uploadId"`
	PartFirstByte  int64  `json:"partFirstByte"`
	PartLastByte   int64  `json:"partLastByte"`
	LayerPartBlob  []byte `json:"layerPartBlob"`
}

type uploadLayerPartOutput struct {
	RegistryID       string `json:"registryId"`
	RepositoryName   string `json:"repositoryName"`
	UploadID         string `json:"uploadId"`
	LastByteReceived int64  `json:"lastByteReceived"`
}

type completeLayerUploadInput struct {
	RegistryID     string   `json:"registryId"`
	RepositoryName string   `json:"repositoryName"`
	UploadID       string   `json:"uploadId"`
	LayerDigests   []string `json:"layerDigests"`
}

type completeLayerUploadOutput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	UploadID       string `json:"uploadId"`
	LayerDigest    string `json:"layerDigest"`
}
