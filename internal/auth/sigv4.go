// Package auth authenticates callers of ecrd: AWS Signature Version 4
// verification for the AWS JSON APIs (Verifier), and the authorization
// tokens that docker login uses (Tokens).
package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Credential is one access key of one account.
type Credential struct {
	AccessKeyID     string // what requests name in their credential scope
	SecretAccessKey string // the HMAC secret; never logged
	// SessionToken is optional; when set, requests must carry and sign
	// X-Amz-Security-Token with this exact value.
	SessionToken string
	AccountID    string // 12 digits
	ReadOnly     bool   // may only read; the API layer enforces it, Verify does not
	// Identity is whom the key acts for: its user or role session, and
	// the identity-based policies the core evaluates (Verify reads none
	// of it). Nil is a key of the account's administrator.
	Identity *Identity
}

// DefaultMaxSkew is ECR's window: a request signed more than 15 minutes
// before or after the server's clock is refused.
const DefaultMaxSkew = 15 * time.Minute

// Verifier checks SigV4-signed requests. Its fields are read-only once it
// is in use; a Verifier is safe for concurrent use.
type Verifier struct {
	Region  string // the only region accepted in the credential scope
	Service string // the signing name, e.g. "ecr" or "ecr-public"
	// Lookup finds the credential of an access key; nil knows no keys.
	Lookup  func(accessKeyID string) (Credential, bool)
	Now     func() time.Time // time.Now when nil
	MaxSkew time.Duration    // DefaultMaxSkew when 0 or negative
}

// Verify checks r, whose body the caller has already read into body (the
// payload hash covers it). It returns the credential that signed it, or an
// *Error.
//
// Beyond a matching signature it requires host, x-amz-target (the body
// hash does not cover the operation, so an unsigned target would let a
// captured request be replayed as another operation) and, when used,
// x-amz-date to be signed. Choices where AWS gives no answer to copy:
//   - Query-string (presigned) authentication is refused with
//     IncompleteSignatureException: the JSON API has no use for it and a
//     second mechanism is a second thing to get wrong.
//   - A header named in SignedHeaders but absent from the request is
//     InvalidSignatureException naming the header: the signature cannot
//     match, and the name points at the proxy that dropped it.
//   - X-Amz-Content-Sha256 must be the hex SHA-256 of body;
//     UNSIGNED-PAYLOAD and the STREAMING-* forms are refused with
//     InvalidSignatureException.
func (v *Verifier) Verify(r *http.Request, body []byte) (Credential, error) {
	return v.VerifyPayload(r, sha256.Sum256(body))
}

// VerifyPayload is Verify for a caller that hashed the body as it arrived
// (payload is its SHA-256) rather than holding it: a body spooled to disk
// is authenticated without being read back.
func (v *Verifier) VerifyPayload(r *http.Request, payload [32]byte) (Credential, error) {
	p, err := v.precheck(r)
	if err != nil {
		return Credential{}, err
	}
	if e := v.checkSignature(r, payload, p); e != nil {
		e.AccessKeyID = p.auth.AccessKeyID
		return Credential{}, e
	}
	return p.cred, nil
}

// Precheck runs every check of Verify that does not need the body, in
// Verify's order, and returns the same *Error Verify would for them: a
// request Precheck refuses, Verify refuses with the same answer. Run it
// before reading the body so that an unsigned or mis-scoped request is
// refused without the server holding its body; a nil result says only
// that the signature is still to be checked, with Verify.
func (v *Verifier) Precheck(r *http.Request) error {
	if _, err := v.precheck(r); err != nil {
		return err
	}
	return nil
}

// prechecked is what the header phase learned, for the body phase.
type prechecked struct {
	auth        Authorization
	cred        Credential
	params      []queryParam
	amzDate     string
	headerBlock string
	claimedHash string // X-Amz-Content-Sha256, "" when absent
}

