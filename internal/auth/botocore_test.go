package auth_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// botocoreSigner signs each case with botocore's SigV4Auth at a fixed time
// and prints the headers it produced. The aws CLI and boto3 sign this way.
const botocoreSigner = `
import datetime, json, sys
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.load(sys.stdin)
fixed = datetime.datetime.strptime(spec["time"], "%Y%m%dT%H%M%SZ")
botocore.auth.get_current_datetime = lambda *args, **kwargs: fixed
out = []
for c in spec["cases"]:
    req = AWSRequest(method=c["method"], url=c["url"], data=c["body"].encode(), headers=c["headers"])
    SigV4Auth(Credentials(c["key"], c["secret"], c["token"] or None), spec["service"], spec["region"]).add_auth(req)
    out.append(dict(req.headers.items()))
json.dump(out, sys.stdout)
`

// TestVerifyAcceptsBotocoreSignedRequests replays requests signed by
// botocore through a real server. botocore differs from aws-sdk-go-v2 where
// it matters: it normalizes the path, takes the query as written and
// signs no content-length.
func TestVerifyAcceptsBotocoreSignedRequests(t *testing.T) {
	if err := exec.Command("python3", "-c", "import botocore").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 with botocore is required in CI: %v", err)
		}
		t.Skipf("python3 with botocore not available: %v", err)
	}
	srv := startServer(t, newVerifier(signTime()))

	type botoCase struct {
		Name    string            `json:"-"`
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Body    string            `json:"body"`
		Headers map[string]string `json:"headers"`
		Key     string            `json:"key"`
		Secret  string            `json:"secret"`
		Token   string            `json:"token"`
	}
	ecr := func(name, path string, extra map[string]string) botoCase {
		h := map[string]string{"Content-Type": jsonType, "X-Amz-Target": ecrTarget}
		for k, v := range extra {
			h[k] = v
		}
		return botoCase{Name: name, Method: http.MethodPost, URL: srv.URL + path, Body: defaultBody, Headers: h,
			Key: longKey, Secret: longSecret}
	}
	withToken := ecr("SessionToken", "/", nil)
	withToken.Key, withToken.Secret, withToken.Token = tempKey, tempSecret, sessionToken
	cases := []botoCase{
		ecr("PlainECRRequest", "/", nil),
		withToken,
		ecr("PathNormalized", "/a//b/./c/../d", nil),
		ecr("PathEncoded", "/a%2Fb%20c/~x", nil),
		ecr("QueryAsWritten", "/?b=2&a=1&c=%20x&d=", nil),
		ecr("HeaderSpaces", "/", map[string]string{"X-Custom": "  a   b    c "}),
		ecr("ContentSha256", "/", map[string]string{"X-Amz-Content-SHA256": hashHex([]byte(defaultBody))}),
	}

	spec, err := json.Marshal(map[string]any{
		"time": signTime().Format("20060102T150405Z"), "region": testRegion, "service": testService, "cases": cases,
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "-c", botocoreSigner)
	cmd.Stdin = bytes.NewReader(spec)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("botocore signer: %v\n%s", err, stderr.String())
	}
	var signed []map[string]string
	if err := json.Unmarshal(out, &signed); err != nil || len(signed) != len(cases) {
		t.Fatalf("botocore signer output %q: %v", out, err)
	}

	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			r, err := http.NewRequest(c.Method, c.URL, strings.NewReader(c.Body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range signed[i] {
				r.Header.Set(k, v)
			}
			if !strings.Contains(r.Header.Get("Authorization"), "x-amz-target") {
				t.Fatalf("botocore did not sign x-amz-target: %q", r.Header.Get("Authorization"))
			}
			checkOK(t, send(t, r), c.Key)
		})
	}
}
