package ecr

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ecrd/ecrd/internal/api/awsjson"
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
}

// commonErrors are AWS errors every service may answer that the ECR model
// does not list; ECR sends AccessDeniedException with HTTP 400.
var commonErrors = []string{"AccessDeniedException"}

// mapError turns a domain error into its ECR exception; anything else is
// unexpected and becomes a ServerException (nil here).
func mapError(err error) *awsjson.WireError {
	var de *registry.Error
	if !errors.As(err, &de) {
		return nil
	}
	typ, ok := exceptions[de.Code]
	if !ok {
		return nil
	}
	we := &awsjson.WireError{Type: typ, Status: http.StatusBadRequest, Message: de.Message}
	if p := de.Upload; p != nil && de.Code == registry.CodeInvalidLayerPart {
		we.Fields = map[string]any{
			"registryId":     string(p.Registry),
			"repositoryName": string(p.Name),
			"uploadId":       string(p.ID),
		}
		// The model's PartSize is never negative: an upload that has
		// received nothing has no last valid byte to report.
		if p.LastValidByte >= 0 {
			we.Fields["lastValidByteReceived"] = p.LastValidByte
		}
	}
	return we
}

// serverError is the answer to anything unexpected; the detail is logged,
// not sent.
func serverError(requestID string) *awsjson.WireError {
	return &awsjson.WireError{
		Type:    "ServerException",
		Status:  http.StatusInternalServerError,
		Message: fmt.Sprintf("An internal error occurred; request %s has the details in the server log", requestID),
	}
}

// unimplemented answers operations of the model that ecrd does not serve
// yet, naming them, so that nothing is silently accepted.
func unimplemented(op string) *awsjson.WireError {
	return &awsjson.WireError{
		Type:    "UnknownOperationException",
		Status:  http.StatusBadRequest,
		Message: fmt.Sprintf("ecrd does not implement the ECR operation %s yet", op),
	}
}
