package oci

import (
	"encoding/base64"
	"math"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/ecrd/ecrd/internal/registry"
)

// The oracles below restate each parser's grammar independently of its
// code (regexps, big integers, hand-written percent-decoding), so that a
// fuzz target can check "accepted exactly when the grammar says so".

const fuzzDigest = "sha256:6171c7451a50945f8ddd72f7732cc04d7a0d1f48138a426b2e64387fdeb834ed"

// escapedSegment is a path segment whose percent-escapes are all
// complete: what url.PathUnescape accepts.
var escapedSegment = regexp.MustCompile(`^(?:[^%]|%[0-9A-Fa-f]{2})*$`)

// unescapeSegment percent-decodes one escaped path segment; false for an
// incomplete escape.
func unescapeSegment(s string) (string, bool) {
	if !escapedSegment.MatchString(s) {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), true
}

// routeName is a repository name as the router sees it: one or more
// non-empty segments. Names are validated later, by the core.
const routeName = `([^/]+(?:/[^/]+)*)`

// routeGrammar is the distribution spec's endpoints under /v2/, over the
// unescaped path after "/v2/", in the order the router prefers them:
// "<name>/blobs/uploads" is the uploads endpoint, not a blob named
// "uploads".
var routeGrammar = []struct {
	endpoint endpoint
	re       *regexp.Regexp
}{
	{endpointTags, regexp.MustCompile(`^` + routeName + `/tags/list$`)},
	{endpointUploads, regexp.MustCompile(`^` + routeName + `/blobs/uploads/?$`)},
	{endpointUpload, regexp.MustCompile(`^` + routeName + `/blobs/uploads/([^/]+)$`)},
	{endpointBlob, regexp.MustCompile(`^` + routeName + `/blobs/([^/]+)$`)},
	{endpointManifest, regexp.MustCompile(`^` + routeName + `/manifests/([^/]+)$`)},
	{endpointReferrers, regexp.MustCompile(`^` + routeName + `/referrers/([^/]+)$`)},
}

// unescapedPath is escaped with each segment after "/v2/" decoded; false
// when a segment does not decode or decodes to contain '/'.
func unescapedPath(escaped string) (string, bool) {
	rest, ok := strings.CutPrefix(escaped, "/v2/")
	if !ok {
		return "", false
	}
	var segs []string
	for _, s := range strings.Split(rest, "/") {
		u, ok := unescapeSegment(s)
		if !ok || strings.Contains(u, "/") {
			return "", false
		}
		segs = append(segs, u)
	}
	return "/v2/" + strings.Join(segs, "/"), true
}

// grammarRoute is parseRoute's specification. The base and the catalog
// are matched on the path as sent, as route.go does ("/v2/%5Fcatalog"
// addresses nothing).
func grammarRoute(escaped string) (route, bool) {
	switch escaped {
	case "/v2", "/v2/":
		return route{endpoint: endpointBase}, true
	case "/v2/_catalog":
		return route{endpoint: endpointCatalog}, true
	}
	p, ok := unescapedPath(escaped)
	if !ok {
		return route{}, false
	}
	rest := strings.TrimPrefix(p, "/v2/")
	for _, g := range routeGrammar {
		if m := g.re.FindStringSubmatch(rest); m != nil {
			r := route{endpoint: g.endpoint, name: m[1]}
			if len(m) > 2 {
				r.ref = m[2]
			}
			return r, true
		}
	}
	return route{}, false
}

// joinRoute spells a parsed route as an unescaped path.
func joinRoute(r route) string {
	switch r.endpoint {
	case endpointBase:
		return "/v2/"
	case endpointCatalog:
		return "/v2/_catalog"
	case endpointTags:
		return "/v2/" + r.name + "/tags/list"
	case endpointUploads:
		return "/v2/" + r.name + "/blobs/uploads/"
	case endpointUpload:
		return "/v2/" + r.name + "/blobs/uploads/" + r.ref
	case endpointBlob:
		return "/v2/" + r.name + "/blobs/" + r.ref
	case endpointManifest:
		return "/v2/" + r.name + "/manifests/" + r.ref
	case endpointReferrers:
		return "/v2/" + r.name + "/referrers/" + r.ref
	}
	return ""
}

