package registry

import (
	"errors"
	"fmt"
)

// Code classifies a domain error. Each protocol front end maps every Code to
// its own wire error in one table (api/ecr/errors.go and friends).
type Code string

// The domain error codes. They are named after what went wrong, not after
// any one protocol's exception names.
const (
	CodeInvalidParameter                    Code = "InvalidParameter"
	CodeRepositoryNotFound                  Code = "RepositoryNotFound"
	CodeRepositoryAlreadyExists             Code = "RepositoryAlreadyExists"
	CodeRepositoryNotEmpty                  Code = "RepositoryNotEmpty"
	CodeTooManyTags                         Code = "TooManyTags"
	CodeInvalidTagParameter                 Code = "InvalidTagParameter"
	CodeUploadNotFound                      Code = "UploadNotFound"
	CodeInvalidLayerPart                    Code = "InvalidLayerPart"
	CodeLayerPartTooSmall                   Code = "LayerPartTooSmall"
	CodeEmptyUpload                         Code = "EmptyUpload"
	CodeInvalidLayer                        Code = "InvalidLayer"
	CodeLayerAlreadyExists                  Code = "LayerAlreadyExists"
	CodeLimitExceeded                       Code = "LimitExceeded"
	CodeAccessDenied                        Code = "AccessDenied"
	CodeImageNotFound                       Code = "ImageNotFound"
	CodeImageAlreadyExists                  Code = "ImageAlreadyExists"
	CodeImageTagAlreadyExists               Code = "ImageTagAlreadyExists"
	CodeImageDigestDoesNotMatch             Code = "ImageDigestDoesNotMatch"
	CodeLayersNotFound                      Code = "LayersNotFound"
	CodeReferencedImagesNotFound            Code = "ReferencedImagesNotFound"
	CodeImageStorageClassUpdateNotSupported Code = "ImageStorageClassUpdateNotSupported"
	CodeLayerInaccessible                   Code = "LayerInaccessible"
	CodeRegistryNotFound                    Code = "RegistryNotFound"
	CodeRepositoryPolicyNotFound            Code = "RepositoryPolicyNotFound"
	CodeRepositoryCatalogDataNotFound       Code = "RepositoryCatalogDataNotFound"
	CodeRegistryPolicyNotFound              Code = "RegistryPolicyNotFound"
	CodeLifecyclePolicyNotFound             Code = "LifecyclePolicyNotFound"
	CodePreviewNotFound                     Code = "LifecyclePolicyPreviewNotFound"
	CodePreviewInProgress                   Code = "LifecyclePolicyPreviewInProgress"
	CodeTemplateNotFound                    Code = "TemplateNotFound"
	CodeTemplateAlreadyExists               Code = "TemplateAlreadyExists"
	CodePullThroughRuleAlreadyExists        Code = "PullThroughCacheRuleAlreadyExists"
	CodePullThroughRuleNotFound             Code = "PullThroughCacheRuleNotFound"
	CodeUnsupportedUpstreamRegistry         Code = "UnsupportedUpstreamRegistry"
	CodeSecretNotFound                      Code = "SecretNotFound"
	CodeUnableToAccessSecret                Code = "UnableToAccessSecret"
	CodeUnableToDecryptSecretValue          Code = "UnableToDecryptSecretValue"
	// CodeUpstreamUnavailable is a pull through the cache whose upstream
	// could not give what was asked: unreachable, failing, or answering
	// other bytes than the digest names.
	CodeUpstreamUnavailable    Code = "UpstreamUnavailable"
	CodeExclusionAlreadyExists Code = "ExclusionAlreadyExists"
	CodeExclusionNotFound      Code = "ExclusionNotFound"
	CodeScanNotFound           Code = "ScanNotFound"
	CodeUnsupportedImageType   Code = "UnsupportedImageType"
	CodeImageArchived          Code = "ImageArchived"
	// CodeValidation is a request the operation refuses in the state the
	// registry is in (ECR's ValidationException).
	CodeValidation            Code = "Validation"
	CodeSigningConfigNotFound Code = "SigningConfigurationNotFound"
)

// Codes lists every Code, so tests can walk them through each wire table.
var Codes = []Code{
	CodeInvalidParameter, CodeRepositoryNotFound, CodeRepositoryAlreadyExists,
	CodeRepositoryNotEmpty, CodeTooManyTags, CodeInvalidTagParameter,
	CodeUploadNotFound, CodeInvalidLayerPart, CodeLayerPartTooSmall,
	CodeEmptyUpload, CodeInvalidLayer, CodeLayerAlreadyExists, CodeLimitExceeded,
	CodeAccessDenied, CodeImageNotFound, CodeImageAlreadyExists, CodeImageTagAlreadyExists,
	CodeImageDigestDoesNotMatch, CodeLayersNotFound, CodeReferencedImagesNotFound,
	CodeImageStorageClassUpdateNotSupported, CodeLayerInaccessible,
	CodeRegistryNotFound, CodeRepositoryPolicyNotFound, CodeRepositoryCatalogDataNotFound,
	CodeRegistryPolicyNotFound, CodeLifecyclePolicyNotFound, CodePreviewNotFound, CodePreviewInProgress,
	CodeTemplateNotFound, CodeTemplateAlreadyExists,
	CodePullThroughRuleAlreadyExists, CodePullThroughRuleNotFound, CodeUnsupportedUpstreamRegistry, CodeSecretNotFound, CodeUnableToAccessSecret, CodeUnableToDecryptSecretValue,
	CodeUpstreamUnavailable, CodeExclusionAlreadyExists, CodeExclusionNotFound,
	CodeScanNotFound, CodeUnsupportedImageType, CodeImageArchived, CodeValidation, CodeSigningConfigNotFound,
}

// Error is a domain error: a Code, a message written for the person who sent
// the request, and for upload errors the position a client may resume from.
type Error struct {
	Code    Code
	Message string
	// Upload is set on CodeInvalidLayerPart: ECR reports where the upload
	// stands so that the client can resume.
	Upload *UploadPosition
}

// UploadPosition says how far an upload has got.
type UploadPosition struct {
	Registry RegistryID
	Name     RepositoryName
	ID       UploadID
	// LastValidByte is the offset of the last byte received, -1 for none.
	LastValidByte int64
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// IsCode reports whether err is a domain error with one of codes. It is
// false for nil and for every error that is not a domain error, so a caller
// cannot mistake "no error" for "an error nobody mapped": test err == nil
// first, and let anything IsCode does not recognise fail the request.
// (A helper returning "" for both would turn a disk-full write into a 201.)
func IsCode(err error, codes ...Code) bool {
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code == c {
			return true
		}
	}
	return false
}

// Store-level sentinel errors. Store implementations return them (wrapped or
// not); the core turns them into domain errors with messages.
var (
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means a record with the same key already exists.
	ErrExists = errors.New("already exists")
	// ErrConflict means the record changed since it was read (a lost
	// compare-and-set); the operation may be retried from the start.
	ErrConflict = errors.New("concurrent update")
)
