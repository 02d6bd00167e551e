package auth

import (
	"net/http"
	"strconv"
)

// The __type values a refused request is answered with. They are the names
// AWS's awsJson services use; ECR answers all of them with HTTP 400.
const (
	// TypeMissingAuthenticationToken: the request carries no Authorization
	// header at all.
	TypeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// TypeIncompleteSignature: the Authorization header or the date headers
	// are malformed, or a header the server requires is not signed.
	TypeIncompleteSignature = "IncompleteSignatureException"
	// TypeInvalidSignature: well-formed, but the signature does not check
	// out: wrong secret, altered request, wrong scope, or clock skew.
	TypeInvalidSignature = "InvalidSignatureException"
	// TypeUnrecognizedClient: unknown access key, or a session token that
	// does not belong to it.
	TypeUnrecognizedClient = "UnrecognizedClientException"
)

// Messages AWS sends verbatim; tests compare against literals, not these.
const (
	msgMissingToken = "Missing Authentication Token"
	msgMismatch     = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidToken    = "The security token included in the request is invalid."
	msgHostNotSigned   = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgTargetNotSigned = "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
	msgDateNotSigned   = "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."
	msgNoDate          = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
)

// Error is a refusal: the wire answer AWS gives, plus what to log.
//
// Message goes to the client only. Like AWS, it may echo the client's own
// Authorization header back (for a header that could not be parsed), so it
// is not meant for logs; log Type, AccessKeyID and Reason, which never hold
// a secret or a signature.
type Error struct {
	Type        string // __type, e.g. "InvalidSignatureException"
	Status      int    // HTTP status
	Message     string // the message AWS sends
	AccessKeyID string // for the log ("" if none could be parsed)
	Reason      string // for the log: why, in a few words
}

// Error returns the type, reason and access key: the log line, not the wire
// message (see Error).
func (e *Error) Error() string {
	s := "auth: " + e.Type
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.AccessKeyID != "" {
		s += " (access key " + strconv.Quote(e.AccessKeyID) + ")"
	}
	return s
}

// refuse builds an Error. Every refusal is a 400: ECR answers its auth
// errors that way (reliability.md §1.3), and SDKs only look at __type.
func refuse(typ, msg, reason, accessKeyID string) *Error {
	return &Error{Type: typ, Status: http.StatusBadRequest, Message: msg, AccessKeyID: accessKeyID, Reason: reason}
}

// maxEcho bounds how much client input a message quotes back.
const maxEcho = 512

// clip shortens client input quoted in a message, so a megabyte header does
// not come back as a megabyte error.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return s[:maxEcho] + "..."
}
