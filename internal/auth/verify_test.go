package auth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestVerifyAcceptsSDKSignedRequests signs requests with aws-sdk-go-v2 and
// sends them through a real server: every one must verify.
func TestVerifyAcceptsSDKSignedRequests(t *testing.T) {
	srv := startServer(t, newVerifier(signTime()))
	base, _ := url.Parse(srv.URL)

	// at builds a request for the path (as written on the wire) and raw query.
	at := func(method, rawPath, rawQuery, body string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			t.Helper()
			path, err := url.PathUnescape(rawPath)
			if err != nil {
				t.Fatal(err)
			}
			u := &url.URL{Scheme: "http", Host: base.Host, Path: path, RawPath: rawPath, RawQuery: rawQuery}
			r, err := http.NewRequest(method, u.String(), strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("X-Amz-Target", ecrTarget)
			r.Header.Set("Content-Type", jsonType)
			return r
		}
	}
	plain := at(http.MethodPost, "/", "", defaultBody)
	with := func(build func(*testing.T) *http.Request, edit func(*http.Request)) func(*testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r := build(t)
			edit(r)
			return r
		}
	}

	tests := []struct {
		name  string
		build func(t *testing.T) *http.Request
		body  string
		creds string // "temp" for the key with a session token
		// rawQuery, when set, replaces the query after signing: the SDK
		// rewrites it in canonical form, and this sends it as first written.
		rawQuery string
	}{
		{name: "PlainECRRequest", build: plain, body: defaultBody},
		{name: "EmptyBody", build: at(http.MethodPost, "/", "", ""), body: ""},
		{name: "GetWithoutBody", build: at(http.MethodGet, "/", "", ""), body: ""},
		{name: "LargeBody", build: at(http.MethodPost, "/", "", strings.Repeat("x", 1<<20)), body: strings.Repeat("x", 1<<20)},

		{name: "Path/Nested", build: at(http.MethodPost, "/a/b", "", defaultBody), body: defaultBody},
		{name: "Path/EncodedSlash", build: at(http.MethodPost, "/a%2Fb", "", defaultBody), body: defaultBody},
		{name: "Path/Space", build: at(http.MethodPost, "/a%20b", "", defaultBody), body: defaultBody},
		{name: "Path/Unreserved", build: at(http.MethodPost, "/~user/x.y_z--w__v", "", defaultBody), body: defaultBody},
		{name: "Path/DoubleSlash", build: at(http.MethodPost, "/a//b", "", defaultBody), body: defaultBody},
		{name: "Path/DotSegment", build: at(http.MethodPost, "/a/./b", "", defaultBody), body: defaultBody},
		{name: "Path/DotDotSegment", build: at(http.MethodPost, "/a/../b/", "", defaultBody), body: defaultBody},
		{name: "Path/SubDelims", build: at(http.MethodPost, "/a:b@c!d$e&f'g(h)i*j+k,l;m=n", "", defaultBody), body: defaultBody},
		{name: "Path/Unicode", build: at(http.MethodPost, "/r%C3%A9po/%E2%9C%93", "", defaultBody), body: defaultBody},
		{name: "Path/EncodedTilde", build: at(http.MethodPost, "/a%7Eb", "", defaultBody), body: defaultBody},

		{name: "Query/Unsorted", build: at(http.MethodPost, "/", "b=2&a=1", defaultBody), body: defaultBody, rawQuery: "b=2&a=1"},
		{name: "Query/RepeatedKey", build: at(http.MethodPost, "/", "a=2&a=1&a=10", defaultBody), body: defaultBody, rawQuery: "a=2&a=1&a=10"},
		{name: "Query/EmptyValues", build: at(http.MethodPost, "/", "a=&b&c=3", defaultBody), body: defaultBody, rawQuery: "a=&b&c=3"},
		{name: "Query/PlusIsSpace", build: at(http.MethodPost, "/", "q=a+b", defaultBody), body: defaultBody, rawQuery: "q=a+b"},
		{name: "Query/EncodedPlus", build: at(http.MethodPost, "/", "q=a%2Bb", defaultBody), body: defaultBody, rawQuery: "q=a%2Bb"},
		{name: "Query/EncodedSpace", build: at(http.MethodPost, "/", "q=a%20b", defaultBody), body: defaultBody, rawQuery: "q=a%20b"},
		{name: "Query/Tilde", build: at(http.MethodPost, "/", "t=~x&u=%7Ey", defaultBody), body: defaultBody, rawQuery: "t=~x&u=%7Ey"},
		{name: "Query/Unicode", build: at(http.MethodPost, "/", "u=%C3%BC&%E2%9C%93=1", defaultBody), body: defaultBody, rawQuery: "u=%C3%BC&%E2%9C%93=1"},
		{name: "Query/SortAfterEncoding", build: at(http.MethodPost, "/", "k=a-b&k=a%2Fb", defaultBody), body: defaultBody, rawQuery: "k=a-b&k=a%2Fb"},
		{name: "Query/Reserved", build: at(http.MethodPost, "/", "x=%21%24%26%27%28%29%2A%2C%3B%3D%3A%40", defaultBody), body: defaultBody},

		{name: "Header/InnerAndOuterSpaces", build: with(plain, func(r *http.Request) {
			r.Header.Set("X-Custom", "  a   b  c  ")
		}), body: defaultBody},
		{name: "Header/DuplicateLines", build: with(plain, func(r *http.Request) {
			r.Header.Add("X-Multi", "one")
			r.Header.Add("X-Multi", " two  three ")
			r.Header.Add("X-Multi", "a,b")
		}), body: defaultBody},
		{name: "Header/EmptyValue", build: with(plain, func(r *http.Request) {
			r.Header.Set("X-Empty", "")
		}), body: defaultBody},
		{name: "Header/HostWithPortAndCase", build: with(plain, func(r *http.Request) {
			r.Host = "Registry.Example.com:8443"
		}), body: defaultBody},
		{name: "Header/ContentSha256", build: with(plain, func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte(defaultBody)))
		}), body: defaultBody},
		{name: "SessionTokenSigned", build: plain, body: defaultBody, creds: "temp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.build(t)
			creds, wantKey := longCreds(), longKey
			if tc.creds == "temp" {
				creds, wantKey = tempCreds(), tempKey
			}
			sign(t, r, tc.body, creds, testRegion, testService, signTime())
			t.Run("AsSigned", func(t *testing.T) {
				setBody(r, tc.body)
				got := send(t, r)
				checkOK(t, got, wantKey)
				if got.ReadOnly != (tc.creds == "temp") {
					t.Errorf("ReadOnly = %v: the credential did not come from Lookup", got.ReadOnly)
				}
			})
			if tc.rawQuery != "" {
				t.Run("QueryAsWritten", func(t *testing.T) {
					r2 := r.Clone(r.Context())
					r2.URL.RawQuery = tc.rawQuery
					setBody(r2, tc.body)
					checkOK(t, send(t, r2), wantKey)
				})
			}
		})
	}
}