// precheck is the header phase: the query string, the Authorization
// header, then check. Errors are *Error.
func (v *Verifier) precheck(r *http.Request) (*prechecked, error) {
	params, queryOK := parseQuery(r.URL.RawQuery)
	for _, p := range params {
		switch strings.ToLower(p.key) {
		case "x-amz-signature", "x-amz-credential", "x-amz-algorithm":
			return nil, refuse(TypeIncompleteSignature,
				"Query-string authentication (presigned URLs, X-Amz-Signature) is not supported by this API. "+
					"Sign the request with an Authorization header.",
				"presigned query authentication", "")
		}
	}

	headers := r.Header.Values("Authorization")
	switch {
	case len(headers) == 0 || (len(headers) == 1 && strings.TrimSpace(headers[0]) == ""):
		return nil, refuse(TypeMissingAuthenticationToken, msgMissingToken, "no Authorization header", "")
	case len(headers) > 1:
		return nil, refuse(TypeIncompleteSignature,
			"The request must carry exactly one Authorization header.", "several Authorization headers", "")
	}
	a, err := ParseAuthorization(headers[0])
	if err != nil {
		return nil, err
	}
	p, e := v.check(r, a, params, queryOK)
	if e != nil {
		e.AccessKeyID = a.AccessKeyID
		return nil, e
	}
	return p, nil
}

// check does everything after the Authorization header parsed that the
// body is not needed for: form, scope and time first (facts any client
// can see), then the key, the session token and the form of the payload
// hash header. The signature, the only check that needs the secret, is
// left to checkSignature.
func (v *Verifier) check(r *http.Request, a Authorization, params []queryParam, queryOK bool) (*prechecked, *Error) {
	signed := func(name string) bool {
		_, ok := slices.BinarySearch(a.SignedHeaders, name)
		return ok
	}
	if !signed("host") {
		return nil, refuse(TypeIncompleteSignature, msgHostNotSigned, "host not signed", "")
	}
	if !signed("x-amz-target") {
		return nil, refuse(TypeIncompleteSignature, msgTargetNotSigned, "x-amz-target not signed", "")
	}
	reqTime, fromAmzDate, e := requestTime(r)
	if e != nil {
		return nil, e
	}
	if fromAmzDate && !signed("x-amz-date") {
		return nil, refuse(TypeIncompleteSignature, msgDateNotSigned, "x-amz-date not signed", "")
	}
	amzDate := reqTime.Format(amzDateLayout)
	if want := reqTime.Format(scopeDateLayout); a.Date != want {
		return nil, refuse(TypeInvalidSignature,
			fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.Date, want, amzDate),
			"credential scope date is not the request date", "")
	}
	if a.Region != v.Region {
		return nil, refuse(TypeInvalidSignature,
			fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. This endpoint is in '%s'.", a.Region, v.Region),
			"credential scope region "+quoteShort(a.Region), "")
	}
	if a.Service != v.Service {
		return nil, refuse(TypeInvalidSignature,
			fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", v.Service),
			"credential scope service "+quoteShort(a.Service), "")
	}
	if e := checkSkew(reqTime, v.now(), v.maxSkew()); e != nil {
		return nil, e
	}

	var cred Credential
	ok := false
	if v.Lookup != nil {
		cred, ok = v.Lookup(a.AccessKeyID)
	}
	if !ok {
		return nil, refuse(TypeUnrecognizedClient, msgInvalidToken, "unknown access key", "")
	}
	if e := checkSessionToken(r, cred, signed("x-amz-security-token")); e != nil {
		return nil, e
	}

	claimed, e := claimedPayloadHash(r)
	if e != nil {
		return nil, e
	}
	if !queryOK {
		return nil, refuse(TypeInvalidSignature,
			"The query string is not valid percent-encoding, so it cannot be canonicalized.", "malformed query string", "")
	}
	headerBlock, absent := canonicalHeaders(r, a.SignedHeaders)
	if absent != "" {
		return nil, refuse(TypeInvalidSignature,
			fmt.Sprintf("Header '%s' is listed in SignedHeaders but is absent from the request, so the signature cannot match.", absent),
			"signed header "+quoteShort(absent)+" absent", "")
	}
	return &prechecked{auth: a, cred: cred, params: params, amzDate: amzDate,
		headerBlock: headerBlock, claimedHash: claimed}, nil
}

