package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/config"
)

// BenchmarkRequest is what one request-bound call costs ecrd's handler,
// in process (no network, no client): the CPU behind go run ./bench's
// HEAD, manifest GET and BatchCheckLayerAvailability rows. The log is on
// at info, as by default, into io.Discard.
func BenchmarkRequest(b *testing.B) {
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Store.DataDir = b.TempDir()
	cfg.Identity.AccountID = "123456789012"
	cfg.Auth.Mode = "none"
	cfg.Images.CreateOnPush = true
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	h := a.Handler()
	do := func(method, path string, body []byte, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	push := func(data []byte) string {
		sum := sha256.Sum256(data)
		d := "sha256:" + hex.EncodeToString(sum[:])
		rec := do("POST", "/v2/bench/app/blobs/uploads/", nil)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("POST upload: %d %s", rec.Code, rec.Body)
		}
		if rec := do("PUT", rec.Header().Get("Location")+"?digest="+d, data); rec.Code != http.StatusCreated {
			b.Fatalf("PUT upload: %d %s", rec.Code, rec.Body)
		}
		return d
	}
	var layers []string
	for i := range 100 {
		layers = append(layers, push(fmt.Appendf(nil, "layer %d", i)))
	}
	cfgJSON := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	config := push(cfgJSON)
	var descs []string
	for _, l := range layers[:3] {
		descs = append(descs, fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":7}`, l))
	}
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[%s]}`,
		config, len(cfgJSON), strings.Join(descs, ","))
	if rec := do("PUT", "/v2/bench/app/manifests/latest", []byte(manifest), "Content-Type", "application/vnd.oci.image.manifest.v1+json"); rec.Code != http.StatusCreated {
		b.Fatalf("PUT manifest: %d %s", rec.Code, rec.Body)
	}
	bcla, _ := json.Marshal(map[string]any{"repositoryName": "bench/app", "layerDigests": layers})

	b.Run("HeadBlob", func(b *testing.B) {
		for b.Loop() {
			if rec := do("HEAD", "/v2/bench/app/blobs/"+layers[7], nil); rec.Code != http.StatusOK {
				b.Fatalf("HEAD: %d", rec.Code)
			}
		}
	})
	b.Run("GetManifestByTag", func(b *testing.B) {
		for b.Loop() {
			if rec := do("GET", "/v2/bench/app/manifests/latest", nil, "Accept", "application/vnd.oci.image.manifest.v1+json"); rec.Code != http.StatusOK {
				b.Fatalf("GET manifest: %d", rec.Code)
			}
		}
	})
	b.Run("BatchCheckLayerAvailability100", func(b *testing.B) {
		for b.Loop() {
			rec := do("POST", "/", bcla, "X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.BatchCheckLayerAvailability",
				"Content-Type", "application/x-amz-json-1.1")
			if rec.Code != http.StatusOK {
				b.Fatalf("BatchCheckLayerAvailability: %d %s", rec.Code, rec.Body)
			}
		}
	})
}
