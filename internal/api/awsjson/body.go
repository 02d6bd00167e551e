package awsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ecrd/ecrd/internal/reqinfo"
)

// bodyLimit picks the body cap for target: its operation's entry in
// BodyLimits, else MaxBody (also for a target that names no operation,
// which is answered only after authentication, as AWS does).
func (s *Service) bodyLimit(target string) int64 {
	if name, ok := strings.CutPrefix(target, s.Model.TargetPrefix+"."); ok {
		if n, ok := s.BodyLimits[name]; ok && n > 0 {
			return n
		}
	}
	if s.MaxBody > 0 {
		return s.MaxBody
	}
	return DefaultMaxBody
}

// checkBody parses body, which must be one JSON object, and validates it
// against op's input shape. It returns the body to decode: body itself, or
// a re-encoding when validation dropped case-folded duplicate keys.
func (s *Service) checkBody(ctx context.Context, info *RequestInfo, op Operation, body []byte) ([]byte, *WireError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &WireError{Type: typeSerialization,
			Message: "Request body is empty; it must be a JSON object (at least {})"}
	}
	// Numbers decode as float64 rather than json.Number: json.Decoder
	// would copy the whole body into its own buffer first. Validate
	// handles float64, and decoding into the input struct is exact.
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, bodyError(err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &WireError{Type: typeSerialization,
			Message: "Request body must be a JSON object, not " + jsonKind(v)}
	}
	recordRepository(info, obj)
	in, ok := s.Model.shapes[op.Input]
	if !ok {
		return body, nil
	}
	stripped, err := s.Model.validateInput(in, obj, "")
	var serr *SerializationError
	var cerr *ConstraintError
	switch {
	case errors.As(err, &serr):
		return nil, &WireError{Type: typeSerialization, Message: serr.Error()}
	case errors.As(err, &cerr):
		return nil, &WireError{Type: typeInvalidParameter, Message: cerr.Error()}
	case err != nil:
		s.logger().ErrorContext(ctx, "awsjson: validate",
			"operation", op.Name, "request_id", info.RequestID, "error", err)
		return nil, s.serverError(info.RequestID)
	}
	if stripped {
		if body, err = json.Marshal(obj); err != nil {
			s.logger().ErrorContext(ctx, "awsjson: re-encode body",
				"operation", op.Name, "request_id", info.RequestID, "error", err)
			return nil, s.serverError(info.RequestID)
		}
	}
	return body, nil
}

// bodyError explains why a body is not JSON.
func bodyError(err error) *WireError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	msg := "Request body is not valid JSON"
	switch {
	case errors.As(err, &syn):
		msg = fmt.Sprintf("Request body is not valid JSON: %s (at byte %d)", syn.Error(), syn.Offset)
	case errors.As(err, &typ): // decoding into any, only a number can fail
		msg = "Request body holds a value out of range: " + typ.Value
	}
	return &WireError{Type: typeSerialization, Message: msg}
}

// decodeError explains why a validated body did not decode.
func decodeError(err error) *WireError {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return &WireError{Type: typeSerialization,
			Message: fmt.Sprintf("Value at '%s' cannot be decoded from %s", typ.Field, typ.Value)}
	}
	return &WireError{Type: typeSerialization, Message: "Request body could not be decoded"}
}

// recordRepository notes the repository a request body names, for the
// access log.
func recordRepository(info *RequestInfo, obj map[string]any) {
	if n, ok := obj["repositoryName"].(string); ok && info != nil {
		info.Repository = reqinfo.Clip(n)
	}
}
