package ecrpublic

import (
	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
)

// The shapes of the image queries; those ECR shares are ecrshared's.

type imageIdentifier = ecrshared.ImageIdentifier

type describeImagesInput struct {
	RegistryID     string            `json:"registryId"`
	RepositoryName string            `json:"repositoryName"`
	ImageIDs       []imageIdentifier `json:"imageIds"`
	NextToken      *string           `json:"nextToken"`
	MaxResults     *int              `json:"maxResults"`
}

type describeImagesOutput struct {
	ImageDetails []imageDetail `json:"imageDetails"`
	NextToken    string        `json:"nextToken,omitempty"`
}

type imageDetail struct {
	RegistryID             string       `json:"registryId"`
	RepositoryName         string       `json:"repositoryName"`
	ImageDigest            string       `json:"imageDigest"`
	ImageTags              []string     `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64        `json:"imageSizeInBytes"`
	ImagePushedAt          awsjson.Time `json:"imagePushedAt"`
	ImageManifestMediaType string       `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string       `json:"artifactMediaType,omitempty"`
}

type describeImageTagsInput struct {
	RegistryID     string  `json:"registryId"`
	RepositoryName string  `json:"repositoryName"`
	NextToken      *string `json:"nextToken"`
	MaxResults     *int    `json:"maxResults"`
}

type describeImageTagsOutput struct {
	ImageTagDetails []imageTagDetail `json:"imageTagDetails"`
	NextToken       string           `json:"nextToken,omitempty"`
}

type imageTagDetail struct {
	ImageTag    string                `json:"imageTag"`
	CreatedAt   awsjson.Time          `json:"createdAt"`
	ImageDetail referencedImageDetail `json:"imageDetail"`
}

type referencedImageDetail struct {
	ImageDigest            string       `json:"imageDigest"`
	ImageSizeInBytes       int64        `json:"imageSizeInBytes"`
	ImagePushedAt          awsjson.Time `json:"imagePushedAt"`
	ImageManifestMediaType string       `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string       `json:"artifactMediaType,omitempty"`
}