// FuzzParseRoute: no path panics parseRoute; it accepts exactly the
// paths of the spec's endpoints (routeGrammar), with the same endpoint,
// name and reference; and an accepted path is its parts re-joined,
// unescaped.
func FuzzParseRoute(f *testing.F) {
	for _, p := range []string{
		"/v2/", "/v2", "/v2/_catalog", "/v2/_catalog/", "/v2/%5Fcatalog", "/v2//", "/v2/_catalog/tags/list",
		"/v2/app/blobs/" + fuzzDigest,
		"/v2/team/sub/deep/app/blobs/" + fuzzDigest,
		"/v2/app/blobs/uploads/", "/v2/app/blobs/uploads", "/v2/blobs/uploads/", "/v2/blobs/uploads",
		"/v2/app/blobs/uploads/0b7c7e5e-1f3a-4c1e-9d1a-2b3c4d5e6f70",
		"/v2/app/blobs/uploads/u/extra", "/v2/app/blobs/blobs/uploads",
		"/v2/app/manifests/latest", "/v2/a/b/manifests/" + fuzzDigest, "/v2/app/manifests/",
		"/v2/app/tags/list", "/v2/tags/list", "/v2/app/tags/list/", "/v2/a/manifests/tags/list",
		"/v2/app/referrers/" + fuzzDigest, "/v2/referrers/" + fuzzDigest,
		"/v2/a%2Fb/manifests/latest", "/v2/a%2fb/tags/list", "/v2/a/manifests/%zz", "/v2/a/manifests/%4",
		"/v2/a/%74ags/list", "/v2/%61pp/manifests/v%31", "/v2/a%20b/manifests/x%00y",
		"/v2//app/tags/list", "/v2/a//b/tags/list", "/v2/app/blobs//", "/v2/app/blobs/uploads//",
		"/v3/", "v2/", "", "/", "/v2x/app/tags/list", "/V2/app/tags/list",
		"/v2/app/manifests/l\xffatest", "/v2/\xff/tags/list",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, escaped string) {
		got, ok := parseRoute(escaped)
		want, wantOK := grammarRoute(escaped)
		if ok != wantOK || got != want {
			t.Fatalf("parseRoute(%q) = %+v, %v; the grammar says %+v, %v", escaped, got, ok, want, wantOK)
		}
		if !ok {
			return
		}
		p := escaped
		if got.endpoint != endpointBase && got.endpoint != endpointCatalog {
			p, _ = unescapedPath(escaped)
		}
		joined := joinRoute(got)
		if got.endpoint == endpointBase || got.endpoint == endpointUploads {
			// Both spell the same endpoint with and without the final '/'.
			joined, p = strings.TrimSuffix(joined, "/"), strings.TrimSuffix(p, "/")
		}
		if joined != p {
			t.Fatalf("parseRoute(%q) = %+v, which re-joins to %q, not %q", escaped, got, joined, p)
		}
	})
}

// contentRangeGrammar is what parseContentRange documents: the spec's
// "<start>-<end>", or RFC 9110's "bytes <start>-<end>/<size>". Read as
// uploads.go does, "bytes" may be followed by any run of ' ' and '='
// ("bytes=5-5", as TestParseContentRange has it), and whatever follows
// the '/' is ignored (the size is never used). Numbers are decimal
// digits, with no sign.
var contentRangeGrammar = regexp.MustCompile(`(?s)^(?:bytes[ =]*)?([0-9]+)-([0-9]+)(?:/.*)?$`)

