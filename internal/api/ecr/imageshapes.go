package ecr

import (
	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
)

// The request and response shapes of the image operations; see shapes.go.
// The shapes ECR Public shares are ecrshared's.

type (
	imageIdentifier = ecrshared.ImageIdentifier
	image           = ecrshared.Image
	imageFailure    = ecrshared.ImageFailure
)

type batchGetImageInput struct {
	RegistryID         string            `json:"registryId"`
	RepositoryName     string            `json:"repositoryName"`
	ImageIDs           []imageIdentifier `json:"imageIds"`
	AcceptedMediaTypes []string          `json:"acceptedMediaTypes"`
}

// batchGetImageOutput always carries both lists, as ECR does.
type batchGetImageOutput struct {
	Images   []image        `json:"images"`
	Failures []imageFailure `json:"failures"`
}

type describeImagesInput struct {
	RegistryID     string            `json:"registryId"`
	RepositoryName string            `json:"repositoryName"`
	ImageIDs       []imageIdentifier `json:"imageIds"`
	NextToken      *string           `json:"nextToken"`
	MaxResults     *int              `json:"maxResults"`
	Filter         *imageFilter      `json:"filter"`
}

type describeImagesOutput struct {
	ImageDetails []imageDetail `json:"imageDetails"`
	NextToken    string        `json:"nextToken,omitempty"`
}

type listImagesInput struct {
	RegistryID     string       `json:"registryId"`
	RepositoryName string       `json:"repositoryName"`
	NextToken      *string      `json:"nextToken"`
	MaxResults     *int         `json:"maxResults"`
	Filter         *imageFilter `json:"filter"`
}

type listImagesOutput struct {
	ImageIDs  []imageIdentifier `json:"imageIds"`
	NextToken string            `json:"nextToken,omitempty"`
}

// imageFilter is both DescribeImagesFilter and ListImagesFilter, which have
// the same members.
type imageFilter struct {
	TagStatus   string `json:"tagStatus"`
	ImageStatus string `json:"imageStatus"`
}

// imageDetail leaves out what an image does not have rather than sending
// null or zero: no tags, no artifact type, never pulled, archived or
// restored, no subject.
type imageDetail struct {
	RegistryID             string       `json:"registryId"`
	RepositoryName         string       `json:"repositoryName"`
	ImageDigest            string       `json:"imageDigest"`
	ImageTags              []string     `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64        `json:"imageSizeInBytes"`
	ImagePushedAt          awsjson.Time `json:"imagePushedAt"`
	ImageManifestMediaType string       `json:"imageManifestMediaType"`
	ArtifactMediaType      string       `json:"artifactMediaType,omitempty"`
	LastRecordedPullTime   awsjson.Time `json:"lastRecordedPullTime,omitzero"`
	ImageStatus            string       `json:"imageStatus"`
	LastArchivedAt         awsjson.Time `json:"lastArchivedAt,omitzero"`
	LastActivatedAt        awsjson.Time `json:"lastActivatedAt,omitzero"`
	SubjectManifestDigest  string       `json:"subjectManifestDigest,omitempty"`
	// The image's scan, when it has one.
	ImageScanStatus          *imageScanStatus          `json:"imageScanStatus,omitempty"`
	ImageScanFindingsSummary *imageScanFindingsSummary `json:"imageScanFindingsSummary,omitempty"`
}
