package e2e

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
)

// The tests here each reproduce one finding of an outside attack on ecrd
// (issue 12) through real clients; the fault-injection table
// (TestFaultInjection), the disk-full test, the kill -9 loop and
// TestMemoryBounded cover the rest.

// hidden is a body whose length the client does not know, so it is sent
// chunked, without Content-Length.
type hidden struct{ r io.Reader }

func (h hidden) Read(p []byte) (int, error) { return h.r.Read(p) }

// startV2Upload opens a /v2/ upload and returns its absolute URL.
func startV2Upload(t *testing.T, base, authorization, name string) string {
	t.Helper()
	resp, body := v2Do(t, http.MethodPost, base+"/v2/"+name+"/blobs/uploads/", authorization, "", nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST uploads: %d %s", resp.StatusCode, body)
	}
	loc, err := resolveLocation(base, resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// sendV2 sends a request whose body is chunked when hide is set.
func sendV2(t *testing.T, method, u, authorization string, body []byte, hide bool, header ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if hide {
		rd = hidden{rd}
	}
	req, err := http.NewRequestWithContext(ctx(t), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", authorization)
	req.Header.Set("Content-Type", "application/octet-stream")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestShortFinalChunkIsNotCreated: a chunked final PUT ?digest= whose body
// is shorter than its Content-Range was answered 201 with an empty
// Docker-Content-Digest for a blob that was never stored. It is the
// client's mistake: 416 with where the upload stands, nothing stored, and
// the upload can be finished properly afterwards.
func TestShortFinalChunkIsNotCreated(t *testing.T) {
	s := startServer(t, "")
	createRepos(t, s.client(), "short/final")
	authz := privateBasic(t, s.client())
	data := layerBytes(100, 31)
	loc := startV2Upload(t, s.URL, authz, "short/final")
	resp, body := sendV2(t, http.MethodPut, withDigest(loc, digestOf(data)), authz, data[:50], true, "Content-Range", "0-99")
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("short final PUT: %d %s (Docker-Content-Digest %q), want 416", resp.StatusCode, body, resp.Header.Get("Docker-Content-Digest"))
	}
	if got := resp.Header.Get("Range"); got != "0-0" {
		t.Errorf("Range %q after a refused first chunk, want 0-0 (nothing held)", got)
	}
	if r, _ := v2Do(t, http.MethodHead, s.URL+"/v2/short/final/blobs/"+digestOf(data), authz, "", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD of the blob after the refused PUT: %d, want 404", r.StatusCode)
	}
	resp, body = sendV2(t, http.MethodPut, withDigest(loc, digestOf(data)), authz, data, false, "Content-Range", "0-99")
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Docker-Content-Digest") != digestOf(data) {
		t.Fatalf("finishing properly: %d %s", resp.StatusCode, body)
	}
}

// TestReadOnlyCannotCancelUploads: a read-only key's token could cancel
// the owner's upload (DELETE …/blobs/uploads/<id> answered 204), on both
// listeners. It is a write: 403 DENIED, and the upload goes on.
func TestReadOnlyCannotCancelUploads(t *testing.T) {
	s := startServer(t, "", withCredentials(t))
	owner, reader := s.clientAs("AKIDA", "secretA", "us-east-1"), s.clientAs("AKIDREAD", "secretR", "us-east-1")
	createRepos(t, owner, "keep/going")
	pub := s.publicClientAs("AKIDA", "secretA", "us-east-1")
	if _, err := pub.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("keep/going")}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		name, base, name2 string
		owner, reader     string
	}{
		{"Private", s.URL, "keep/going", privateBasic(t, owner), privateBasic(t, reader)},
		{"Public", publicURL(t, s), "ecrd-" + accountA + "/keep/going",
			publicBasic(t, pub), publicBasic(t, s.publicClientAs("AKIDREAD", "secretR", "us-east-1"))},
	} {
		t.Run(l.name, func(t *testing.T) {
			loc := startV2Upload(t, l.base, l.owner, l.name2)
			resp, body := v2Do(t, http.MethodDelete, loc, l.reader, "", nil)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "DENIED") {
				t.Fatalf("read-only DELETE of the owner's upload: %d %s, want 403 DENIED", resp.StatusCode, body)
			}
			if resp, body := v2Do(t, http.MethodGet, loc, l.owner, "", nil); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("the owner's upload after the refused cancel: %d %s, want 204", resp.StatusCode, body)
			}
			if resp, _ := v2Do(t, http.MethodDelete, loc, l.owner, "", nil); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("the owner cancelling: %d, want 204", resp.StatusCode)
			}
		})
	}
}

// TestClientFaultsAreNotServerErrors: a chunked PATCH shorter than its
// Content-Range was answered 500 with an ERROR log line, and every client
// that went away mid-body logged ERROR "unexpected EOF". Both are the
// client's doing: a 4xx (or nothing, for a client gone), and no ERROR.
func TestClientFaultsAreNotServerErrors(t *testing.T) {
	logs := &logBuffer{}
	s := startServerLogging(t, "", slog.New(slog.NewTextHandler(logs, nil)))
	createRepos(t, s.client(), "client/faults")
	authz := privateBasic(t, s.client())
	loc := startV2Upload(t, s.URL, authz, "client/faults")

	resp, body := sendV2(t, http.MethodPatch, loc, authz, make([]byte, 10), true, "Content-Range", "0-99")
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("short chunked PATCH: %d %s, want 416", resp.StatusCode, body)
	}
	// Clients that go away mid-body, on a PATCH, a monolithic POST and a
	// manifest PUT.
	u, _ := url.Parse(loc)
	for _, req := range []string{
		"PATCH " + u.RequestURI() + " HTTP/1.1\r\nContent-Length: 1048576\r\n",
		"POST /v2/client/faults/blobs/uploads/?digest=" + digestOf([]byte("x")) + " HTTP/1.1\r\nContent-Length: 1048576\r\n",
		"PUT /v2/client/faults/manifests/gone HTTP/1.1\r\nContent-Type: " + ociManifestType + "\r\nContent-Length: 100000\r\n",
	} {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "%sHost: x\r\nAuthorization: %s\r\n\r\n%s", req, authz, strings.Repeat("a", 1000))
		c.Close()
	}
	// The server notices the disconnects as it reads; the upload then
	// answers again at once.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, _ := v2Do(t, http.MethodGet, loc, authz, "", nil)
		if r.StatusCode == http.StatusNoContent && strings.Count(logs.String(), "msg=request") >= 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not finish with the vanished clients:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("a client fault was logged as a server error: %s", line)
		}
	}
}