// grammarContentRange is parseContentRange's specification. Beyond the
// syntax, start <= end, both are int64s, and so is the range's length
// end-start+1, which the caller computes.
func grammarContentRange(s string) (start, end *big.Int, ok bool) {
	m := contentRangeGrammar.FindStringSubmatch(strings.TrimFunc(s, unicode.IsSpace))
	if m == nil {
		return nil, nil, false
	}
	start, _ = new(big.Int).SetString(m[1], 10)
	end, _ = new(big.Int).SetString(m[2], 10)
	length := new(big.Int).Sub(end, start)
	length.Add(length, big.NewInt(1))
	maxInt64 := big.NewInt(math.MaxInt64)
	if start.Cmp(end) > 0 || end.Cmp(maxInt64) > 0 || length.Cmp(maxInt64) > 0 {
		return nil, nil, false
	}
	return start, end, true
}

// FuzzParseContentRange: no header value panics parseContentRange; it
// accepts exactly the documented grammar, with its numbers; an accepted
// range has 0 <= start <= end and a length that is a positive int64.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{
		"0-99", "100-199", "bytes 100-199/*", "bytes 100-199/200", "bytes=5-5", "bytes 0-0/1", " 0-0 ", "\t7-9\r\n",
		"5-4", "-5", "5-", "-", "a-b", "10", "", "bytes", "bytes ", "bytes */100", "0-1-2", "0-1/", "0-1/x",
		"0 -1", "0- 1", "bytes\t0-1", "bytes==  =0-1", "bytes0-1", "Bytes 0-1", "items 0-1",
		"0-9223372036854775806", "1-9223372036854775807", "9223372036854775807-9223372036854775807",
		"0-9223372036854775808", "9223372036854775808-9223372036854775809",
		"00000000000000000000001-2", "0x1-0x2", "1_0-2_0", "１-２",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, end, ok := parseContentRange(s)
		wantStart, wantEnd, wantOK := grammarContentRange(s)
		if ok != wantOK {
			t.Fatalf("parseContentRange(%q) = %d, %d, %v; the grammar says %v", s, start, end, ok, wantOK)
		}
		if !ok {
			return
		}
		if start != wantStart.Int64() || end != wantEnd.Int64() {
			t.Fatalf("parseContentRange(%q) = %d-%d, want %v-%v", s, start, end, wantStart, wantEnd)
		}
		if start < 0 || end < start || end-start+1 <= 0 {
			t.Fatalf("parseContentRange(%q) accepted %d-%d", s, start, end)
		}
	})
}

// mediaRanges finds the non-empty elements of an Accept value, and
// mediaRangeType an element's media range, without its parameters.
var (
	mediaRanges    = regexp.MustCompile(`[^,]+`)
	mediaRangeType = regexp.MustCompile(`^[^;]*`)
)

// grammarAcceptedTypes is acceptedTypes' specification: each Accept
// value is a comma-separated list of media ranges, each a type with
// optional ";" parameters; a range is compared without its parameters,
// surrounding space or case (Unicode case, as strings.ToLower folds it:
// U+212A KELVIN SIGN reads as 'k'). "*/*" anywhere accepts anything (nil);
// otherwise the answer is the ranges that are manifest types, in order,
// and nil for none.
func grammarAcceptedTypes(values []string) []string {
	var out []string
	for _, v := range values {
		for _, e := range mediaRanges.FindAllString(v, -1) {
			mt := strings.ToLower(strings.TrimFunc(mediaRangeType.FindString(e), unicode.IsSpace))
			if mt == "*/*" {
				return nil
			}
			if slices.Contains(manifestTypes, mt) {
				out = append(out, mt)
			}
		}
	}
	return out
}

