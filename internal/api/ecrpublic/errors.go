package ecrpublic

import (
	"fmt"
	"net/http"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/registry"
)

// exceptions is the one table from domain codes to ECR Public exceptions.
// Every modeled exception is a client error (HTTP 400) except
// ServerException. TestErrorTable walks every registry.Code through it and
// checks each __type against the model.
var exceptions = map[registry.Code]string{
	registry.CodeInvalidParameter:              "InvalidParameterException",
	registry.CodeRepositoryNotFound:            "RepositoryNotFoundException",
	registry.CodeRepositoryAlreadyExists:       "RepositoryAlreadyExistsException",
	registry.CodeRepositoryNotEmpty:            "RepositoryNotEmptyException",
	registry.CodeTooManyTags:                   "TooManyTagsException",
	registry.CodeInvalidTagParameter:           "InvalidTagParameterException",
	registry.CodeUploadNotFound:                "UploadNotFoundException",
	registry.CodeInvalidLayerPart:              "InvalidLayerPartException",
	registry.CodeLayerPartTooSmall:             "LayerPartTooSmallException",
	registry.CodeEmptyUpload:                   "EmptyUploadException",
	registry.CodeInvalidLayer:                  "InvalidLayerException",
	registry.CodeLayerAlreadyExists:            "LayerAlreadyExistsException",
	registry.CodeLimitExceeded:                 "LimitExceededException",
	registry.CodeAccessDenied:                  "AccessDeniedException",
	registry.CodeImageNotFound:                 "ImageNotFoundException",
	registry.CodeImageAlreadyExists:            "ImageAlreadyExistsException",
	registry.CodeImageTagAlreadyExists:         "ImageTagAlreadyExistsException",
	registry.CodeImageDigestDoesNotMatch:       "ImageDigestDoesNotMatchException",
	registry.CodeLayersNotFound:                "LayersNotFoundException",
	registry.CodeReferencedImagesNotFound:      "ReferencedImagesNotFoundException",
	registry.CodeRegistryNotFound:              "RegistryNotFoundException",
	registry.CodeRepositoryPolicyNotFound:      "RepositoryPolicyNotFoundException",
	registry.CodeRepositoryCatalogDataNotFound: "RepositoryCatalogDataNotFoundException",
	// ECR Public has no archive, no pull-through layer downloads, no
	// registry policy, no lifecycle policies, no creation templates or pull through cache rules: no operation of it reaches
	// these, but every code needs an answer.
	registry.CodeImageStorageClassUpdateNotSupported: "InvalidParameterException",
	registry.CodeLayerInaccessible:                   "LayersNotFoundException",
	registry.CodeRegistryPolicyNotFound:              "InvalidParameterException",
	registry.CodeLifecyclePolicyNotFound:             "InvalidParameterException",
	registry.CodePreviewNotFound:                     "InvalidParameterException",
	registry.CodePreviewInProgress:                   "InvalidParameterException",
	registry.CodeTemplateNotFound:                    "InvalidParameterException",
	registry.CodeTemplateAlreadyExists:               "InvalidParameterException",
	registry.CodePullThroughRuleAlreadyExists:        "InvalidParameterException",
	registry.CodePullThroughRuleNotFound:             "InvalidParameterException",
	registry.CodeUnsupportedUpstreamRegistry:         "InvalidParameterException",
	registry.CodeSecretNotFound:                      "InvalidParameterException",
	registry.CodeUnableToAccessSecret:                "InvalidParameterException",
	registry.CodeUpstreamUnavailable:                 "InvalidParameterException",
	registry.CodeExclusionAlreadyExists:              "InvalidParameterException",
	registry.CodeExclusionNotFound:                   "InvalidParameterException",
	registry.CodeScanNotFound:                        "InvalidParameterException",
	registry.CodeUnsupportedImageType:                "InvalidParameterException",
	registry.CodeImageArchived:                       "InvalidParameterException",
	registry.CodeSigningConfigNotFound:               "InvalidParameterException",
	registry.CodeValidation:                          "InvalidParameterException",
	registry.CodeUnableToDecryptSecretValue:          "InvalidParameterException",
}

// commonErrors are AWS errors every service may answer that the model does
// not list.
var commonErrors = []string{"AccessDeniedException"}

// mapError turns a domain error into its ECR Public exception; anything
// else is unexpected and becomes a ServerException (nil here).
func mapError(err error) *awsjson.WireError { return ecrshared.MapError(exceptions, err) }

// serverError is the answer to anything unexpected.
var serverError = ecrshared.ServerError

// unsupported is UnsupportedCommandException: the action is not served
// here (another region, or ECR Public turned off).
func unsupported(format string, args ...any) *awsjson.WireError {
	return &awsjson.WireError{Type: "UnsupportedCommandException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}
