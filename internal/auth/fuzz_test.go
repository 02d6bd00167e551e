package auth_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ecrd/ecrd/internal/auth"
)

// FuzzParseAuthorization: no input panics, every refusal is an
// IncompleteSignatureException, and whatever is accepted is well-formed and
// survives a format/parse round trip.
func FuzzParseAuthorization(f *testing.F) {
	cred := "Credential=AKIDEXAMPLE/20150830/us-east-1/ecr/aws4_request"
	for _, seed := range []string{
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + sig64,
		"AWS4-HMAC-SHA256 Signature=" + sig64 + ",SignedHeaders=host," + cred,
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig64 + ",",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 ",
		"AWS4-HMAC-SHA256 ,,,",
		"AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=a, Signature=" + sig64,
		"AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_request/x, SignedHeaders=host, Signature=" + sig64,
		"AWS4-HMAC-SHA256 " + cred + ", " + cred + ", SignedHeaders=host, Signature=" + sig64,
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host, Signature=" + sig64,
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + strings.ToUpper(sig64),
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host\nx, Signature=" + sig64,
		"AWS4-HMAC-SHA256 Credential=AKID/99999999/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=" + sig64,
		"AWS AKIDEXAMPLE:signature",
		"Bearer token",
		"AWS4-HMAC-SHA256 Credential==/=/=/=/=, SignedHeaders==, Signature==",
		"\x00AWS4-HMAC-SHA256\xff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := auth.ParseAuthorization(h)
		if err != nil {
			var ae *auth.Error
			if !errors.As(err, &ae) || ae.Type != incomplete || ae.Status != http.StatusBadRequest || ae.Reason == "" {
				t.Fatalf("refusal %#v is not a complete IncompleteSignatureException", err)
			}
			return
		}
		if len(a.Signature) != 64 || strings.Trim(a.Signature, "0123456789abcdef") != "" {
			t.Fatalf("accepted signature %q", a.Signature)
		}
		if len(a.SignedHeaders) == 0 || !slices.IsSorted(a.SignedHeaders) || len(slices.Compact(slices.Clone(a.SignedHeaders))) != len(a.SignedHeaders) {
			t.Fatalf("accepted SignedHeaders %q", a.SignedHeaders)
		}
		for _, part := range []string{
			"Credential=" + a.AccessKeyID + "/" + a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request",
			"SignedHeaders=" + strings.Join(a.SignedHeaders, ";"),
			"Signature=" + a.Signature,
		} {
			if !strings.Contains(h, part) {
				t.Fatalf("accepted %q, but it does not contain %q", h, part)
			}
		}
		b, err := auth.ParseAuthorization(formatAuthorization(a))
		if err != nil || !equalAuthorization(a, b) {
			t.Fatalf("round trip of %+v: %+v, %v", a, b, err)
		}
	})
}

// FuzzVerify: no request panics Verify, every refusal is a complete *Error
// that holds no secret, and nothing but the seed's own signature over the
// seed's own body is ever accepted (the fuzzer cannot forge an HMAC, so an
// acceptance of anything else would be a canonicalization hole).
func FuzzVerify(f *testing.F) {
	seed, seedBody := fuzzSeedRequest(f)
	seedAuth, seedDate := seed.Header.Get("Authorization"), seed.Header.Get("X-Amz-Date")
	want, err := auth.ParseAuthorization(seedAuth)
	if err != nil {
		f.Fatal(err)
	}
	v := newVerifier(signTime())
	if _, err := v.Verify(fuzzRequest(seedAuth, seedDate, "", "", "/", "", seedBody), seedBody); err != nil {
		f.Fatalf("the seed does not verify: %v", err)
	}

	f.Add(seedAuth, seedDate, "", "", "/", "", seedBody)
	f.Add(seedAuth, seedDate, "", "", "//./", "", seedBody)
	f.Add(seedAuth, seedDate, "", "", "/", "a=%zz&b", seedBody)
	f.Add(seedAuth, seedDate, sessionToken, "", "/", "", seedBody)
	f.Add(seedAuth, seedDate, "", hashHex(seedBody), "/", "", seedBody)
	f.Add(seedAuth, seedDate, "", hashHex(seedBody), "/", "", []byte("tampered"))
	f.Add(seedAuth, seedDate, "", "UNSIGNED-PAYLOAD", "/", "X-Amz-Signature=x", seedBody)
	f.Add(seedAuth, "20170111T225449", "", "", "*", "", seedBody)
	f.Add("", "", "", "", "", "", []byte(nil))
	f.Add("AWS4-HMAC-SHA256 Credential="+longKey+"/20170111/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-target, Signature="+sig64,
		"", "", "", "http://h/a?b", "c", []byte("{}"))
	f.Fuzz(func(t *testing.T, authz, amzDate, token, contentSHA, path, query string, body []byte) {
		r := fuzzRequest(authz, amzDate, token, contentSHA, path, query, body)
		cred, err := v.Verify(r, body)
		if err == nil {
			got, perr := auth.ParseAuthorization(authz)
			if perr != nil || !equalAuthorization(got, want) || !bytes.Equal(body, seedBody) || cred.AccessKeyID != longKey {
				t.Fatalf("accepted a request the seed did not sign: auth %q, body %q", authz, body)
			}
			return
		}
		var ae *auth.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Reason == "" || ae.Message == "" {
			t.Fatalf("refusal %#v is not a complete *auth.Error", err)
		}
		switch ae.Type {
		case incomplete, invalid, unrecognized, missingToken:
		default:
			t.Fatalf("unknown type %q", ae.Type)
		}
		for _, secret := range []string{longSecret, tempSecret} {
			if strings.Contains(ae.Message+ae.Reason+ae.Error(), secret) {
				t.Fatalf("a secret leaked: %q %q", ae.Message, ae.Reason)
			}
		}
	})
}

// fuzzSeedRequest is an SDK-signed ECR request for http://127.0.0.1:8080/.
func fuzzSeedRequest(f *testing.F) (*http.Request, []byte) {
	body := []byte(defaultBody)
	r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:8080/", bytes.NewReader(body))
	if err != nil {
		f.Fatal(err)
	}
	r.Header.Set("Content-Type", jsonType)
	r.Header.Set("X-Amz-Target", ecrTarget)
	if err := v4.NewSigner().SignHTTP(context.Background(), longCreds(), r, hashHex(body), testService, testRegion, signTime()); err != nil {
		f.Fatal(err)
	}
	return r, body
}

// fuzzRequest builds a request as a server would hand it over, without the
// HTTP parser in the way, so the fuzzer reaches Verify with any bytes.
// Empty header arguments leave the header out.
func fuzzRequest(authz, amzDate, token, contentSHA, path, query string, body []byte) *http.Request {
	uri := path
	if query != "" {
		uri += "?" + query
	}
	r := &http.Request{
		Method:     http.MethodPost,
		URL:        &url.URL{Path: path, RawQuery: query},
		RequestURI: uri,
		Host:       "127.0.0.1:8080",
		Header: http.Header{
			"Content-Type":   {jsonType},
			"X-Amz-Target":   {ecrTarget},
			"Content-Length": {strconv.Itoa(len(body))},
		},
	}
	for name, value := range map[string]string{
		"Authorization": authz, "X-Amz-Date": amzDate, "X-Amz-Security-Token": token, "X-Amz-Content-Sha256": contentSHA,
	} {
		if value != "" {
			r.Header[name] = []string{value}
		}
	}
	return r
}