// FuzzAcceptedTypes: no Accept header panics acceptedTypes, and it
// answers as grammarAcceptedTypes. The input's lines are the header's
// values.
func FuzzAcceptedTypes(f *testing.F) {
	for _, s := range []string{
		"", "application/json", "*/*",
		registry.MediaTypeOCIManifest + "; q=0.5, " + registry.MediaTypeDockerManifest,
		registry.MediaTypeOCIIndex + "\n" + registry.MediaTypeDockerManifestList,
		registry.MediaTypeOCIIndex + ", */*",
		// docker pull's header, and containerd's.
		"application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v1+prettyjws, application/json",
		"application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, */*",
		"APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON", " application/vnd.oci.image.index.v1+json ;charset=utf-8 ,, ",
		"application/vnd.oci.image.manifest.v1+json;q=0", "application/*", "*/*;q=0.1", ",,,;;;", ";*/*",
		"application/vnd.oci.image.manifest.v1+json; foo=\"a,b\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		var values []string
		if accept != "" {
			values = strings.Split(accept, "\n")
		}
		got := acceptedTypes(&http.Request{Header: http.Header{"Accept": values}})
		if want := grammarAcceptedTypes(values); !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("acceptedTypes(%q) = %q, want %q", values, got, want)
		}
	})
}

// authorizationGrammar splits an Authorization header at its first
// space into scheme and credentials.
var authorizationGrammar = regexp.MustCompile(`(?s)^([^ ]*)(?: (.*))?$`)

// FuzzCredentialsOf: no Authorization header panics credentialsOf; it
// takes Bearer <token> and Basic with user "AWS" (the schemes in any
// case), reads no header and Basic of ":" as no credentials, and
// refuses everything else with no credentials; what it takes from Basic
// re-encodes to the header's token.
func FuzzCredentialsOf(f *testing.F) {
	for _, s := range []string{
		"", "Bearer tok", "bearer  tok ", "Bearer", "Bearer ", "BEARER x y",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("AWS:pw")),
		"basic " + base64.StdEncoding.EncodeToString([]byte("AWS:")),
		"Basic " + base64.StdEncoding.EncodeToString([]byte(":")),
		"Basic " + base64.StdEncoding.EncodeToString([]byte("aws:pw")),
		"Basic " + base64.StdEncoding.EncodeToString([]byte("AWS:a:b")),
		"Basic " + base64.StdEncoding.EncodeToString([]byte("AWS")),
		"Basic " + base64.RawStdEncoding.EncodeToString([]byte("AWS:pw")),
		"Basic QVdT\nOnB3", "Basic", "Basic ", " Bearer tok", "AWS4-HMAC-SHA256 Credential=x", "Digest a=b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := &http.Request{Header: http.Header{}}
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		c, ok := credentialsOf(r)
		if !ok && c != (credentials{}) || !c.given && c.token != "" {
			t.Fatalf("credentialsOf(%q) = %+v, %v", h, c, ok)
		}
		m := authorizationGrammar.FindStringSubmatch(h)
		scheme, value := m[1], strings.TrimFunc(m[2], unicode.IsSpace)
		want, wantOK := credentials{}, false
		switch {
		case scheme == "":
			wantOK = true
		case strings.EqualFold(scheme, "bearer") && value != "":
			want, wantOK = credentials{token: value, given: true}, true
		case strings.EqualFold(scheme, "basic"):
			raw, err := base64.StdEncoding.DecodeString(value)
			switch {
			case err != nil:
			case string(raw) == ":":
				wantOK = true
			case strings.HasPrefix(string(raw), "AWS:"):
				want, wantOK = credentials{token: strings.TrimPrefix(string(raw), "AWS:"), given: true}, true
			}
			// What it takes re-encodes to the header's token when that is
			// canonical base64: the decoder skips CR and LF, and also takes
			// non-zero padding bits ("QVdTOm1=" reads as "QVdTOm0=" does).
			enc := strings.NewReplacer("\r", "", "\n", "").Replace(value)
			if _, err := base64.StdEncoding.Strict().DecodeString(enc); c.given && err == nil {
				if base64.StdEncoding.EncodeToString([]byte("AWS:"+c.token)) != enc {
					t.Fatalf("credentialsOf(%q) took token %q from Basic %q", h, c.token, value)
				}
			}
		}
		if c != want || ok != wantOK {
			t.Fatalf("credentialsOf(%q) = %+v, %v; want %+v, %v", h, c, ok, want, wantOK)
		}
	})
}
