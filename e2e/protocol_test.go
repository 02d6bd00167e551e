package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestProtocol checks the wire of the real server with plain HTTP: what an
// SDK never sends, but a hand-rolled client or a proxy might.
func TestProtocol(t *testing.T) {
	s := startServer(t, "")
	const target = "AmazonEC2ContainerRegistry_V20150921."
	cases := []struct {
		name, method, path, contentType, target, body string
		status                                        int
		errType, msg                                  string
	}{
		{"UnknownTarget", "POST", "/", "application/x-amz-json-1.1", target + "FlyToTheMoon", "{}", 400, "UnknownOperationException", "FlyToTheMoon"},
		{"OtherService", "POST", "/", "application/x-amz-json-1.1", "DynamoDB_20120810.ListTables", "{}", 400, "UnknownOperationException", "DynamoDB_20120810.ListTables"},
		{"WrongContentType", "POST", "/", "application/json", target + "DescribeRepositories", "{}", 400, "UnknownOperationException", "application/x-amz-json-1.1"},
		{"MalformedJSON", "POST", "/", "application/x-amz-json-1.1", target + "DescribeRepositories", `{"repositoryNames":`, 400, "SerializationException", "not valid JSON"},
		{"NotAnObject", "POST", "/", "application/x-amz-json-1.1", target + "DescribeRepositories", `["a"]`, 400, "SerializationException", "JSON object"},
		{"WrongType", "POST", "/", "application/x-amz-json-1.1", target + "DescribeRepositories", `{"maxResults":"ten"}`, 400, "SerializationException", "maxResults"},
		{"Constraint", "POST", "/", "application/x-amz-json-1.1", target + "DescribeRepositories", `{"maxResults":1001}`, 400, "InvalidParameterException", "Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be less than or equal to 1000'"},
		{"Required", "POST", "/", "application/x-amz-json-1.1", target + "CreateRepository", `{}`, 400, "InvalidParameterException", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'"},
		{"Enum", "POST", "/", "application/x-amz-json-1.1", target + "CreateRepository", `{"repositoryName":"a/b","imageTagMutability":"SOMETIMES"}`, 400, "InvalidParameterException", "must satisfy enum value set"},
		{"Oversized", "POST", "/", "application/x-amz-json-1.1", target + "DescribeRepositories", `{"x":"` + strings.Repeat("a", 33<<20) + `"}`, 413, "RequestEntityTooLargeException", "limit"},
		{"GetRoot", "GET", "/", "", "", "", 405, "UnknownOperationException", "POST"},
		{"Success", "POST", "/", "application/x-amz-json-1.1", target + "DescribeRepositories", "{}", 200, "", ""},
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, s.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.target != "" {
				req.Header.Set("X-Amz-Target", tc.target)
			}
			signRequest(t, req, []byte(tc.body), testCreds, "us-east-1", time.Now())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type %q", ct)
			}
			if id := resp.Header.Get("x-amzn-RequestId"); !uuid.MatchString(id) {
				t.Errorf("x-amzn-RequestId %q", id)
			}
			if resp.Header.Get("Date") == "" {
				t.Error("no Date header (SDKs correct clock skew from it)")
			}
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %q is not JSON: %v", body, err)
			}
			if e.Type != tc.errType || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("got %s %q, want %s containing %q", e.Type, e.Message, tc.errType, tc.msg)
			}
			if tc.errType != "" && resp.Header.Get("x-amzn-ErrorType") != tc.errType {
				t.Errorf("x-amzn-ErrorType %q", resp.Header.Get("x-amzn-ErrorType"))
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	s := startServer(t, "")
	resp, err := http.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %d", resp.StatusCode)
	}
}
