package auth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	incomplete   = "IncompleteSignatureException"
	invalid      = "InvalidSignatureException"
	unrecognized = "UnrecognizedClientException"
	missingToken = "MissingAuthenticationTokenException"

	mismatchMsg = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	badTokenMsg = "The security token included in the request is invalid."
)

// TestVerifyRefuses alters SDK-signed requests (or the verifier's view of
// the world) and checks the exact answer.
func TestVerifyRefuses(t *testing.T) {
	// signed returns an SDK-signed ECR request; edit runs before signing.
	signed := func(t *testing.T, base string, creds aws.Credentials, region, service string, at time.Time, edit func(*http.Request)) *http.Request {
		r := newECRRequest(t, base, defaultBody)
		if edit != nil {
			edit(r)
		}
		sign(t, r, defaultBody, creds, region, service, at)
		setBody(r, defaultBody)
		return r
	}
	std := func(t *testing.T, base string) *http.Request {
		return signed(t, base, longCreds(), testRegion, testService, signTime(), nil)
	}
	// after signs a standard request, then applies change.
	after := func(change func(*http.Request)) func(*testing.T, string) *http.Request {
		return func(t *testing.T, base string) *http.Request {
			r := std(t, base)
			change(r)
			return r
		}
	}
	// editAuth rewrites the Authorization header after signing.
	editAuth := func(old, new string) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
		}
	}

	tests := []struct {
		name    string
		now     time.Duration // verifier clock relative to signTime
		build   func(t *testing.T, base string) *http.Request
		typ     string
		msg     string // exact message, when the case is about it
		wantKey string // AccessKeyID in the error; "-" for none
	}{
		{name: "WrongSecret", build: func(t *testing.T, base string) *http.Request {
			return signed(t, base, aws.Credentials{AccessKeyID: longKey, SecretAccessKey: "not-the-secret"}, testRegion, testService, signTime(), nil)
		}, typ: invalid, msg: mismatchMsg, wantKey: longKey},
		{name: "UnknownKey", build: func(t *testing.T, base string) *http.Request {
			return signed(t, base, aws.Credentials{AccessKeyID: unknownKey, SecretAccessKey: longSecret}, testRegion, testService, signTime(), nil)
		}, typ: unrecognized, msg: badTokenMsg, wantKey: unknownKey},
		{name: "BodyTampered", build: after(func(r *http.Request) {
			setBody(r, strings.Replace(defaultBody, "team/app", "team/xyz", 1))
		}), typ: invalid, msg: mismatchMsg, wantKey: longKey},
		{name: "TargetChangedAfterSigning", build: after(func(r *http.Request) {
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository")
		}), typ: invalid, msg: mismatchMsg, wantKey: longKey},
		{name: "PathChangedAfterSigning", build: after(func(r *http.Request) { r.URL.Path = "/other" }), typ: invalid, msg: mismatchMsg, wantKey: longKey},
		{name: "QueryAddedAfterSigning", build: after(func(r *http.Request) { r.URL.RawQuery = "a=1" }), typ: invalid, msg: mismatchMsg, wantKey: longKey},
		{name: "MethodChangedAfterSigning", build: after(func(r *http.Request) { r.Method = http.MethodPut }), typ: invalid, msg: mismatchMsg, wantKey: longKey},
		{name: "HostChangedAfterSigning", build: after(func(r *http.Request) { r.Host = "registry.example.com" }), typ: invalid, msg: mismatchMsg, wantKey: longKey},
		{name: "SignedHeaderDropped", build: func(t *testing.T, base string) *http.Request {
			r := signed(t, base, longCreds(), testRegion, testService, signTime(), func(r *http.Request) { r.Header.Set("X-Extra", "1") })
			r.Header.Del("X-Extra")
			return r
		}, typ: invalid, msg: "Header 'x-extra' is listed in SignedHeaders but is absent from the request, so the signature cannot match.", wantKey: longKey},
		{name: "HostNotSigned", build: after(editAuth("host;", "")), typ: incomplete,
			msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.", wantKey: longKey},
		{name: "TargetNotSigned", build: func(t *testing.T, base string) *http.Request {
			r := signed(t, base, longCreds(), testRegion, testService, signTime(), func(r *http.Request) { r.Header.Del("X-Amz-Target") })
			r.Header.Set("X-Amz-Target", ecrTarget)
			return r
		}, typ: incomplete, msg: "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.", wantKey: longKey},
		{name: "AmzDateNotSigned", build: after(editAuth(";x-amz-date", "")), typ: incomplete,
			msg: "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.", wantKey: longKey},
		{name: "MissingAuthorization", build: after(func(r *http.Request) { r.Header.Del("Authorization") }),
			typ: missingToken, msg: "Missing Authentication Token", wantKey: "-"},
		{name: "BlankAuthorization", build: after(func(r *http.Request) { r.Header.Set("Authorization", "  ") }),
			typ: missingToken, msg: "Missing Authentication Token", wantKey: "-"},
		{name: "TwoAuthorizationHeaders", build: after(func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }),
			typ: incomplete, wantKey: "-"},
		{name: "NoDate", build: after(func(r *http.Request) { r.Header.Del("X-Amz-Date") }), typ: incomplete,
			msg: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", wantKey: longKey},
		{name: "MalformedAmzDate", build: after(func(r *http.Request) { r.Header.Set("X-Amz-Date", "2017-01-11T22:54:49Z") }), typ: incomplete,
			msg: "Date must be in ISO-8601 'basic format'. Got '2017-01-11T22:54:49Z'. See http://en.wikipedia.org/wiki/ISO_8601", wantKey: longKey},
		{name: "ClockBehind20Min", now: 20 * time.Minute, build: std, typ: invalid,
			msg: "Signature expired: 20170111T225449Z is now earlier than 20170111T225949Z (20170111T231449Z - 15 min.)", wantKey: longKey},
		{name: "ClockBehindAsInECRReport", now: 15 * time.Minute, build: func(t *testing.T, base string) *http.Request {
			return signed(t, base, longCreds(), testRegion, testService, time.Date(2017, 1, 11, 20, 40, 52, 0, time.UTC), nil)
		}, typ: invalid, msg: "Signature expired: 20170111T204052Z is now earlier than 20170111T225449Z (20170111T230949Z - 15 min.)", wantKey: longKey},
		{name: "ClockBehindOneSecondOutsideWindow", now: 15*time.Minute + time.Second, build: std, typ: invalid, wantKey: longKey},
		{name: "ClockAhead20Min", now: -20 * time.Minute, build: std, typ: invalid,
			msg: "Signature not yet current: 20170111T225449Z is still later than 20170111T224949Z (20170111T223449Z + 15 min.)", wantKey: longKey},
		{name: "WrongRegion", build: func(t *testing.T, base string) *http.Request {
			return signed(t, base, longCreds(), "eu-west-1", testService, signTime(), nil)
		}, typ: invalid, msg: "Credential should be scoped to a valid region, not 'eu-west-1'. This endpoint is in 'us-east-1'.", wantKey: longKey},
		{name: "WrongService", build: func(t *testing.T, base string) *http.Request {
			return signed(t, base, longCreds(), testRegion, "ecr-public", signTime(), nil)
		}, typ: invalid, msg: "Credential should be scoped to correct service: 'ecr'. ", wantKey: longKey},
		{name: "ScopeDateIsNotRequestDate", build: after(func(r *http.Request) {
			r.Header.Set("X-Amz-Date", signTime().Add(2*time.Hour).Format("20060102T150405Z"))
		}), typ: invalid, msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: " +
			"'20170111' != '20170112', from '20170112T005449Z'.", wantKey: longKey},
		{name: "SessionTokenMissing", build: func(t *testing.T, base string) *http.Request {
			return signed(t, base, aws.Credentials{AccessKeyID: tempKey, SecretAccessKey: tempSecret}, testRegion, testService, signTime(), nil)
		}, typ: unrecognized, msg: badTokenMsg, wantKey: tempKey},
		{name: "SessionTokenWrong", build: func(t *testing.T, base string) *http.Request {
			c := tempCreds()
			c.SessionToken = sessionToken + "x"
			return signed(t, base, c, testRegion, testService, signTime(), nil)
		}, typ: unrecognized, msg: badTokenMsg, wantKey: tempKey},
		{name: "SessionTokenNotSigned", build: func(t *testing.T, base string) *http.Request {
			r := signed(t, base, aws.Credentials{AccessKeyID: tempKey, SecretAccessKey: tempSecret}, testRegion, testService, signTime(), nil)
			r.Header.Set("X-Amz-Security-Token", sessionToken)
			return r
		}, typ: unrecognized, msg: badTokenMsg, wantKey: tempKey},
		{name: "SessionTokenUnexpected", build: func(t *testing.T, base string) *http.Request {
			c := longCreds()
			c.SessionToken = sessionToken
			return signed(t, base, c, testRegion, testService, signTime(), nil)
		}, typ: unrecognized, msg: badTokenMsg, wantKey: longKey},
		{name: "ContentSha256NotTheBody", build: func(t *testing.T, base string) *http.Request {
			r := newECRRequest(t, base, defaultBody)
			other := hashHex([]byte("another body"))
			r.Header.Set("X-Amz-Content-Sha256", other)
			signWithHash(t, r, other, longCreds(), testRegion, testService, signTime())
			setBody(r, defaultBody)
			return r
		}, typ: invalid, msg: "The provided 'x-amz-content-sha256' header does not match what was computed.", wantKey: longKey},
		{name: "ContentSha256UpperCase", build: func(t *testing.T, base string) *http.Request {
			r := newECRRequest(t, base, defaultBody)
			r.Header.Set("X-Amz-Content-Sha256", strings.ToUpper(hashHex([]byte(defaultBody))))
			sign(t, r, defaultBody, longCreds(), testRegion, testService, signTime())
			setBody(r, defaultBody)
			return r
		}, typ: invalid, msg: "The x-amz-content-sha256 header must be the lower-case hex SHA-256 of the request body.", wantKey: longKey},
		{name: "UnsignedPayload", build: func(t *testing.T, base string) *http.Request {
			r := newECRRequest(t, base, defaultBody)
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			signWithHash(t, r, "UNSIGNED-PAYLOAD", longCreds(), testRegion, testService, signTime())
			setBody(r, defaultBody)
			return r
		}, typ: invalid, msg: "x-amz-content-sha256 'UNSIGNED-PAYLOAD' is not supported by this API; sign the payload: " +
			"send the hex SHA-256 of the request body, or omit the header.", wantKey: longKey},
		{name: "StreamingPayload", build: func(t *testing.T, base string) *http.Request {
			r := newECRRequest(t, base, defaultBody)
			r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
			signWithHash(t, r, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", longCreds(), testRegion, testService, signTime())
			setBody(r, defaultBody)
			return r
		}, typ: invalid, wantKey: longKey},
		{name: "PresignedURL", build: func(t *testing.T, base string) *http.Request {
			r := newECRRequest(t, base, defaultBody)
			u, _, err := v4.NewSigner().PresignHTTP(context.Background(), longCreds(), r, hashHex([]byte(defaultBody)), testService, testRegion, signTime())
			if err != nil {
				t.Fatal(err)
			}
			r, _ = http.NewRequest(http.MethodPost, u, strings.NewReader(defaultBody))
			return r
		}, typ: incomplete, msg: "Query-string authentication (presigned URLs, X-Amz-Signature) is not supported by this API. " +
			"Sign the request with an Authorization header.", wantKey: "-"},
		{name: "MalformedQueryEscape", build: after(func(r *http.Request) { r.URL.RawQuery = "a=%zz" }), typ: invalid,
			msg: "The query string is not valid percent-encoding, so it cannot be canonicalized.", wantKey: longKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, newVerifier(signTime().Add(tc.now)))
			got := send(t, tc.build(t, srv.URL))
			checkRefusal(t, got, tc.typ, tc.msg, tc.wantKey)
			checkPrecheck(t, got, bodyPhase[tc.name])
		})
	}
}