// TestVerifyAcceptsDateHeader covers the Date fallback, which no SDK uses
// any more (they all send X-Amz-Date), so the signature is computed here
// from the published algorithm.
func TestVerifyAcceptsDateHeader(t *testing.T) {
	srv := startServer(t, newVerifier(signTime()))
	r := newECRRequest(t, srv.URL, defaultBody)
	host := strings.TrimPrefix(srv.URL, "http://")
	date := signTime().Format(http.TimeFormat)
	r.Header.Set("Date", date)
	canonical := "POST\n/\n\n" +
		"content-type:" + jsonType + "\n" +
		"date:" + date + "\n" +
		"host:" + host + "\n" +
		"x-amz-target:" + ecrTarget + "\n\n" +
		"content-type;date;host;x-amz-target\n" +
		hashHex([]byte(defaultBody))
	r.Header.Set("Authorization", handSign(canonical, "content-type;date;host;x-amz-target", longKey, longSecret, signTime()))
	checkOK(t, send(t, r), longKey)
}

// TestVerifyAcceptsSkewAtTheEdge: a request signed exactly MaxSkew before or
// after the server's clock is still inside the window.
func TestVerifyAcceptsSkewAtTheEdge(t *testing.T) {
	for _, tc := range []struct {
		name string
		now  time.Duration
	}{
		{"ServerAhead15Min", 15 * time.Minute},
		{"ServerBehind15Min", -15 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, newVerifier(signTime().Add(tc.now)))
			r := newECRRequest(t, srv.URL, defaultBody)
			sign(t, r, defaultBody, longCreds(), testRegion, testService, signTime())
			setBody(r, defaultBody)
			checkOK(t, send(t, r), longKey)
		})
	}
}
