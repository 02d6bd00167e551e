package awsjson

import "context"

// RequestInfo is what Service learns about a request that an access log
// wants: the operation (empty when the target was not a known operation),
// the request ID sent in x-amzn-RequestId and, for errors, the __type.
// A logging middleware creates one with WithRequestInfo before calling
// Service and reads it afterwards; Service fills it in.
type RequestInfo struct {
	Operation string
	RequestID string
	ErrorType string
}

type requestInfoKey struct{}

// WithRequestInfo returns a context carrying a new, empty RequestInfo, and
// that RequestInfo.
func WithRequestInfo(ctx context.Context) (context.Context, *RequestInfo) {
	info := new(RequestInfo)
	return context.WithValue(ctx, requestInfoKey{}, info), info
}

// RequestInfoFrom returns the RequestInfo in ctx, or nil. Operations called
// by Service always find one, so they can log the request ID.
func RequestInfoFrom(ctx context.Context) *RequestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*RequestInfo)
	return info
}

// OperationFrom returns the operation name recorded in ctx, or "".
func OperationFrom(ctx context.Context) string {
	if info := RequestInfoFrom(ctx); info != nil {
		return info.Operation
	}
	return ""
}
