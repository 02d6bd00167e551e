package awsjson_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/api/awsjson"
)

// TestService_Protocol covers what happens before an operation runs:
// method, content type, target and body framing.
func TestService_Protocol(t *testing.T) {
	s, _ := newService(t)
	srv := httptest.NewServer(s)
	defer srv.Close()
	const ct = awsjson.ContentType
	tests := []struct {
		name, method, contentType, target, body string
		status                                  int
		errType, msgPart                        string
	}{
		{"GetMethod", http.MethodGet, ct, prefix + "CreateRepository", "", 405,
			"UnknownOperationException", "HTTP method GET is not supported"},
		{"WrongContentType", http.MethodPost, "application/json", prefix + "CreateRepository", `{}`, 400,
			"UnknownOperationException", `Content-Type "application/json" is not supported; AWS JSON 1.1 requests must be sent as application/x-amz-json-1.1`},
		{"MissingContentType", http.MethodPost, "", prefix + "CreateRepository", `{}`, 400,
			"UnknownOperationException", "Content-Type is missing"},
		{"MissingTarget", http.MethodPost, ct, "", `{}`, 400,
			"UnknownOperationException", "X-Amz-Target is missing; it must name an operation as AmazonEC2ContainerRegistry_V20150921.<Operation>"},
		{"WrongPrefix", http.MethodPost, ct, "SpencerFrontendService.CreateRepository", `{}`, 400,
			"UnknownOperationException", `X-Amz-Target "SpencerFrontendService.CreateRepository" is not a valid operation`},
		{"UnknownOperation", http.MethodPost, ct, prefix + "MakeCoffee", `{}`, 400,
			"UnknownOperationException", `X-Amz-Target "AmazonEC2ContainerRegistry_V20150921.MakeCoffee" is not a valid operation`},
		{"PrefixOnly", http.MethodPost, ct, prefix, `{}`, 400,
			"UnknownOperationException", "is not a valid operation"},
		{"Unimplemented", http.MethodPost, ct, prefix + "DeleteRepository", `{}`, 400,
			"UnsupportedCommandException", "DeleteRepository is not implemented"},
		{"EmptyBody", http.MethodPost, ct, prefix + "CreateRepository", "", 400,
			"SerializationException", "Request body is empty"},
		{"WhitespaceBody", http.MethodPost, ct, prefix + "CreateRepository", " \n", 400,
			"SerializationException", "Request body is empty"},
		{"MalformedJSON", http.MethodPost, ct, prefix + "CreateRepository", `{"repositoryName":`, 400,
			"SerializationException", "Request body is not valid JSON: unexpected end of JSON input"},
		{"TrailingGarbage", http.MethodPost, ct, prefix + "CreateRepository", `{"repositoryName":"ab"} x`, 400,
			"SerializationException", "Request body is not valid JSON: invalid character 'x' after top-level value"},
		{"TwoObjects", http.MethodPost, ct, prefix + "CreateRepository", `{}{}`, 400,
			"SerializationException", "Request body is not valid JSON"},
		{"Array", http.MethodPost, ct, prefix + "CreateRepository", `[]`, 400,
			"SerializationException", "Request body must be a JSON object, not an array"},
		{"String", http.MethodPost, ct, prefix + "CreateRepository", `"x"`, 400,
			"SerializationException", "Request body must be a JSON object, not a string"},
		{"Null", http.MethodPost, ct, prefix + "CreateRepository", `null`, 400,
			"SerializationException", "Request body must be a JSON object, not null"},
		{"NumberOutOfRange", http.MethodPost, ct, prefix + "CreateRepository", `{"repositoryName":"ab","x":1e400}`, 400,
			"SerializationException", "Request body holds a value out of range: number 1e400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := do(t, newRequest(t, tt.method, srv.URL, tt.contentType, tt.target, body))
			checkError(t, r, tt.status, tt.errType, tt.msgPart)
		})
	}
}

func checkError(t *testing.T, r response, status int, errType, msgPart string) {
	t.Helper()
	if r.status != status || r.body["__type"] != errType {
		t.Fatalf("got %d %s, want %d %s", r.status, r.raw, status, errType)
	}
	if msg, _ := r.body["message"].(string); !strings.Contains(msg, msgPart) {
		t.Fatalf("message %q does not contain %q", msg, msgPart)
	}
}

func TestService_ContentTypeParametersAllowed(t *testing.T) {
	s, _ := newService(t)
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, ct := range []string{"application/x-amz-json-1.1; charset=utf-8", "Application/X-Amz-Json-1.1"} {
		r := do(t, newRequest(t, http.MethodPost, srv.URL, ct, prefix+"CreateRepository", strings.NewReader(`{"repositoryName":"ab"}`)))
		if r.status != 200 {
			t.Errorf("Content-Type %q: %d %s", ct, r.status, r.raw)
		}
	}
}

func TestService_BodyLimit(t *testing.T) {
	s, _ := newService(t)
	s.MaxBody = 1024
	srv := httptest.NewServer(s)
	defer srv.Close()
	big := `{"repositoryName":"ab","padding":"` + strings.Repeat("x", 2048) + `"}`
	t.Run("DeclaredLength", func(t *testing.T) {
		r := post(t, srv.URL, "CreateRepository", big)
		checkError(t, r, 413, "RequestEntityTooLargeException", "larger than the limit of 1024 bytes")
	})
	t.Run("Chunked", func(t *testing.T) {
		// A reader of unknown length makes the client send it chunked, so
		// the limit is found while reading, not from Content-Length.
		req := newRequest(t, http.MethodPost, srv.URL, awsjson.ContentType, prefix+"CreateRepository",
			io.MultiReader(strings.NewReader(big)))
		r := do(t, req)
		checkError(t, r, 413, "RequestEntityTooLargeException", "larger than the limit of 1024 bytes")
	})
	t.Run("AtLimit", func(t *testing.T) {
		body := `{"repositoryName":"ab","padding":"` + strings.Repeat("x", 1024-len(`{"repositoryName":"ab","padding":""}`)) + `"}`
		if r := post(t, srv.URL, "CreateRepository", body); r.status != 200 {
			t.Fatalf("%d-byte body: %d %s", len(body), r.status, r.raw)
		}
	})
}

func TestService_DefaultsWithoutHooks(t *testing.T) {
	m := loadECRModel(t)
	srv := httptest.NewServer(&awsjson.Service{
		Model: m,
		Ops:   map[string]awsjson.Handler{"CreateRepository": awsjson.Op(createRepository)},
	})
	defer srv.Close()
	t.Run("Unimplemented", func(t *testing.T) {
		r := post(t, srv.URL, "DeleteRepository", `{}`)
		checkError(t, r, 400, "UnknownOperationException", "Operation DeleteRepository is not supported by this server")
	})
	t.Run("Panic", func(t *testing.T) {
		r := post(t, srv.URL, "CreateRepository", `{"repositoryName":"panics"}`)
		checkError(t, r, 500, "ServerException", "request ID "+r.header.Get("x-amzn-RequestId"))
		if strings.Contains(string(r.raw), "secret") {
			t.Fatalf("panic detail leaked: %s", r.raw)
		}
	})
	t.Run("UnmappedError", func(t *testing.T) {
		r := post(t, srv.URL, "CreateRepository", `{"repositoryName":"exists"}`)
		checkError(t, r, 500, "ServerException", "An internal error occurred")
	})
}
