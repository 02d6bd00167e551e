package auth

import (
	"fmt"
	"strings"
	"time"
)

const (
	// algorithm is the only signing algorithm accepted (SigV4, HMAC-SHA256).
	algorithm = "AWS4-HMAC-SHA256"
	// scopeTerminator ends every SigV4 credential scope.
	scopeTerminator = "aws4_request"
	// scopeDateLayout is the credential scope's date.
	scopeDateLayout = "20060102"
)

// Authorization is a parsed Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
type Authorization struct {
	AccessKeyID   string   // printable ASCII, no ',' or '/'
	Date          string   // the credential scope's yyyymmdd
	Region        string   // the credential scope's region
	Service       string   // the credential scope's service
	SignedHeaders []string // lower-case header names, sorted, no duplicates
	Signature     string   // 64 lower-case hex digits
}

// ParseAuthorization parses a SigV4 Authorization header. The parameters
// Credential, SignedHeaders and Signature are separated by ',' with optional
// spaces, may come in any order and must each appear exactly once. On
// malformed input it returns an *Error of type IncompleteSignatureException
// (carrying the access key ID when the Credential got that far).
//
// It checks form only: whether the scope's region, service and date are the
// right ones is Verifier.Verify's business.
func ParseAuthorization(h string) (Authorization, error) {
	var a Authorization
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return a, refuse(TypeIncompleteSignature,
			fmt.Sprintf("Unsupported AWS 'algorithm': '%s'. Only '%s' is supported.", clip(alg), algorithm),
			"unsupported algorithm", "")
	}

	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " ")
		if part == "" {
			continue // tolerate ", ," and a trailing comma: nothing is lost
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return a, refuse(TypeIncompleteSignature,
				fmt.Sprintf("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", clip(part), clip(h)),
				"malformed Authorization parameter", "")
		}
		switch name {
		case "Credential", "SignedHeaders", "Signature":
		default:
			return a, refuse(TypeIncompleteSignature,
				fmt.Sprintf("Authorization header has an unknown parameter '%s'; only 'Credential', 'SignedHeaders' and 'Signature' are allowed. Authorization=%s", clip(name), clip(h)),
				"unknown Authorization parameter", "")
		}
		if _, dup := params[name]; dup {
			return a, refuse(TypeIncompleteSignature,
				fmt.Sprintf("Authorization header has more than one '%s' parameter. Authorization=%s", name, clip(h)),
				"duplicate Authorization parameter", "")
		}
		params[name] = value
	}

	// The credential first, so that every later refusal can name the key.
	cred, hasCred := params["Credential"]
	if hasCred {
		if err := a.parseCredential(cred); err != nil {
			return Authorization{}, err
		}
	}
	var missing strings.Builder
	for _, name := range []string{"Credential", "SignedHeaders", "Signature"} {
		if _, ok := params[name]; !ok {
			fmt.Fprintf(&missing, "Authorization header requires '%s' parameter. ", name)
		}
	}
	if missing.Len() > 0 {
		return Authorization{}, refuse(TypeIncompleteSignature, missing.String()+"Authorization="+clip(h),
			"Authorization lacks "+missingNames(params), a.AccessKeyID)
	}

	signed, err := parseSignedHeaders(params["SignedHeaders"])
	if err != nil {
		err.AccessKeyID = a.AccessKeyID
		return Authorization{}, err
	}
	a.SignedHeaders = signed
	a.Signature = params["Signature"]
	if !isLowerHex(a.Signature, 64) {
		return Authorization{}, refuse(TypeIncompleteSignature,
			"Signature must be 64 lower-case hexadecimal digits.", "malformed Signature", a.AccessKeyID)
	}
	return a, nil
}

// parseCredential fills the key and scope from "AKID/date/region/service/aws4_request".
func (a *Authorization) parseCredential(cred string) *Error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return refuse(TypeIncompleteSignature,
			fmt.Sprintf("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'.", clip(cred)),
			"malformed Credential", "")
	}
	if !isAccessKeyID(parts[0]) {
		return refuse(TypeIncompleteSignature,
			"Credential must start with an access key ID of printable ASCII characters.", "malformed access key ID", "")
	}
	a.AccessKeyID = parts[0]
	if d, err := time.Parse(scopeDateLayout, parts[1]); err != nil || d.Format(scopeDateLayout) != parts[1] {
		return refuse(TypeIncompleteSignature,
			fmt.Sprintf("Invalid credential date '%s'. Date is not the required format: yyyyMMdd.", clip(parts[1])),
			"malformed credential scope date", a.AccessKeyID)
	}
	if !isVisibleASCII(parts[2]) || !isVisibleASCII(parts[3]) {
		return refuse(TypeIncompleteSignature,
			fmt.Sprintf("Credential scope must name a region and a service, got '%s'.", clip(cred)),
			"malformed credential scope", a.AccessKeyID)
	}
	if parts[4] != scopeTerminator {
		return refuse(TypeIncompleteSignature,
			fmt.Sprintf("Credential should be scoped with a valid terminator: '%s', not '%s'.", scopeTerminator, clip(parts[4])),
			"credential scope terminator is not aws4_request", a.AccessKeyID)
	}
	a.Date, a.Region, a.Service = parts[1], parts[2], parts[3]
	return nil
}

// parseSignedHeaders checks that the list is in canonical form. Names must be
// header tokens: a name holding ':' or a newline could otherwise forge lines
// of the canonical request.
func parseSignedHeaders(v string) ([]string, *Error) {
	bad := func() ([]string, *Error) {
		return nil, refuse(TypeIncompleteSignature,
			fmt.Sprintf("SignedHeaders must be a ';'-separated list of lower-case header names in sorted order without duplicates, got '%s'.", clip(v)),
			"malformed SignedHeaders", "")
	}
	if v == "" {
		return bad()
	}
	names := strings.Split(v, ";")
	for i, n := range names {
		if !isLowerToken(n) || (i > 0 && names[i-1] >= n) {
			return bad()
		}
	}
	return names, nil
}

// missingNames lists the absent Authorization parameters for the log.
func missingNames(params map[string]string) string {
	var out []string
	for _, name := range []string{"Credential", "SignedHeaders", "Signature"} {
		if _, ok := params[name]; !ok {
			out = append(out, name)
		}
	}
	return strings.Join(out, ", ")
}

// isAccessKeyID accepts what can safely be logged and looked up: 1 to 128
// visible ASCII characters other than ',' (which would end the parameter).
// '/' cannot occur: it separates the credential's elements.
func isAccessKeyID(s string) bool {
	return len(s) <= 128 && isVisibleASCII(s) && !strings.ContainsRune(s, ',')
}

// isVisibleASCII reports whether s is non-empty and all of '!'..'~'.
func isVisibleASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

// isLowerToken reports whether s is a non-empty RFC 9110 token without
// upper-case letters.
func isLowerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isLowerHex reports whether s is n lower-case hex digits.
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}
