// Package ecrshared is what the ECR and ECR Public front ends share: the
// layer and image operations whose shapes are the same in both models,
// and the mapping of domain errors to AWS JSON exceptions. Each front end
// still owns its error table and decides how a request's registryId names
// a registry.
package ecrshared

// The shapes the two models have in common. Field json names are the
// models' member names; each front end's TestShapesMatchModel holds them
// to its own model.

type BatchCheckLayerAvailabilityInput struct {
	RegistryID     string   `json:"registryId"`
	RepositoryName string   `json:"repositoryName"`
	LayerDigests   []string `json:"layerDigests"`
}

// BatchCheckLayerAvailabilityOutput always carries both lists, empty or
// not: ECR does, and clients such as the containerd ECR resolver tell "not
// found" from "invalid" by which list has entries.
type BatchCheckLayerAvailabilityOutput struct {
	Layers   []Layer        `json:"layers"`
	Failures []LayerFailure `json:"failures"`
}

type Layer struct {
	LayerDigest       string `json:"layerDigest"`
	LayerAvailability string `json:"layerAvailability"`
	LayerSize         int64  `json:"layerSize"`
	MediaType         string `json:"mediaType,omitempty"`
}

type LayerFailure struct {
	LayerDigest   string `json:"layerDigest"`
	FailureCode   string `json:"failureCode"`
	FailureReason string `json:"failureReason"`
}

type InitiateLayerUploadInput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
}

type InitiateLayerUploadOutput struct {
	UploadID string `json:"uploadId"`
	PartSize int64  `json:"partSize"`
}

type UploadLayerPartInput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	UploadID       string `json:"uploadId"`
	PartFirstByte  int64  `json:"partFirstByte"`
	PartLastByte   int64  `json:"partLastByte"`
	LayerPartBlob  []byte `json:"layerPartBlob"`
}

type UploadLayerPartOutput struct {
	RegistryID       string `json:"registryId"`
	RepositoryName   string `json:"repositoryName"`
	UploadID         string `json:"uploadId"`
	LastByteReceived int64  `json:"lastByteReceived"`
}

type CompleteLayerUploadInput struct {
	RegistryID     string   `json:"registryId"`
	RepositoryName string   `json:"repositoryName"`
	UploadID       string   `json:"uploadId"`
	LayerDigests   []string `json:"layerDigests"`
}

type CompleteLayerUploadOutput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	UploadID       string `json:"uploadId"`
	LayerDigest    string `json:"layerDigest"`
}

type PutImageInput struct {
	RegistryID             string `json:"registryId"`
	RepositoryName         string `json:"repositoryName"`
	ImageManifest          string `json:"imageManifest"`
	ImageManifestMediaType string `json:"imageManifestMediaType"`
	ImageTag               string `json:"imageTag"`
	ImageDigest            string `json:"imageDigest"`
}

type PutImageOutput struct {
	Image Image `json:"image"`
}

type BatchDeleteImageInput struct {
	RegistryID     string            `json:"registryId"`
	RepositoryName string            `json:"repositoryName"`
	ImageIDs       []ImageIdentifier `json:"imageIds"`
}

// BatchDeleteImageOutput always carries both lists, as ECR does.
type BatchDeleteImageOutput struct {
	ImageIDs []ImageIdentifier `json:"imageIds"`
	Failures []ImageFailure    `json:"failures"`
}

// ImageIdentifier leaves out what is absent: an untagged image has no
// imageTag, and a failure echoes only what the client sent.
type ImageIdentifier struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

type Image struct {
	RegistryID             string          `json:"registryId"`
	RepositoryName         string          `json:"repositoryName"`
	ImageID                ImageIdentifier `json:"imageId"`
	ImageManifest          string          `json:"imageManifest"`
	ImageManifestMediaType string          `json:"imageManifestMediaType"`
}

type ImageFailure struct {
	ImageID       ImageIdentifier `json:"imageId"`
	FailureCode   string          `json:"failureCode"`
	FailureReason string          `json:"failureReason"`
}
