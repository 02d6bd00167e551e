package ecr

import (
	"fmt"
	"net/http"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/registry"
)

// exceptions is the one table from domain codes to ECR exceptions. Every
// modeled ECR exception is a client error (HTTP 400) except ServerException.
// TestErrorTable walks every registry.Code through it and checks each
// __type against the model.
var exceptions = map[registry.Code]string{
	registry.CodeInvalidParameter:                    "InvalidParameterException",
	registry.CodeRepositoryNotFound:                  "RepositoryNotFoundException",
	registry.CodeRepositoryAlreadyExists:             "RepositoryAlreadyExistsException",
	registry.CodeRepositoryNotEmpty:                  "RepositoryNotEmptyException",
	registry.CodeTooManyTags:                         "TooManyTagsException",
	registry.CodeInvalidTagParameter:                 "InvalidTagParameterException",
	registry.CodeUploadNotFound:                      "UploadNotFoundException",
	registry.CodeInvalidLayerPart:                    "InvalidLayerPartException",
	registry.CodeLayerPartTooSmall:                   "LayerPartTooSmallException",
	registry.CodeEmptyUpload:                         "EmptyUploadException",
	registry.CodeInvalidLayer:                        "InvalidLayerException",
	registry.CodeLayerAlreadyExists:                  "LayerAlreadyExistsException",
	registry.CodeLimitExceeded:                       "LimitExceededException",
	registry.CodeAccessDenied:                        "AccessDeniedException",
	registry.CodeImageNotFound:                       "ImageNotFoundException",
	registry.CodeImageAlreadyExists:                  "ImageAlreadyExistsException",
	registry.CodeImageTagAlreadyExists:               "ImageTagAlreadyExistsException",
	registry.CodeImageDigestDoesNotMatch:             "ImageDigestDoesNotMatchException",
	registry.CodeLayersNotFound:                      "LayersNotFoundException",
	registry.CodeReferencedImagesNotFound:            "ReferencedImagesNotFoundException",
	registry.CodeImageStorageClassUpdateNotSupported: "ImageStorageClassUpdateNotSupportedException",
	registry.CodeLayerInaccessible:                   "LayerInaccessibleException",
	registry.CodeRepositoryPolicyNotFound:            "RepositoryPolicyNotFoundException",
	registry.CodeRegistryPolicyNotFound:              "RegistryPolicyNotFoundException",
	registry.CodeLifecyclePolicyNotFound:             "LifecyclePolicyNotFoundException",
	registry.CodePreviewNotFound:                     "LifecyclePolicyPreviewNotFoundException",
	registry.CodePreviewInProgress:                   "LifecyclePolicyPreviewInProgressException",
	registry.CodeTemplateNotFound:                    "TemplateNotFoundException",
	registry.CodeTemplateAlreadyExists:               "TemplateAlreadyExistsException",
	registry.CodePullThroughRuleAlreadyExists:        "PullThroughCacheRuleAlreadyExistsException",
	registry.CodePullThroughRuleNotFound:             "PullThroughCacheRuleNotFoundException",
	registry.CodeUnsupportedUpstreamRegistry:         "UnsupportedUpstreamRegistryException",
	registry.CodeSecretNotFound:                      "SecretNotFoundException",
	registry.CodeUnableToAccessSecret:                "UnableToAccessSecretException",
	registry.CodeUpstreamUnavailable:                 "UnableToGetUpstreamImageException",
	registry.CodeExclusionAlreadyExists:              "ExclusionAlreadyExistsException",
	registry.CodeExclusionNotFound:                   "ExclusionNotFoundException",
	registry.CodeScanNotFound:                        "ScanNotFoundException",
	registry.CodeUnsupportedImageType:                "UnsupportedImageTypeException",
	registry.CodeImageArchived:                       "ImageArchivedException",
	registry.CodeSigningConfigNotFound:               "SigningConfigurationNotFoundException",
	registry.CodeValidation:                          "ValidationException",
	registry.CodeUnableToDecryptSecretValue:          "UnableToDecryptSecretValueException",
	// ECR has no public registries or catalog data; no ECR operation
	// reaches these, but every code needs an answer.
	registry.CodeRegistryNotFound:              "InvalidParameterException",
	registry.CodeRepositoryCatalogDataNotFound: "InvalidParameterException",
}

// commonErrors are AWS errors every service may answer that the ECR model
// does not list; ECR sends AccessDeniedException with HTTP 400.
var commonErrors = []string{"AccessDeniedException"}

// mapError turns a domain error into its ECR exception; anything else is
// unexpected and becomes a ServerException (nil here).
func mapError(err error) *awsjson.WireError { return ecrshared.MapError(exceptions, err) }

// serverError is the answer to anything unexpected.
var serverError = ecrshared.ServerError

// unimplemented answers operations of the model that ecrd does not serve
// yet, naming them, so that nothing is silently accepted.
func unimplemented(op string) *awsjson.WireError {
	return &awsjson.WireError{
		Type:    "UnknownOperationException",
		Status:  http.StatusBadRequest,
		Message: fmt.Sprintf("ecrd does not implement the ECR operation %s yet", op),
	}
}
