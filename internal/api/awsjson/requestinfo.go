package awsjson

import (
	"context"

	"github.com/ecrd/ecrd/internal/reqinfo"
)

// RequestInfo is what Service learns about a request that an access log
// and the metrics want: Service fills in the operation (empty when the
// target was not a known operation), the repository the body names, the
// request ID sent in x-amzn-RequestId and, for errors, the __type. A
// middleware creates one with reqinfo.New before calling Service and reads
// it afterwards; without one, Service makes its own.
type RequestInfo = reqinfo.Info

// WithRequestInfo returns a context carrying a new, empty RequestInfo, and
// that RequestInfo.
func WithRequestInfo(ctx context.Context) (context.Context, *RequestInfo) {
	return reqinfo.New(ctx, "")
}

// RequestInfoFrom returns the RequestInfo in ctx, or nil. Operations called
// by Service always find one, so they can log the request ID.
func RequestInfoFrom(ctx context.Context) *RequestInfo { return reqinfo.From(ctx) }

// OperationFrom returns the operation name recorded in ctx, or "".
func OperationFrom(ctx context.Context) string {
	if info := RequestInfoFrom(ctx); info != nil {
		return info.Operation
	}
	return ""
}
