package awsjson

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentType is the media type of every awsJson 1.1 request and response.
const ContentType = "application/x-amz-json-1.1"

// WireError is an error as the client sees it: the __type, the HTTP status
// and the message, plus any other members the model gives the exception
// (e.g. lastValidByteReceived on InvalidLayerPartException), which are
// sent beside the message.
type WireError struct {
	Type    string
	Status  int // 0 means 400, the status of every modeled client exception
	Message string
	Fields  map[string]any
	// Logged says the cause is already logged where it is known (a full
	// disk, once per episode): Service does not log the request's error
	// again, although its status is a server error.
	Logged bool
}

// Protocol-level errors: AWS's Coral framework answers these itself, before
// any operation runs, so they are not in the service models.
const (
	typeUnknownOperation = "UnknownOperationException"
	typeSerialization    = "SerializationException"
	typeTooLarge         = "RequestEntityTooLargeException"
	typeInvalidParameter = "InvalidParameterException"
	typeServer           = "ServerException"
	// typeThrottling is AWS's common throttling error, which the SDKs
	// retry with backoff.
	typeThrottling = "ThrottlingException"
)

// writeJSON sends a 200 (or other) response with the headers every
// response carries.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) // the client may be gone; nothing useful to do about it
}

// writeError sends e as an awsJson error: x-amzn-ErrorType and
// {"__type":..., "message":..., ...Fields}.
func writeError(w http.ResponseWriter, e *WireError) {
	body := make(map[string]any, len(e.Fields)+2)
	for k, v := range e.Fields {
		body[k] = v
	}
	body["__type"] = e.Type
	body["message"] = e.Message
	data, err := json.Marshal(body)
	if err != nil {
		// Fields held something unencodable; the type and message still go.
		data, _ = json.Marshal(map[string]string{"__type": e.Type, "message": e.Message})
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("X-Amzn-Errortype", e.Type)
	writeJSON(w, status, data)
}
