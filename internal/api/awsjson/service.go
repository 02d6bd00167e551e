package awsjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/reqinfo"
)

// DefaultMaxBody is the request body cap when Service.MaxBody is zero:
// room for an UploadLayerPart carrying a 20 MiB part in base64 (about
// 26.7 MiB) and its other members.
const DefaultMaxBody = 32 << 20

// DefaultBodyTimeout is Service.BodyTimeout when zero. It bounds how long
// a client may take to send its body, so a slow sender cannot hold a
// connection and its buffer for ever, yet it must admit the largest
// legitimate body on a slow link: a 28 MiB UploadLayerPart in two minutes
// needs about 240 KiB/s (2 Mbit/s). Clients slower than that must send
// smaller parts.
const DefaultBodyTimeout = 2 * time.Minute

// Service serves one awsJson 1.1 API at POST /: it checks the method,
// Content-Type and the request's headers (Precheck), reads the body once
// (bounded by BodyLimits or MaxBody, and by BodyTimeout), authenticates
// it, resolves X-Amz-Target, validates the body against the operation's
// input shape, decodes it into the operation's input, calls the operation
// and writes its output, or writes the error. Every response carries
// Content-Type application/x-amz-json-1.1 and x-amzn-RequestId; errors
// also carry x-amzn-ErrorType.
//
// The request path is not checked: mount Service where the API lives.
// Set the fields before serving and do not change them afterwards.
type Service struct {
	// Model supplies the target prefix, the operations and the input
	// constraints. Required.
	Model *Model
	// Ops holds the implemented operations, keyed by operation name
	// without the target prefix.
	Ops map[string]Handler
	// MapError turns an error returned by an operation into the error the
	// client sees. A nil result, or a nil MapError, makes it a server
	// error whose detail is logged and not sent.
	MapError func(error) *WireError
	// Logger receives server errors and panics. Nil discards them.
	Logger *slog.Logger
	// MaxBody caps the request body in bytes; zero means DefaultMaxBody.
	// It applies to operations BodyLimits does not name and to targets
	// that name no operation.
	MaxBody int64
	// BodyLimits caps the body of the operations it names (by operation
	// name without the target prefix), in bytes. A body is held whole to
	// be validated, so the cap is what bounds memory per request: keep it
	// near the largest legitimate input of each operation.
	BodyLimits map[string]int64
	// BodyTimeout bounds the time to receive the body once the headers
	// are in; zero means DefaultBodyTimeout. A body that does not arrive
	// in time is answered as a truncated one: 400 SerializationException.
	// It is set with http.ResponseController, so it takes effect only on
	// writers that support read deadlines (net/http's own do).
	BodyTimeout time.Duration
	// Unimplemented answers operations the model has but Ops lacks. Nil
	// answers UnknownOperationException naming the operation.
	Unimplemented func(op string) *WireError
	// ServerError is the answer to unexpected errors and panics; its
	// message must not reveal internals. Nil answers a 500
	// ServerException naming the request ID.
	ServerError func(requestID string) *WireError
	// NewRequestID makes request IDs. Nil makes random UUIDs.
	NewRequestID func() string
	// Precheck checks the request's headers before a byte of the body is
	// read, so that an unsigned or mis-signed request costs the server no
	// body buffer. It returns the error to send, or nil to go on. Nil
	// accepts all; Authenticate still runs.
	Precheck func(r *http.Request) *WireError
	// Authenticate checks the request and the SHA-256 of its body (read,
	// within its limit, and hashed as it arrived) before the operation is
	// looked at, as AWS does: an unsigned request learns nothing about
	// which operations exist. It returns the context the operation runs
	// with, or the error to send. Nil accepts all.
	Authenticate func(r *http.Request, payload [32]byte) (context.Context, *WireError)
	// Bodies bounds what request bodies hold in memory and on disk; nil
	// bounds each body by its limit only.
	Bodies *Bodies
}

// Check reports configuration mistakes: a missing model or an operation in
// Ops that the model does not have (and so could never be reached).
func (s *Service) Check() error {
	if s.Model == nil {
		return errors.New("awsjson: Service has no Model")
	}
	var errs []error
	for name := range s.Ops {
		if _, ok := s.Model.Operation(name); !ok {
			errs = append(errs, fmt.Errorf("awsjson: operation %q is not in the %s model", name, s.Model.TargetPrefix))
		}
	}
	return errors.Join(errs...)
}

