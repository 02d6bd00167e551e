package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
)

// The canonical request is rebuilt from the request exactly as it came off
// the wire: net/http decodes r.URL.Path and moves Host out of r.Header, and
// either would make a genuine signature fail or a forged one pass.

// rawPath returns the request's path as the client sent it, before any
// decoding: the request-target up to '?', with the scheme and authority of
// an absolute-form target removed. Empty becomes "/", as the SDKs sign it.
func rawPath(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" {
		// Not a server request (built in-process): the URL is all there is.
		uri = r.URL.EscapedPath()
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	if !strings.HasPrefix(uri, "/") {
		// absolute-form "http://host/path", or "*": keep only the path.
		_, rest, ok := strings.Cut(uri, "://")
		uri = ""
		if i := strings.IndexByte(rest, '/'); ok && i >= 0 {
			uri = rest[i:]
		}
	}
	if uri == "" {
		return "/"
	}
	return uri
}

// canonicalURIs returns the canonical URI the way each SDK family builds it
// for a non-S3 service: the path as sent, URI-encoded once more (so "%2F"
// becomes "%252F"). aws-sdk-go-v2 encodes the path as it is; botocore and
// AWS's own test suite first remove "." and ".." segments and empty ones
// ("//"). Both derive from the raw path, so accepting either lets nobody
// alter what was signed. Usually the two are the same and only one is
// returned.
func canonicalURIs(raw string) []string {
	plain := escapePath(raw)
	normalized := escapePath(removeDotSegments(raw))
	if plain == normalized {
		return []string{plain}
	}
	return []string{plain, normalized}
}

// removeDotSegments is botocore's normalize_url_path: RFC 3986 §5.2.4 dot
// removal that also drops empty segments, keeping a leading and a trailing
// '/'.
func removeDotSegments(p string) string {
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	s := strings.Join(out, "/")
	if strings.HasPrefix(p, "/") {
		s = "/" + s
	}
	if strings.HasSuffix(p, "/") && len(out) > 0 {
		s += "/"
	}
	return s
}

// escapePath percent-encodes every byte but the RFC 3986 unreserved set and
// '/', with upper-case hex (smithy-go's httpbinding.EscapePath(p, false)).
func escapePath(p string) string {
	return escape(p, true)
}

// escapeQuery is escapePath that also encodes '/'.
func escapeQuery(s string) string {
	return escape(s, false)
}

func escape(s string, keepSlash bool) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (keepSlash && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// queryParam is one decoded name=value pair of the query string.
type queryParam struct{ key, value string }

// parseQuery splits a raw query the way aws-sdk-go-v2 reads it
// (url.ParseQuery): on '&', each pair on its first '=', empty pairs skipped,
// '+' decoded as a space. Unlike url.ParseQuery it keeps a pair holding ';'
// (as a literal character) and it fails on a malformed %-escape instead of
// dropping the pair silently: a dropped pair would be unsigned input.
func parseQuery(raw string) ([]queryParam, bool) {
	var params []queryParam
	ok := true
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			ok = false
			continue
		}
		params = append(params, queryParam{dk, dv})
	}
	return params, ok
}

// canonicalQuery encodes each name and value, sorts by encoded name and then
// value ("the sorting occurs after encoding") and joins them with '&'.
func canonicalQuery(params []queryParam) string {
	enc := make([]queryParam, len(params))
	for i, p := range params {
		enc[i] = queryParam{escapeQuery(p.key), escapeQuery(p.value)}
	}
	slices.SortFunc(enc, func(a, b queryParam) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// canonicalHeaders renders "name:value\n" for every signed header, values
// in arrival order joined by ',', each trimmed with runs of spaces collapsed
// (as aws-sdk-go-v2 does). host is r.Host as sent, port included. It returns
// the first signed header the request lacks, if any.
func canonicalHeaders(r *http.Request, signed []string) (string, string) {
	var b strings.Builder
	for _, name := range signed {
		var values []string
		if name == "host" {
			values = []string{r.Host}
		} else {
			values = r.Header[textproto.CanonicalMIMEHeaderKey(name)]
		}
		if len(values) == 0 {
			return "", name
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trimAll(v))
		}
		b.WriteByte('\n')
	}
	return b.String(), ""
}

// trimAll trims spaces at both ends and collapses inner runs of spaces to
// one. Only ' ' counts, as in aws-sdk-go-v2; botocore would also fold tabs,
// which no header an SDK signs for the JSON API contains.
func trimAll(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// stringToSign hashes the canonical request into the string that is signed.
func stringToSign(amzDate, scope, method, uri, query, headers string, signed []string, payloadHash string) string {
	canonical := strings.Join([]string{
		method, uri, query, headers, strings.Join(signed, ";"), payloadHash,
	}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signingKey derives kSigning. Not cached: five HMACs cost a few
// microseconds, less than a guarded cache would be worth.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, scopeTerminator)
}

// signature is hex(HMAC(kSigning, stringToSign)).
func signature(key []byte, sts string) string {
	return hex.EncodeToString(hmacSHA256(key, sts))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
