package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/ecrd/ecrd/internal/registry"
)

// wireCode is an error as the distribution spec sends it: a code of its
// error table and the HTTP status it goes with.
type wireCode struct {
	Code   string
	Status int
}

// The spec's error codes, with ECR's and distribution's additions
// (TAG_INVALID, RANGE_INVALID, PAGINATION_NUMBER_INVALID).
var (
	blobUnknown         = wireCode{"BLOB_UNKNOWN", http.StatusNotFound}
	blobUploadInvalid   = wireCode{"BLOB_UPLOAD_INVALID", http.StatusBadRequest}
	blobUploadUnknown   = wireCode{"BLOB_UPLOAD_UNKNOWN", http.StatusNotFound}
	digestInvalid       = wireCode{"DIGEST_INVALID", http.StatusBadRequest}
	manifestBlobUnknown = wireCode{"MANIFEST_BLOB_UNKNOWN", http.StatusNotFound}
	manifestInvalid     = wireCode{"MANIFEST_INVALID", http.StatusBadRequest}
	manifestUnknown     = wireCode{"MANIFEST_UNKNOWN", http.StatusNotFound}
	nameInvalid         = wireCode{"NAME_INVALID", http.StatusBadRequest}
	nameUnknown         = wireCode{"NAME_UNKNOWN", http.StatusNotFound}
	sizeInvalid         = wireCode{"SIZE_INVALID", http.StatusBadRequest}
	unauthorized        = wireCode{"UNAUTHORIZED", http.StatusUnauthorized}
	denied              = wireCode{"DENIED", http.StatusForbidden}
	unsupported         = wireCode{"UNSUPPORTED", http.StatusBadRequest}
	tagInvalid          = wireCode{"TAG_INVALID", http.StatusBadRequest}
	rangeInvalid        = wireCode{"RANGE_INVALID", http.StatusRequestedRangeNotSatisfiable}
	paginationInvalid   = wireCode{"PAGINATION_NUMBER_INVALID", http.StatusBadRequest}
	bodyTooLarge        = wireCode{"SIZE_INVALID", http.StatusRequestEntityTooLarge}
	// bodyTimeout answers a body that stopped arriving: the spec names no
	// code, so the upload's, with 408.
	bodyTimeout      = wireCode{"BLOB_UPLOAD_INVALID", http.StatusRequestTimeout}
	methodNotAllowed = wireCode{"UNSUPPORTED", http.StatusMethodNotAllowed}
	tooManyRequests  = wireCode{"TOOMANYREQUESTS", http.StatusTooManyRequests}
	// catalogUnsupported: ECR has no catalog; 404 as for a path that
	// addresses nothing, so that clients fall back as they would there.
	catalogUnsupported = wireCode{"UNSUPPORTED", http.StatusNotFound}
	// inUse answers deleting a manifest an index still lists, or a blob
	// an image still refers to. The spec names no code for it; 409 says
	// the repository's state forbids it, and DENIED that retrying will not
	// help until the referrer goes.
	inUse = wireCode{"DENIED", http.StatusConflict}
	// storageFull and storageFailed answer a full or failing disk: the
	// spec has no code for them, so UNKNOWN, with 507 Insufficient Storage
	// for a full one (a client may retry once space is freed).
	storageFull = wireCode{"UNKNOWN", http.StatusInsufficientStorage}
	// upstreamUnavailable answers a pull through the cache whose upstream
	// could not give the image: distribution's own code for it, 503.
	upstreamUnavailable = wireCode{"UNAVAILABLE", http.StatusServiceUnavailable}
	storageFailed       = wireCode{"UNKNOWN", http.StatusInternalServerError}
)

// mapping is one row of the error table: the answer to a Code in general,
// and on the manifest endpoints when that differs (a missing layer is the
// manifest's fault there, not an unknown blob).
type mapping struct {
	any, manifest wireCode
}

