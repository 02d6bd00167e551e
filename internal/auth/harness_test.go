package auth_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ecrd/ecrd/internal/auth"
)

// The fixture keys. Lookup knows the first two; unknownKey it does not.
const (
	testRegion  = "us-east-1"
	testService = "ecr"

	longKey    = "AKIDEXAMPLE000000001"
	longSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

	tempKey      = "ASIAEXAMPLE000000002"
	tempSecret   = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
	sessionToken = "FwoGZXIvYXdzEBYaDExampleSessionToken+/=="

	unknownKey = "AKIDUNKNOWN000000009"

	ecrTarget   = "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"
	jsonType    = "application/x-amz-json-1.1"
	defaultBody = `{"repositoryNames":["team/app"]}`
)

// signTime is the fixed signing time; verifiers use it as "now" unless a
// case is about skew.
func signTime() time.Time { return time.Date(2017, 1, 11, 22, 54, 49, 0, time.UTC) }

func lookup(id string) (auth.Credential, bool) {
	switch id {
	case longKey:
		return auth.Credential{AccessKeyID: longKey, SecretAccessKey: longSecret, AccountID: "123456789012"}, true
	case tempKey:
		return auth.Credential{AccessKeyID: tempKey, SecretAccessKey: tempSecret, SessionToken: sessionToken,
			AccountID: "210987654321", ReadOnly: true}, true
	}
	return auth.Credential{}, false
}

func newVerifier(now time.Time) *auth.Verifier {
	return &auth.Verifier{Region: testRegion, Service: testService, Lookup: lookup,
		Now: func() time.Time { return now }}
}

func longCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: longKey, SecretAccessKey: longSecret}
}

func tempCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: tempKey, SecretAccessKey: tempSecret, SessionToken: sessionToken}
}

// outcome is what the test server reports about one request.
type outcome struct {
	OK          bool
	AccessKeyID string // the credential on success, the Error's otherwise
	ReadOnly    bool
	Type        string
	Status      int
	Message     string
	Reason      string
	// Precheck's refusal of the same request: "" when it passed.
	PreType, PreMessage, PreAccessKeyID string
}

// startServer serves v through net/http, so requests reach Verify as a
// real server parses them: decoded URL, Host moved out of the header map.
func startServer(t *testing.T, v *auth.Verifier) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Precheck first, as the API does: before the body is read.
		preErr := v.Precheck(r)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var out outcome
		cred, err := v.Verify(r, body)
		var ae *auth.Error
		switch {
		case err == nil:
			out = outcome{OK: true, AccessKeyID: cred.AccessKeyID, ReadOnly: cred.ReadOnly}
		case errors.As(err, &ae):
			out = outcome{AccessKeyID: ae.AccessKeyID, Type: ae.Type, Status: ae.Status, Message: ae.Message, Reason: ae.Reason}
		default:
			out = outcome{Type: "not an *auth.Error: " + err.Error()}
		}
		switch {
		case preErr == nil:
		case errors.As(preErr, &ae):
			out.PreType, out.PreMessage, out.PreAccessKeyID = ae.Type, ae.Message, ae.AccessKeyID
		default:
			out.PreType = "not an *auth.Error: " + preErr.Error()
		}
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// send performs r and decodes the server's report.
func send(t *testing.T, r *http.Request) outcome {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	var out outcome
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decoding the server's report (HTTP %d): %v", resp.StatusCode, err)
	}
	return out
}

// newECRRequest is what an SDK sends to ECR: POST / with the JSON body, the
// content type and the operation in X-Amz-Target.
func newECRRequest(t *testing.T, base, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", jsonType)
	r.Header.Set("X-Amz-Target", ecrTarget)
	return r
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// sign signs r with aws-sdk-go-v2's signer, the oracle: payload hash = hex
// SHA-256 of body.
func sign(t *testing.T, r *http.Request, body string, creds aws.Credentials, region, service string, at time.Time) {
	t.Helper()
	signWithHash(t, r, hashHex([]byte(body)), creds, region, service, at)
}

func signWithHash(t *testing.T, r *http.Request, payloadHash string, creds aws.Credentials, region, service string, at time.Time) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, payloadHash, service, region, at); err != nil {
		t.Fatalf("signing: %v", err)
	}
}

// setBody replaces r's body after signing.
func setBody(r *http.Request, body string) {
	r.Body = io.NopCloser(bytes.NewReader([]byte(body)))
	r.ContentLength = int64(len(body))
}

func checkOK(t *testing.T, got outcome, wantKey string) {
	t.Helper()
	if !got.OK {
		t.Fatalf("refused: %s %d %q (reason: %s)", got.Type, got.Status, got.Message, got.Reason)
	}
	if got.PreType != "" {
		t.Errorf("Verify accepted what Precheck refused: %s %q", got.PreType, got.PreMessage)
	}
	if got.AccessKeyID != wantKey {
		t.Errorf("credential %q, want %q", got.AccessKeyID, wantKey)
	}
}

// handSign signs a canonical request by the published algorithm, for the
// few cases no SDK can produce. It returns the Authorization header.
func handSign(canonical, signedHeaders, key, secret string, at time.Time) string {
	date := at.UTC().Format("20060102")
	scope := date + "/" + testRegion + "/" + testService + "/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + at.UTC().Format("20060102T150405Z") + "\n" + scope + "\n" + hashHex([]byte(canonical))
	k := []byte("AWS4" + secret)
	for _, part := range []string{date, testRegion, testService, "aws4_request", sts} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(part))
		k = m.Sum(nil)
	}
	return "AWS4-HMAC-SHA256 Credential=" + key + "/" + scope + ", SignedHeaders=" + signedHeaders + ", Signature=" + hex.EncodeToString(k)
}
