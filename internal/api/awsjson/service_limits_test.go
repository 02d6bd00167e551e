package awsjson_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/api/awsjson"
)

// TestService_BodyLimits checks that an operation named in BodyLimits gets
// its own cap, and every other target MaxBody, whether the body declares
// its length or is chunked.
func TestService_BodyLimits(t *testing.T) {
	s, _ := newService(t)
	s.MaxBody = 4096
	s.BodyLimits = map[string]int64{"DescribeRepositories": 64}
	srv := httptest.NewServer(s)
	defer srv.Close()

	big := `{"repositoryNames":["` + strings.Repeat("a", 100) + `"]}`
	tests := []struct {
		name, op, body string
		chunked        bool
		status         int
		errType, msg   string
	}{
		{name: "OverOperationLimit", op: "DescribeRepositories", body: big, status: 413,
			errType: "RequestEntityTooLargeException", msg: "Request body is larger than the limit of 64 bytes"},
		{name: "OverOperationLimitChunked", op: "DescribeRepositories", body: big, chunked: true, status: 413,
			errType: "RequestEntityTooLargeException", msg: "Request body is larger than the limit of 64 bytes"},
		{name: "UnderOperationLimit", op: "DescribeRepositories", body: `{}`, status: 200},
		{name: "OtherOperationUsesMaxBody", op: "CreateRepository",
			body: `{"repositoryName":"ab","tags":[{"Key":"k","Value":"` + strings.Repeat("v", 200) + `"}]}`, status: 200},
		{name: "OverMaxBody", op: "CreateRepository", body: `{"repositoryName":"` + strings.Repeat("a", 5000) + `"}`, status: 413,
			errType: "RequestEntityTooLargeException", msg: "limit of 4096 bytes"},
		{name: "UnknownTargetUsesMaxBody", op: "MakeCoffee", body: big, status: 400,
			errType: "UnknownOperationException", msg: "MakeCoffee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			r := do(t, newRequest(t, http.MethodPost, srv.URL, awsjson.ContentType, prefix+tt.op, body))
			if tt.status == 200 {
				if r.status != 200 {
					t.Fatalf("got %d %s", r.status, r.raw)
				}
				return
			}
			checkError(t, r, tt.status, tt.errType, tt.msg)
		})
	}
}

// countingBody records whether the service read the body at all.
type countingBody struct {
	io.Reader
	reads atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	b.reads.Add(1)
	return b.Reader.Read(p)
}

func (b *countingBody) Close() error { return nil }

// TestService_PrecheckOrder checks where Precheck stands: after the method
// and Content-Type checks, before the body is read (so before its size is
// looked at) and before the target is resolved; Authenticate still comes
// before UnknownOperationException.
func TestService_PrecheckOrder(t *testing.T) {
	refuse := &awsjson.WireError{Type: "MissingAuthenticationTokenException", Status: 400, Message: "Missing Authentication Token"}
	authFail := &awsjson.WireError{Type: "InvalidSignatureException", Status: 400, Message: "bad signature"}
	tests := []struct {
		name, method, contentType, target string
		contentLength                     int64
		precheck, authenticate            *awsjson.WireError
		status                            int
		errType                           string
		bodyRead                          bool
	}{
		{name: "PrecheckBeforeBody", method: "POST", contentType: awsjson.ContentType, target: prefix + "DescribeRepositories",
			precheck: refuse, status: 400, errType: refuse.Type},
		{name: "PrecheckBeforeSizeCheck", method: "POST", contentType: awsjson.ContentType, target: prefix + "DescribeRepositories",
			contentLength: 1 << 40, precheck: refuse, status: 400, errType: refuse.Type},
		{name: "PrecheckBeforeUnknownTarget", method: "POST", contentType: awsjson.ContentType, target: prefix + "MakeCoffee",
			precheck: refuse, status: 400, errType: refuse.Type},
		{name: "MethodBeforePrecheck", method: "GET", contentType: awsjson.ContentType, target: prefix + "DescribeRepositories",
			precheck: refuse, status: 405, errType: "UnknownOperationException"},
		{name: "ContentTypeBeforePrecheck", method: "POST", contentType: "application/json", target: prefix + "DescribeRepositories",
			precheck: refuse, status: 400, errType: "UnknownOperationException"},
		{name: "AuthenticateBeforeUnknownTarget", method: "POST", contentType: awsjson.ContentType, target: prefix + "MakeCoffee",
			authenticate: authFail, status: 400, errType: authFail.Type, bodyRead: true},
		{name: "PassedUnknownTarget", method: "POST", contentType: awsjson.ContentType, target: prefix + "MakeCoffee",
			status: 400, errType: "UnknownOperationException", bodyRead: true},
		{name: "Passed", method: "POST", contentType: awsjson.ContentType, target: prefix + "DescribeRepositories",
			status: 200, bodyRead: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newService(t)
			var prechecked, authenticated bool
			s.Precheck = func(*http.Request) *awsjson.WireError {
				prechecked = true
				return tt.precheck
			}
			s.Authenticate = func(r *http.Request, _ [32]byte) (context.Context, *awsjson.WireError) {
				authenticated = true
				if !prechecked {
					t.Error("Authenticate ran before Precheck")
				}
				return r.Context(), tt.authenticate
			}
			body := &countingBody{Reader: strings.NewReader(`{}`)}
			req := httptest.NewRequest(tt.method, "/", body)
			req.ContentLength = 2
			if tt.contentLength != 0 {
				req.ContentLength = tt.contentLength
			}
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("X-Amz-Target", tt.target)
			rec := httptest.NewRecorder() // no read deadlines: must not matter
			s.ServeHTTP(rec, req)

			var got struct {
				Type string `json:"__type"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("response %q: %v", rec.Body.Bytes(), err)
			}
			if rec.Code != tt.status || (tt.errType != "" && got.Type != tt.errType) {
				t.Errorf("got %d %s (%s), want %d %s", rec.Code, got.Type, rec.Body.Bytes(), tt.status, tt.errType)
			}
			if read := body.reads.Load() > 0; read != tt.bodyRead {
				t.Errorf("body read = %v, want %v", read, tt.bodyRead)
			}
			if tt.precheck != nil && authenticated {
				t.Error("Authenticate ran after Precheck refused")
			}
		})
	}
}

// TestService_BodyTimeout sends headers and one byte of a declared
// 32 MiB body: BodyTimeout must end the wait with a SerializationException.
func TestService_BodyTimeout(t *testing.T) {
	s, _ := newService(t)
	s.BodyTimeout = 200 * time.Millisecond
	srv := httptest.NewServer(s)
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nX-Amz-Target: %sDescribeRepositories\r\nContent-Length: %d\r\n\r\n{",
		awsjson.ContentType, prefix, 32<<20)
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer after %s: %v", time.Since(start), err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 400 || res.Header.Get("X-Amzn-Errortype") != "SerializationException" ||
		!strings.Contains(string(raw), "it must arrive within 200ms") {
		t.Errorf("got %d %s %s", res.StatusCode, res.Header.Get("X-Amzn-Errortype"), raw)
	}
}
