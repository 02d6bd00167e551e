package ecrshared

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/registry"
)

// MapError turns a domain error into the exception a front end's table
// names (every modeled exception but ServerException is HTTP 400), and a
// storage failure into a ServerException that names it; anything else is
// unexpected and becomes a ServerException (nil here).
func MapError(exceptions map[registry.Code]string, err error) *awsjson.WireError {
	if se, ok := registry.AsStorageError(err); ok {
		// Still a server error, but one whose cause the client is told;
		// the core logs it once per episode.
		return &awsjson.WireError{Type: "ServerException", Status: http.StatusInternalServerError, Message: se.Message(), Logged: true}
	}
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
			"registryId":     string(p.Registry.Account()),
			"repositoryName": string(p.Name),
			"uploadId":       string(p.ID),
		}
		// The models' PartSize is never negative: an upload that has
		// received nothing has no last valid byte to report.
		if p.LastValidByte >= 0 {
			we.Fields["lastValidByteReceived"] = p.LastValidByte
		}
	}
	return we
}

// ServerError is the answer to anything unexpected; the detail is logged,
// not sent.
func ServerError(requestID string) *awsjson.WireError {
	return &awsjson.WireError{
		Type:    "ServerException",
		Status:  http.StatusInternalServerError,
		Message: fmt.Sprintf("An internal error occurred; request %s has the details in the server log", requestID),
	}
}