// bodyPhase names the refusals of TestVerifyRefuses that need the body:
// the signature covers it, and so does the claimed payload hash. Precheck
// must pass these and refuse every other case exactly as Verify does.
var bodyPhase = map[string]bool{
	"WrongSecret":               true,
	"BodyTampered":              true,
	"TargetChangedAfterSigning": true,
	"PathChangedAfterSigning":   true,
	"QueryAddedAfterSigning":    true,
	"MethodChangedAfterSigning": true,
	"HostChangedAfterSigning":   true,
	"ContentSha256NotTheBody":   true,
}

// checkPrecheck checks that Precheck, run before the body was read, gave
// Verify's answer, or passed when the refusal needs the body.
func checkPrecheck(t *testing.T, got outcome, needsBody bool) {
	t.Helper()
	if needsBody {
		if got.PreType != "" {
			t.Errorf("Precheck refused %s %q; the refusal needs the body, so only Verify may give it", got.PreType, got.PreMessage)
		}
		return
	}
	if got.PreType != got.Type || got.PreMessage != got.Message || got.PreAccessKeyID != got.AccessKeyID {
		t.Errorf("Precheck answered %s %q (key %q), Verify %s %q (key %q)",
			got.PreType, got.PreMessage, got.PreAccessKeyID, got.Type, got.Message, got.AccessKeyID)
	}
}

// checkRefusal checks type, status, message (when given) and the key named
// for the log ("-" for none).
func checkRefusal(t *testing.T, got outcome, typ, msg, wantKey string) {
	t.Helper()
	if got.OK {
		t.Fatalf("accepted, want %s", typ)
	}
	if got.Type != typ || got.Status != http.StatusBadRequest {
		t.Errorf("got %s %d, want %s 400 (message %q, reason %q)", got.Type, got.Status, typ, got.Message, got.Reason)
	}
	if msg != "" && got.Message != msg {
		t.Errorf("message\n got %q\nwant %q", got.Message, msg)
	}
	if wantKey == "-" {
		wantKey = ""
	}
	if got.AccessKeyID != wantKey {
		t.Errorf("AccessKeyID %q, want %q", got.AccessKeyID, wantKey)
	}
	if got.Reason == "" {
		t.Error("no Reason for the log")
	}
	for _, secret := range []string{longSecret, tempSecret, sessionToken} {
		if strings.Contains(got.Reason, secret) || strings.Contains(got.Message, secret) {
			t.Errorf("a secret leaked: reason %q, message %q", got.Reason, got.Message)
		}
	}
}
