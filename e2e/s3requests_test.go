package e2e

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/config"
)

// s3Counter is a proxy in front of the test's S3 server that counts the
// requests it passes, by S3 operation, and can answer one operation with
// an error instead. The Host header is passed as it came, so SigV4
// signatures (headers and presigned URLs) stay valid.
type s3Counter struct {
	URL string
	mu  sync.Mutex
	ops map[string]int
	// fail, when set, answers the operation with this status and S3 code.
	failOp, failCode string
	failStatus       int
}

func newS3Counter(t *testing.T, endpoint string) *s3Counter {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c := &s3Counter{ops: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := s3Operation(r)
		c.mu.Lock()
		c.ops[op]++
		failOp, code, status := c.failOp, c.failCode, c.failStatus
		c.mu.Unlock()
		if op == failOp {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			w.Write([]byte("<Error><Code>" + code + "</Code><Message>injected</Message></Error>"))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// take returns the requests counted since the last take, as "Op×n" by
// name, and resets. HeadBucket (readiness, start-up) is left out.
func (c *s3Counter) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, k := range slices.Sorted(maps.Keys(c.ops)) {
		if k != "HeadBucket" {
			out = append(out, k+"×"+strconv.Itoa(c.ops[k]))
		}
	}
	c.ops = map[string]int{}
	return strings.Join(out, " ")
}

// count returns the requests of op counted since the last take.
func (c *s3Counter) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops[op]
}

// failWith makes the proxy answer op with an S3 error ("" stops).
func (c *s3Counter) failWith(op string, status int, code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failOp, c.failStatus, c.failCode = op, status, code
}

// s3Operation names the S3 operation of a path-style request.
func s3Operation(r *http.Request) string {
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	object := strings.Count(strings.Trim(r.URL.Path, "/"), "/") > 0
	copySource := r.Header.Get("X-Amz-Copy-Source") != ""
	switch r.Method {
	case http.MethodHead:
		if !object {
			return "HeadBucket"
		}
		return "HeadObject"
	case http.MethodGet:
		switch {
		case has("uploads"):
			return "ListMultipartUploads"
		case has("uploadId"):
			return "ListParts"
		case !object:
			return "ListObjectsV2"
		case has("X-Amz-Signature"):
			return "GetObject(presigned)"
		}
		return "GetObject"
	case http.MethodPut:
		switch {
		case has("partNumber") && copySource:
			return "UploadPartCopy"
		case has("partNumber"):
			return "UploadPart"
		case copySource:
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "CreateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		case has("delete"):
			return "DeleteObjects"
		}
	case http.MethodDelete:
		if has("uploadId") {
			return "AbortMultipartUpload"
		}
		return "DeleteObject"
	}
	return r.Method + " " + r.URL.Path
}

// viaCounter puts the servers' S3 requests through the counter.
func viaCounter(c *s3Counter, redirect bool) func(*config.Config) {
	return func(cfg *config.Config) {
		cfg.Store.S3.Endpoint = c.URL
		cfg.Store.BlobRedirect = redirect
		cfg.Images.GCInterval = 0
	}
}

// TestS3RequestsPerOperation: on PostgreSQL and S3, the hot read paths
// (BatchCheckLayerAvailability, blob HEAD, manifest GET and HEAD, tag
// lists, BatchGetImage, DescribeImages, GetDownloadUrlForLayer) send S3
// nothing: PostgreSQL alone answers them. A blob GET costs one GetObject,
// or none with --blob-redirect (the client's GET goes to S3 itself). The
// upload paths are held to their counts, so that a regression shows; the
// README's scale-out section and the s3 package doc list them.
func TestS3RequestsPerOperation(t *testing.T) {
	stores := scaleOut(t)
	counter := newS3Counter(t, os.Getenv("ECRD_TEST_S3_ENDPOINT"))
	srv := startServer(t, "", stores, viaCounter(counter, false))
	c := srv.client()
	const repo = "s3count/app"
	createRepos(t, c, repo)
	authz := privateBasic(t, c)
	layer := layerBytes(7<<20, 31)
	small := layerBytes(3<<20+5, 32)
	var id *string
	var cfg blob
	var manifest string

	steps := []struct {
		name string
		run  func(t *testing.T)
		want string
	}{
		{"InitiateLayerUpload", func(t *testing.T) { id = aws.String(initiate(t, c, repo)) }, ""},
		{"UploadLayerPart/First5MiB", func(t *testing.T) { uploadPart(t, c, repo, *id, 0, layer[:5<<20]) },
			"CreateMultipartUpload×1 ListMultipartUploads×1 UploadPart×1"},
		{"UploadLayerPart/Last2MiB", func(t *testing.T) { uploadPart(t, c, repo, *id, 5<<20, layer[5<<20:]) },
			"ListMultipartUploads×1 ListParts×1 PutObject×1"},
		{"CompleteLayerUpload", func(t *testing.T) {
			if _, err := c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo),
				UploadId: id, LayerDigests: []string{digestOf(layer)}}); err != nil {
				t.Fatal(err)
			}
		}, // CommitUpload's 10, and the core's DeleteUpload after it (2 LIST)
			"CompleteMultipartUpload×1 CopyObject×1 DeleteObjects×1 HeadObject×1 ListMultipartUploads×3 ListObjectsV2×3 ListParts×1 UploadPartCopy×1"},
		{"V2MonolithicPush", func(t *testing.T) { v2PushBlob(t, srv.URL, authz, repo, small) },
			"CopyObject×1 DeleteObjects×1 HeadObject×1 ListMultipartUploads×4 ListObjectsV2×3 PutObject×1"},
		{"PutImage", func(t *testing.T) {
			cfg = pushConfig(t, c, repo, 1)
			counter.take()
			manifest = ociManifest(cfg, "", blob{digestOf(layer), len(layer)}, blob{digestOf(small), len(small)})
			putImage(t, c, repo, manifest, "v1")
		}, ""},
		{"BatchCheckLayerAvailability", func(t *testing.T) {
			out, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo),
				LayerDigests: []string{digestOf(layer), digestOf(small), cfg.Digest}})
			if err != nil || len(out.Layers) != 3 || out.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable {
				t.Fatalf("%+v, %v", out, err)
			}
		}, ""},
		{"V2BlobHead", func(t *testing.T) {
			if resp, _ := v2Do(t, http.MethodHead, srv.URL+"/v2/"+repo+"/blobs/"+digestOf(layer), authz, "", nil); resp.StatusCode != http.StatusOK {
				t.Fatal(resp.Status)
			}
		}, ""},
		{"V2ManifestGet", func(t *testing.T) {
			if resp, b := v2Do(t, http.MethodGet, srv.URL+"/v2/"+repo+"/manifests/v1", authz, "", nil); resp.StatusCode != http.StatusOK || string(b) != manifest {
				t.Fatal(resp.Status)
			}
		}, ""},
		{"V2ManifestHead", func(t *testing.T) {
			if resp, _ := v2Do(t, http.MethodHead, srv.URL+"/v2/"+repo+"/manifests/"+digestOf([]byte(manifest)), authz, "", nil); resp.StatusCode != http.StatusOK {
				t.Fatal(resp.Status)
			}
		}, ""},
		{"V2TagsList", func(t *testing.T) {
			if resp, b := v2Do(t, http.MethodGet, srv.URL+"/v2/"+repo+"/tags/list", authz, "application/json", nil); resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"v1"`)) {
				t.Fatalf("%s %s", resp.Status, b)
			}
		}, ""},
		{"BatchGetImage", func(t *testing.T) {
			out, err := c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo),
				ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
			if err != nil || len(out.Images) != 1 {
				t.Fatalf("%+v, %v", out, err)
			}
		}, ""},
		{"DescribeImages", func(t *testing.T) {
			out, err := c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)})
			if err != nil || len(out.ImageDetails) != 1 {
				t.Fatalf("%+v, %v", out, err)
			}
		}, ""},
		{"ListImages", func(t *testing.T) {
			if _, err := c.ListImages(ctx(t), &ecr.ListImagesInput{RepositoryName: aws.String(repo)}); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"GetDownloadUrlForLayer", func(t *testing.T) {
			if _, err := c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo),
				LayerDigest: aws.String(digestOf(layer))}); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"V2BlobGet", func(t *testing.T) {
			if resp, b := v2Do(t, http.MethodGet, srv.URL+"/v2/"+repo+"/blobs/"+digestOf(layer), authz, "", nil); resp.StatusCode != http.StatusOK || digestOf(b) != digestOf(layer) {
				t.Fatalf("%s, %d bytes", resp.Status, len(b))
			}
		}, "GetObject×1"},
		// S3 bodies do not seek: the core opens the blob where the range
		// starts (a ranged GetObject), so a Range costs no more.
		{"V2BlobGetRange", func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, srv.URL+"/v2/"+repo+"/blobs/"+digestOf(layer), nil)
			req.Header.Set("Authorization", authz)
			req.Header.Set("Range", "bytes=6000000-6000099")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, layer[6000000:6000100]) ||
				resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 6000000-6000099/%d", len(layer)) {
				t.Fatalf("%s %q, %d bytes", resp.Status, resp.Header.Get("Content-Range"), len(b))
			}
		}, "GetObject×1"},
	}
	counter.take()
	var report strings.Builder
	for _, st := range steps {
		st.run(t)
		got := counter.take()
		report.WriteString("\n\t" + st.name + ": " + got)
		if got != st.want {
			t.Errorf("%s: S3 requests %q, want %q", st.name, got, st.want)
		}
	}
	t.Log("S3 requests per operation:" + report.String())
}

// TestS3Failures: S3 failing (throttling, an internal error, access
// denied) makes every front end answer the blob store's failure, named as
// such, never a success and never the generic unexpected-error answer;
// the metrics count it as a storage error.
func TestS3Failures(t *testing.T) {
	stores := scaleOut(t)
	counter := newS3Counter(t, os.Getenv("ECRD_TEST_S3_ENDPOINT"))
	srv := startServer(t, "", stores, viaCounter(counter, false), func(c *config.Config) { c.Server.Metrics = true })
	c := srv.client()
	const repo = "s3fail/app"
	createRepos(t, c, repo)
	authz := privateBasic(t, c)
	layer := layerBytes(1<<20, 51)
	pushLayer(t, c, repo, layer)
	cfg := pushConfig(t, c, repo, 3)
	putImage(t, c, repo, ociManifest(cfg, "", blob{digestOf(layer), len(layer)}), "v1")

	for _, f := range []struct {
		status int
		code   string
	}{{http.StatusServiceUnavailable, "SlowDown"}, {http.StatusInternalServerError, "InternalError"}, {http.StatusForbidden, "AccessDenied"}} {
		t.Run(f.code, func(t *testing.T) {
			counter.failWith("GetObject", f.status, f.code)
			resp, body := v2Do(t, http.MethodGet, srv.URL+"/v2/"+repo+"/blobs/"+digestOf(layer), authz, "", nil)
			if resp.StatusCode != http.StatusInternalServerError || !bytes.Contains(body, []byte("storage failed")) {
				t.Errorf("/v2/ blob GET with S3 answering %s: %s %s; want 500 naming the storage", f.code, resp.Status, body)
			}
			counter.failWith("UploadPart", f.status, f.code)
			id := initiate(t, c, repo)
			_, err := c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: aws.String(id),
				PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(5<<20 - 1), LayerPartBlob: layerBytes(5<<20, 52)})
			se := wantAPIError[*types.ServerException](t, err, "storage failed")
			_ = se
			counter.failWith("", 0, "")
		})
	}
	resp, body := v2Do(t, http.MethodGet, srv.URL+"/metrics", "", "", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`ecrd_storage_errors_total{kind="io"} 6`)) {
		t.Errorf("metrics after six S3 failures: want ecrd_storage_errors_total{kind=\"io\"} 6 in\n%s", grepLines(body, "storage_errors"))
	}
}

// grepLines returns the lines of b that contain s.
func grepLines(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
