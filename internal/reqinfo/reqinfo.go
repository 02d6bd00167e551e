// Package reqinfo carries what the front ends learn about a request to the
// middleware that logs and counts it: the access log and the metrics wrap
// every request in an Info, the protocol packages fill it in as they
// decode, authenticate and answer, and the middleware reads it once the
// handler has returned. It is a plain record, written by one request's
// goroutine; it decides nothing.
package reqinfo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Info is what one request turned out to be.
type Info struct {
	// API is the front end that served it: "ecr", "ecr-public", "v2",
	// "v2-public", "download", "logo", "token" or "other". Set by the
	// middleware from where the request was routed.
	API string
	// Operation is the ECR or ECR Public operation, or the named /v2/
	// operation (such as "GetManifest"); empty when the request named
	// none that exists.
	Operation string
	// Repository is the repository the request named, as the client sent
	// it (clipped); empty when it named none.
	Repository string
	// Account is the account the caller acts as, once authenticated.
	Account string
	// RequestID identifies the request to the client and in the log: the
	// x-amzn-RequestId of the AWS APIs, X-Request-Id on /v2/.
	RequestID string
	// ErrorType is the error answered: the AWS __type, or the /v2/ error
	// code; empty on success.
	ErrorType string
	// AuthRefusal, when the request was refused authentication or
	// authorization, says why in a few words (such as
	// "InvalidSignatureException", "expired token", "read-only key").
	AuthRefusal string
}

type key struct{}

// New returns a context carrying a new Info for api, and that Info.
func New(ctx context.Context, api string) (context.Context, *Info) {
	info := &Info{API: api}
	return context.WithValue(ctx, key{}, info), info
}

// From returns the Info in ctx, or nil when the request is not being
// recorded (a handler called directly by a test).
func From(ctx context.Context) *Info {
	info, _ := ctx.Value(key{}).(*Info)
	return info
}

// maxField bounds how much of a client's value a log line or label holds.
const maxField = 256

// Clip shortens a value taken from the request to what a log line holds,
// marking a cut with an ellipsis.
func Clip(s string) string { return ClipTo(s, maxField) }

// ClipTo is Clip to at most n bytes (and the ellipsis).
func ClipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// SetAccount records the account the caller acts as.
func SetAccount(ctx context.Context, account string) {
	if info := From(ctx); info != nil {
		info.Account = account
	}
}

// Refused records why the request was refused authentication or
// authorization.
func Refused(ctx context.Context, reason string) {
	if info := From(ctx); info != nil {
		info.AuthRefusal = reason
	}
}

// NewID returns a random (version 4) UUID, as AWS request IDs are; /v2/
// requests get one too, so that every request can be found in the log by
// the ID its client saw.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