// checkSignature is the body phase: the signature over the canonical
// request, then the body against its claimed hash.
func (v *Verifier) checkSignature(r *http.Request, sum [32]byte, p *prechecked) *Error {
	actual := hex.EncodeToString(sum[:])
	// The canonical request ends with the hash the client signed: the
	// header when present, else the body's.
	payloadHash := actual
	if p.claimedHash != "" {
		payloadHash = p.claimedHash
	}
	a := p.auth
	scope := a.Date + "/" + a.Region + "/" + a.Service + "/" + scopeTerminator
	key := signingKey(p.cred.SecretAccessKey, a.Date, a.Region, a.Service)
	query := canonicalQuery(p.params)
	match := false
	for _, uri := range canonicalURIs(rawPath(r)) {
		sts := stringToSign(p.amzDate, scope, r.Method, uri, query, p.headerBlock, a.SignedHeaders, payloadHash)
		if subtle.ConstantTimeCompare([]byte(signature(key, sts)), []byte(a.Signature)) == 1 {
			match = true
		}
	}
	if !match {
		return refuse(TypeInvalidSignature, msgMismatch, "signature mismatch", "")
	}
	// Checked after the signature: the header was signed, the body was not
	// (only its claimed hash was), so this is a body altered in transit.
	if payloadHash != actual {
		return refuse(TypeInvalidSignature,
			"The provided 'x-amz-content-sha256' header does not match what was computed.",
			"x-amz-content-sha256 does not match the body", "")
	}
	return nil
}

// checkSessionToken enforces the credential's session token, if it has
// one, and refuses a token sent with a key that has none: either way the
// token is not this key's. All get AWS's one answer, so a caller learns
// nothing about which part was wrong.
func checkSessionToken(r *http.Request, cred Credential, tokenSigned bool) *Error {
	tokens := r.Header.Values("X-Amz-Security-Token")
	invalid := func(reason string) *Error {
		return refuse(TypeUnrecognizedClient, msgInvalidToken, reason, "")
	}
	if cred.SessionToken == "" {
		if len(tokens) > 0 {
			return invalid("session token sent for a key that has none")
		}
		return nil
	}
	switch {
	case len(tokens) == 0:
		return invalid("session token missing")
	case len(tokens) > 1:
		return invalid("several session tokens")
	case !tokenSigned:
		return invalid("session token not signed")
	case subtle.ConstantTimeCompare([]byte(tokens[0]), []byte(cred.SessionToken)) != 1:
		return invalid("session token does not match the key")
	}
	return nil
}

// claimedPayloadHash returns the X-Amz-Content-Sha256 header, "" when it
// is absent, or the refusal of a malformed or unsupported one.
func claimedPayloadHash(r *http.Request) (string, *Error) {
	vs := r.Header.Values("X-Amz-Content-Sha256")
	if len(vs) == 0 {
		return "", nil
	}
	v := vs[0]
	// Lower-case only: for an upper-case value aws-sdk-go-v2 would sign the
	// lower-case hash and botocore the header, so no one answer is right.
	if len(vs) == 1 && isLowerHex(v, 64) {
		return v, nil
	}
	msg := "The x-amz-content-sha256 header must be the lower-case hex SHA-256 of the request body."
	reason := "malformed x-amz-content-sha256"
	if len(vs) == 1 && (v == "UNSIGNED-PAYLOAD" || strings.HasPrefix(v, "STREAMING-")) {
		msg = fmt.Sprintf("x-amz-content-sha256 '%s' is not supported by this API; sign the payload: send the hex SHA-256 of the request body, or omit the header.", clip(v))
		reason = "unsupported x-amz-content-sha256 " + quoteShort(v)
	}
	return "", refuse(TypeInvalidSignature, msg, reason, "")
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

// quoteShort quotes client input for a log Reason, bounded to 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Sprintf("%q", s)
}