// ServeHTTP implements http.Handler.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := reqinfo.NewID()
	if s.NewRequestID != nil {
		id = s.NewRequestID()
	}
	ctx := r.Context()
	info := RequestInfoFrom(ctx)
	if info == nil {
		ctx, info = WithRequestInfo(ctx)
	}
	info.RequestID = id
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("X-Amzn-Requestid", id)

	body, werr := s.serve(ctx, w, r, info)
	if werr != nil {
		info.ErrorType = werr.Type
		writeError(w, werr)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// serve runs the request and returns the encoded output or the error to
// send: the single place where a request's outcome is decided.
func (s *Service) serve(ctx context.Context, w http.ResponseWriter, r *http.Request, info *RequestInfo) ([]byte, *WireError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &WireError{Type: typeUnknownOperation, Status: http.StatusMethodNotAllowed,
			Message: fmt.Sprintf("HTTP method %s is not supported; AWS JSON requests are sent with POST", r.Method)}
	}
	if werr := checkContentType(r.Header.Get("Content-Type")); werr != nil {
		return nil, werr
	}
	if s.Precheck != nil {
		if werr := s.Precheck(r.WithContext(ctx)); werr != nil {
			return nil, werr
		}
	}
	held, werr := s.receive(ctx, w, r, s.bodyLimit(r.Header.Get("X-Amz-Target")))
	if werr != nil {
		return nil, werr
	}
	defer held.release()
	if s.Authenticate != nil {
		if ctx, werr = s.Authenticate(r.WithContext(ctx), held.sum); werr != nil {
			return nil, werr
		}
	}
	op, werr := s.operation(r.Header.Get("X-Amz-Target"))
	if werr != nil {
		return nil, werr
	}
	info.Operation = op.Name
	h, ok := s.Ops[op.Name]
	if !ok {
		return nil, s.unimplemented(op.Name)
	}
	body, werr := held.bytes(ctx)
	if werr != nil {
		return nil, werr
	}
	call, werr := s.decode(ctx, info, op, h, body)
	if werr != nil {
		return nil, werr
	}
	out, err := s.call(ctx, info, call)
	if err != nil {
		return nil, s.mapError(ctx, info, err)
	}
	data, err := json.Marshal(out)
	if err != nil {
		s.logger().ErrorContext(ctx, "awsjson: encode output",
			"operation", op.Name, "request_id", info.RequestID, "error", err)
		return nil, s.serverError(info.RequestID)
	}
	return data, nil
}

// decode validates body against op's input and decodes it for h. A body
// carrying a large blob takes decodeFast; any other body, and any body
// decodeFast is unsure of, takes decodeSlow, which decides every error.
func (s *Service) decode(ctx context.Context, info *RequestInfo, op Operation, h Handler, body []byte) (func(context.Context) (any, error), *WireError) {
	if call, ok := s.decodeFast(info, op, h, body, fastBlobMin); ok {
		return call, nil
	}
	return s.decodeSlow(ctx, info, op, h, body)
}

// decodeSlow is the general path: parse and validate the whole body, then
// decode it into the operation's input.
func (s *Service) decodeSlow(ctx context.Context, info *RequestInfo, op Operation, h Handler, body []byte) (func(context.Context) (any, error), *WireError) {
	body, werr := s.checkBody(ctx, info, op, body)
	if werr != nil {
		return nil, werr
	}
	call, err := h.decode(body, nil)
	if err != nil {
		// The body passed validation, so the input struct disagrees with
		// the model or a number is written in a form Go will not take
		// (1.0 for a long): worth a warning either way.
		s.logger().WarnContext(ctx, "awsjson: validated request did not decode",
			"operation", op.Name, "request_id", info.RequestID, "error", err)
		return nil, decodeError(err)
	}
	return call, nil
}

func checkContentType(ct string) *WireError {
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && strings.EqualFold(mt, ContentType) {
		return nil
	}
	got := fmt.Sprintf("Content-Type %q is not supported", ct)
	if ct == "" {
		got = "Content-Type is missing"
	}
	return &WireError{Type: typeUnknownOperation,
		Message: got + "; AWS JSON 1.1 requests must be sent as " + ContentType}
}

// operation resolves X-Amz-Target to a model operation.
func (s *Service) operation(target string) (Operation, *WireError) {
	want := s.Model.TargetPrefix + ".<Operation>"
	if target == "" {
		return Operation{}, &WireError{Type: typeUnknownOperation,
			Message: "X-Amz-Target is missing; it must name an operation as " + want}
	}
	name, ok := strings.CutPrefix(target, s.Model.TargetPrefix+".")
	op, known := s.Model.Operation(name)
	if !ok || !known {
		return Operation{}, &WireError{Type: typeUnknownOperation,
			Message: fmt.Sprintf("X-Amz-Target %q is not a valid operation; expected %s", target, want)}
	}
	return op, nil
}

func (s *Service) unimplemented(op string) *WireError {
	if s.Unimplemented != nil {
		if werr := s.Unimplemented(op); werr != nil {
			return werr
		}
	}
	return &WireError{Type: typeUnknownOperation,
		Message: "Operation " + op + " is not supported by this server"}
}

// call runs the operation, turning a panic into an error response.
func (s *Service) call(ctx context.Context, info *RequestInfo, call func(context.Context) (any, error)) (out any, err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler { // a deliberate abort, not a bug
			panic(p)
		}
		s.logger().ErrorContext(ctx, "awsjson: operation panicked",
			"operation", info.Operation, "request_id", info.RequestID,
			"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		out, err = nil, errPanicked
	}()
	return call(ctx)
}

// errPanicked stands for a recovered panic; it is never mapped.
var errPanicked = errors.New("awsjson: operation panicked")

func (s *Service) mapError(ctx context.Context, info *RequestInfo, err error) *WireError {
	if errors.Is(err, errPanicked) {
		return s.serverError(info.RequestID)
	}
	var werr *WireError
	if s.MapError != nil {
		werr = s.MapError(err)
	}
	if werr == nil || werr.Status >= 500 && !werr.Logged {
		s.logger().ErrorContext(ctx, "awsjson: operation failed",
			"operation", info.Operation, "request_id", info.RequestID, "error", err)
	}
	if werr == nil {
		return s.serverError(info.RequestID)
	}
	return werr
}

func (s *Service) serverError(requestID string) *WireError {
	if s.ServerError != nil {
		if werr := s.ServerError(requestID); werr != nil {
			return werr
		}
	}
	return &WireError{Type: typeServer, Status: http.StatusInternalServerError,
		Message: "An internal error occurred; request ID " + requestID}
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