// errorTable is the one table from domain codes to /v2/ errors.
// TestErrorTable walks every registry.Code through it. Codes that only the
// ECR API can provoke still have a row, so nothing falls through to a 500.
var errorTable = map[registry.Code]mapping{
	// Names and tags are validated here before the core sees them, so an
	// InvalidParameter from the core is about a digest or a manifest.
	registry.CodeInvalidParameter:        {any: digestInvalid, manifest: manifestInvalid},
	registry.CodeRepositoryNotFound:      {any: nameUnknown},
	registry.CodeRepositoryAlreadyExists: {any: unsupported},
	registry.CodeRepositoryNotEmpty:      {any: unsupported},
	registry.CodeTooManyTags:             {any: unsupported},
	registry.CodeInvalidTagParameter:     {any: unsupported},
	registry.CodeUploadNotFound:          {any: blobUploadUnknown},
	registry.CodeInvalidLayerPart:        {any: rangeInvalid},
	registry.CodeLayerPartTooSmall:       {any: sizeInvalid},
	registry.CodeEmptyUpload:             {any: sizeInvalid},
	registry.CodeInvalidLayer:            {any: digestInvalid},
	registry.CodeLayerAlreadyExists:      {any: blobUploadInvalid},
	// The core's limits are on upload size and part count; it has no rate
	// limits (which would be TOOMANYREQUESTS).
	registry.CodeLimitExceeded:                       {any: sizeInvalid},
	registry.CodeAccessDenied:                        {any: denied},
	registry.CodeImageNotFound:                       {any: manifestUnknown},
	registry.CodeImageAlreadyExists:                  {any: manifestInvalid},
	registry.CodeImageTagAlreadyExists:               {any: tagInvalid},
	registry.CodeImageDigestDoesNotMatch:             {any: digestInvalid},
	registry.CodeLayersNotFound:                      {any: blobUnknown, manifest: manifestBlobUnknown},
	registry.CodeReferencedImagesNotFound:            {any: manifestBlobUnknown},
	registry.CodeImageStorageClassUpdateNotSupported: {any: unsupported},
	registry.CodeLayerInaccessible:                   {any: blobUnknown},
	// /v2/ answers an unknown public registry alias itself (NAME_UNKNOWN);
	// policies and catalog data are not part of the OCI API.
	registry.CodeRegistryNotFound:              {any: nameUnknown},
	registry.CodeRepositoryPolicyNotFound:      {any: unsupported},
	registry.CodeRepositoryCatalogDataNotFound: {any: unsupported},
	registry.CodeRegistryPolicyNotFound:        {any: unsupported},
	registry.CodeLifecyclePolicyNotFound:       {any: unsupported},
	registry.CodePreviewNotFound:               {any: unsupported},
	registry.CodePreviewInProgress:             {any: unsupported},
	registry.CodeTemplateNotFound:              {any: unsupported},
	registry.CodeTemplateAlreadyExists:         {any: unsupported},
	registry.CodePullThroughRuleAlreadyExists:  {any: unsupported},
	registry.CodePullThroughRuleNotFound:       {any: unsupported},
	registry.CodeUnsupportedUpstreamRegistry:   {any: unsupported},
	registry.CodeSecretNotFound:                {any: unsupported},
	registry.CodeUnableToAccessSecret:          {any: unsupported},
	registry.CodeUpstreamUnavailable:           {any: upstreamUnavailable},
	registry.CodeExclusionAlreadyExists:        {any: unsupported},
	registry.CodeExclusionNotFound:             {any: unsupported},
	registry.CodeScanNotFound:                  {any: unsupported},
	registry.CodeUnsupportedImageType:          {any: unsupported},
	registry.CodeImageArchived:                 {any: unsupported},
	registry.CodeValidation:                    {any: unsupported},
	registry.CodeSigningConfigNotFound:         {any: unsupported},
	registry.CodeUnableToDecryptSecretValue:    {any: unsupported},
}

// failureTable maps the per-image failures of BatchGetImage and
// BatchDeleteImage; anything else is an unknown manifest.
var failureTable = map[string]wireCode{
	registry.FailureInvalidImageDigest:            digestInvalid,
	registry.FailureImageReferencedByManifestList: inUse,
}

// wireError is an error answer: the code, a message for the person who
// sent the request, and the headers a client needs to recover (the
// challenge of a 401, the upload state of a 416).
type wireError struct {
	wireCode
	Message string
	Header  http.Header
}

func (e *wireError) Error() string { return e.Code + ": " + e.Message }

func newError(c wireCode, format string, args ...any) *wireError {
	return &wireError{wireCode: c, Message: fmt.Sprintf(format, args...)}
}

// failureError answers a per-image failure of a batch operation.
func failureError(f registry.ImageFailure) *wireError {
	c, ok := failureTable[f.Code]
	if !ok {
		c = manifestUnknown
	}
	return &wireError{wireCode: c, Message: f.Reason}
}

// mapError turns what a handler returned into its answer; false means the
// error is unexpected (a 500, detail in the log).
func mapError(err error, rt route) (*wireError, bool) {
	var we *wireError
	if errors.As(err, &we) {
		return we, true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return newError(bodyTooLarge, "The request body is larger than the %d bytes allowed", tooLarge.Limit), true
	}
	if se, ok := registry.AsStorageError(err); ok {
		// A server error whose cause the client is told; the core logs it
		// once per episode, not here once per request.
		c := storageFailed
		if se.Kind == registry.StorageFull {
			c = storageFull
		}
		return &wireError{wireCode: c, Message: se.Message()}, true
	}
	var de *registry.Error
	if !errors.As(err, &de) {
		return nil, false
	}
	m, ok := errorTable[de.Code]
	if !ok {
		return nil, false
	}
	c := m.any
	if rt.endpoint == endpointManifest && m.manifest != (wireCode{}) {
		c = m.manifest
	}
	out := &wireError{wireCode: c, Message: de.Message}
	if p := de.Upload; p != nil && de.Code == registry.CodeInvalidLayerPart {
		// Where the upload stands, so the client can resume from there.
		out.Header = http.Header{}
		out.Header.Set("Location", uploadPath(string(p.Name), p.ID))
		out.Header.Set("Range", byteRange(p.LastValidByte+1))
		out.Header.Set("Docker-Upload-UUID", string(p.ID))
	}
	return out, true
}

// errorBody is the spec's error document.
type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// writeError is the one place error answers are written.
func writeError(w http.ResponseWriter, r *http.Request, e *wireError) {
	for k, vs := range e.Header {
		w.Header()[k] = vs
	}
	body, _ := json.Marshal(errorBody{Errors: []errorEntry{{Code: e.Code, Message: e.Message}}}) // strings cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// serverError is the answer to anything unexpected; the detail is logged,
// not sent.
func serverError() *wireError {
	return &wireError{
		wireCode: wireCode{"UNKNOWN", http.StatusInternalServerError},
		Message:  "An internal error occurred; the server log has the details",
	}
}
