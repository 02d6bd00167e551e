package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ecrd/ecrd/internal/config"
)

// scrape reads /metrics and returns every sample, keyed by its series
// (name{label="value",...} with labels in order).
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			key := name + labelsOf(m)
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				out[name+"_count"+labelsOf(m)] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

func labelsOf(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+`"`+l.GetValue()+`"`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// TestMetrics: after a push, a pull, a BatchCheckLayerAvailability, a
// refused request and a collection, the counters moved by what was done.
func TestMetrics(t *testing.T) {
	s := startServer(t, "", func(c *config.Config) { c.Server.Metrics = true; c.Images.GCGrace = 0 })
	c := s.client()
	before := scrape(t, s.URL)
	if info := keysWith(before, `ecrd_build_info{goversion="`+runtime.Version()+`"`); len(info) != 1 || before[info[0]] != 1 {
		t.Errorf("ecrd_build_info: %v", info)
	}

	createRepos(t, c, "metrics/app")
	// A push over /v2/: a layer, a config, a manifest.
	authz := privateBasic(t, c)
	layer := layerBytes(3<<20, 7)
	loc := startV2Upload(t, s.URL, authz, "metrics/app")
	if resp, body := sendV2(t, http.MethodPatch, loc, authz, layer, false); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
	} else if loc, _ = resolveLocation(s.URL, resp.Header.Get("Location")); loc == "" {
		t.Fatal("no Location")
	}
	if resp, body := sendV2(t, http.MethodPut, withDigest(loc, digestOf(layer)), authz, nil, false); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	cfg := pushConfig(t, c, "metrics/app", 1)
	manifest := ociManifest(cfg, "", blob{digestOf(layer), len(layer)})
	if resp, body := v2Do(t, http.MethodPut, s.URL+"/v2/metrics/app/manifests/v1", authz, "application/vnd.oci.image.manifest.v1+json", []byte(manifest)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("manifest PUT: %d %s", resp.StatusCode, body)
	}
	// An upload in flight is counted while its bytes arrive.
	inFlight(t, s.URL, authz)
	// A pull: the manifest by tag, then the layer.
	if resp, _ := v2Do(t, http.MethodGet, s.URL+"/v2/metrics/app/manifests/v1", authz, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("manifest GET: %d", resp.StatusCode)
	}
	if resp, body := v2Do(t, http.MethodGet, s.URL+"/v2/metrics/app/blobs/"+digestOf(layer), authz, "", nil); resp.StatusCode != http.StatusOK || len(body) != len(layer) {
		t.Fatalf("blob GET: %d, %d bytes", resp.StatusCode, len(body))
	}
	// BatchCheckLayerAvailability, twice.
	for range 2 {
		if _, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{
			RepositoryName: aws.String("metrics/app"), LayerDigests: []string{digestOf(layer), cfg.Digest}}); err != nil {
			t.Fatal(err)
		}
	}
	// A refused request: /v2/ without credentials, and a bad signature.
	if resp, _ := v2Do(t, http.MethodGet, s.URL+"/v2/metrics/app/tags/list", "", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous tags list: %d", resp.StatusCode)
	}
	if _, err := s.clientAs("test", "wrong", "us-east-1").DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{}); err == nil {
		t.Fatal("a wrong secret was accepted")
	}
	// Deleting the image and collecting reclaims the layer's bytes.
	if _, err := c.BatchDeleteImage(ctx(t), &ecr.BatchDeleteImageInput{RepositoryName: aws.String("metrics/app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("metrics/app"), Force: true}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // past the zero grace period
	st, err := s.app.CollectGarbage(ctx(t))
	if err != nil || st.Blobs < 2 {
		t.Fatalf("collection: %+v, %v", st, err)
	}

	after := scrape(t, s.URL)
	delta := func(key string) float64 { return after[key] - before[key] }
	for _, w := range []struct {
		key  string
		want float64 // at least
	}{
		{`ecrd_requests_total{api="ecr",error="",operation="BatchCheckLayerAvailability",status="200"}`, 2},
		{`ecrd_request_duration_seconds_count{api="ecr",operation="BatchCheckLayerAvailability"}`, 2},
		{`ecrd_requests_total{api="v2",error="",operation="PatchUpload",status="202"}`, 1},
		{`ecrd_requests_total{api="v2",error="",operation="FinishUpload",status="201"}`, 1},
		{`ecrd_requests_total{api="v2",error="",operation="PutManifest",status="201"}`, 1},
		{`ecrd_requests_total{api="v2",error="",operation="GetManifest",status="200"}`, 1},
		{`ecrd_requests_total{api="v2",error="",operation="GetBlob",status="200"}`, 1},
		{`ecrd_requests_total{api="ecr",error="",operation="UploadLayerPart",status="200"}`, 1}, // pushConfig
		{`ecrd_requests_total{api="v2",error="UNAUTHORIZED",operation="ListTags",status="401"}`, 1},
		{`ecrd_auth_refusals_total{api="v2",reason="no valid credentials"}`, 1},
		{`ecrd_auth_refusals_total{api="ecr",reason="InvalidSignatureException"}`, 1},
		{`ecrd_received_bytes_total{api="v2"}`, float64(len(layer))},
		{`ecrd_sent_bytes_total{api="v2"}`, float64(len(layer))},
		{`ecrd_gc_runs_total{outcome="ok"}`, 1},
		{`ecrd_gc_removed_blobs_total{}`, 2},
		{`ecrd_gc_reclaimed_bytes_total{}`, float64(len(layer))},
	} {
		if d := delta(w.key); d < w.want {
			t.Errorf("%s moved by %v, want at least %v", w.key, d, w.want)
		}
	}
	// No upload is left counted in flight.
	if v := after[`ecrd_uploads_in_flight{api="v2"}`]; v != 0 {
		t.Errorf("uploads in flight after the push: %v", v)
	}
	// Nothing labels a series with a repository name.
	for k := range after {
		if strings.Contains(k, "metrics/app") {
			t.Errorf("a series names the repository: %s", k)
		}
	}
	checkDashboard(t, after)
}

// checkDashboard: every ecrd metric the Grafana dashboard in deploy/ queries
// is one the server serves.
func checkDashboard(t *testing.T, served map[string]float64) {
	t.Helper()
	data, err := os.ReadFile("../deploy/grafana/ecrd-dashboard.json")
	if err != nil {
		t.Fatalf("the dashboard: %v", err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	names := map[string]bool{}
	for k := range served {
		name := k[:strings.IndexByte(k, '{')]
		names[name] = true
		for _, suffix := range []string{"_count"} {
			if n, ok := strings.CutSuffix(name, suffix); ok {
				names[n+"_bucket"], names[n+"_sum"], names[n] = true, true, true
			}
		}
	}
	used := regexp.MustCompile(`\becrd_[a-z_]+`).FindAllString(string(data), -1)
	if len(used) == 0 {
		t.Fatal("the dashboard queries no ecrd metric")
	}
	for _, n := range used {
		if !names[n] {
			t.Errorf("the dashboard queries %s, which the server does not serve", n)
		}
	}
}

func keysWith(m map[string]float64, sub string) []string {
	var out []string
	for k := range m {
		if strings.Contains(k, sub) {
			out = append(out, k)
		}
	}
	return out
}

// inFlight sends an upload's body slowly and checks that
// ecrd_uploads_in_flight counts it until it ends.
func inFlight(t *testing.T, base, authz string) {
	t.Helper()
	loc := startV2Upload(t, base, authz, "metrics/app")
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPatch, loc, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", authz)
	req.Header.Set("Content-Type", "application/octet-stream")
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	if _, err := pw.Write(layerBytes(64<<10, 9)); err != nil {
		t.Fatal(err)
	}
	key := `ecrd_uploads_in_flight{api="v2"}`
	for deadline := time.Now().Add(10 * time.Second); scrape(t, base)[key] != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached 1 while an upload was sending", key)
		}
	}
	pw.Close()
	if status := <-done; status != http.StatusAccepted {
		t.Fatalf("slow PATCH: %d", status)
	}
	if v := scrape(t, base)[key]; v != 0 {
		t.Fatalf("%s = %v once the upload ended", key, v)
	}
}
