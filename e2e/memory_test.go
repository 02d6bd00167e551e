package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// peakRSS returns the peak resident set size of process pid (VmHWM), in
// bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// junk is an endless body of one byte.
type junk struct{ left int64 }

func (j *junk) Read(p []byte) (int, error) {
	if j.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), j.left))
	for i := range p[:n] {
		p[i] = 'A'
	}
	j.left -= int64(n)
	return n, nil
}

// TestMemoryBounded proves that request bodies cannot exhaust memory: not
// a flood of unsigned bodies from someone who knows only an access key ID
// (every body must be received whole before its signature can be
// checked), nor many large authenticated layer parts at once. ecrd runs
// as its own process so that its peak RSS (VmHWM) is its own.
func TestMemoryBounded(t *testing.T) {
	t.Run("UnauthenticatedFlood", func(t *testing.T) {
		for _, flood := range []struct {
			conns int
			size  int64
		}{{100, 32 << 20}, {300, 8 << 20}} {
			p := startProcess(t, t.TempDir())
			statuses := floodBogusParts(t, p.URL, flood.conns, flood.size)
			peak := peakRSS(t, p.cmd.Process.Pid)
			t.Logf("%d connections × %d MiB with a bogus signature: answers %v; ecrd peak RSS %d MiB",
				flood.conns, flood.size>>20, statuses, peak>>20)
			if peak >= 512<<20 {
				t.Errorf("peak RSS %d MiB under the unauthenticated flood, want under 512 MiB", peak>>20)
			}
			for s := range statuses {
				if s != "InvalidSignatureException" && s != "ThrottlingException" && s != "closed" {
					t.Errorf("a bogus request was answered %s", s)
				}
			}
			// The server still serves signed requests.
			if _, err := p.client().DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{}); err != nil {
				t.Fatalf("after the flood: %v", err)
			}
		}
	})
	t.Run("ConcurrentAuthenticatedParts", func(t *testing.T) {
		p := startProcess(t, t.TempDir())
		c := p.client()
		createRepos(t, c, "mem/parts")
		part := layerBytes(20<<20, 77)
		const n = 16
		var wg sync.WaitGroup
		errs := make(chan error, n)
		ids := make([]string, n)
		for i := range ids {
			ids[i] = initiate(t, c, "mem/parts")
		}
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The SDK retries ThrottlingException; a part may wait for
				// room, but must get through.
				_, err := ecrWithRetries(p).UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: aws.String("mem/parts"),
					UploadId: aws.String(id), PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(part)) - 1), LayerPartBlob: part})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("UploadLayerPart: %v", err)
			}
		}
		peak := peakRSS(t, p.cmd.Process.Pid)
		t.Logf("%d concurrent 20 MiB UploadLayerPart: ecrd peak RSS %d MiB", n, peak>>20)
		if peak >= 400<<20 {
			t.Errorf("peak RSS %d MiB under %d concurrent 20 MiB parts, want under 400 MiB", peak>>20, n)
		}
	})
}

// ecrWithRetries is the server's client with the SDK's standard retries,
// which back off on ThrottlingException as against AWS.
func ecrWithRetries(p *process) *ecr.Client {
	c := p.client()
	return ecr.New(c.Options(), func(o *ecr.Options) { o.RetryMaxAttempts = 10 })
}

// floodBogusParts sends conns UploadLayerPart requests at once, each
// declaring and sending size bytes, signed correctly in form (scope, date,
// key) but with a wrong secret, and returns how they were answered.
func floodBogusParts(t *testing.T, url string, conns int, size int64) map[string]int {
	t.Helper()
	wrong := testCreds
	wrong.SecretAccessKey = "not-the-secret"
	tr := &http.Transport{MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, url+"/", &junk{left: size})
			if err != nil {
				t.Error(err)
				return
			}
			req.ContentLength = size
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.UploadLayerPart")
			signRequest(t, req, []byte("whatever the attacker claims"), wrong, "us-east-1", time.Now())
			answer := "closed"
			resp, err := client.Do(req)
			if err == nil {
				var e struct {
					Type string `json:"__type"`
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				_ = json.Unmarshal(body, &e)
				answer = e.Type
				if answer == "" {
					answer = fmt.Sprintf("HTTP %d %s", resp.StatusCode, bytes.TrimSpace(body))
				}
			}
			mu.Lock()
			got[answer]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return got
}
