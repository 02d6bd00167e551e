package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// TestDrainOnSIGTERM: a request in flight when SIGTERM arrives completes,
// and then the process exits with status 0.
func TestDrainOnSIGTERM(t *testing.T) {
	p := startProcess(t, t.TempDir())
	c := p.client()
	if _, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("drain/me")}); err != nil {
		t.Fatal(err)
	}
	id := initiate(t, c, "drain/me")
	body, err := json.Marshal(map[string]any{
		"repositoryName": "drain/me", "uploadId": id, "partFirstByte": 0, "partLastByte": 1<<20 - 1,
		"layerPartBlob": layerBytes(1<<20, 8),
	})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", p.URL+"/", pr)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.UploadLayerPart")
	req.ContentLength = int64(len(body))
	signRequest(t, req, body, testCreds, "us-east-1", time.Now())
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	// Half the body is on the wire when the signal arrives.
	if _, err := pw.Write(body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := pw.Write(body[len(body)/2:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if r := <-done; r.err != nil || r.status != http.StatusOK {
		t.Fatalf("in-flight request: status %d, err %v; want 200", r.status, r.err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("ecrd exit after draining: %v, want status 0", err)
	}
}
