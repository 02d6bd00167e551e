// Package metrics is ecrd's Prometheus instrumentation: what requests
// each API served and how, the bytes they moved, uploads in flight,
// refusals, storage failures and garbage collections. Everything is
// counted in one place, from what the front ends recorded about each
// request (reqinfo.Info), so that a new operation is counted without
// instrumenting it. Labels hold only bounded sets (API, operation names of
// the models and the /v2/ route table, HTTP status, error types): never a
// repository or a key.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ecrd/ecrd/internal/buildinfo"
	"github.com/ecrd/ecrd/internal/reqinfo"
)

// Metrics holds ecrd's collectors, in a registry of its own (no global
// state: two servers in one test process count apart).
type Metrics struct {
	reg *prometheus.Registry

	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	received     *prometheus.CounterVec
	sent         *prometheus.CounterVec
	uploads      *prometheus.GaugeVec
	refusals     *prometheus.CounterVec
	storageErrs  *prometheus.CounterVec
	gcRuns       *prometheus.CounterVec
	gcBytes      prometheus.Counter
	gcBlobs      prometheus.Counter
	gcLayers     prometheus.Counter
	gcLastRunSec prometheus.Gauge
	lifecycle    *prometheus.CounterVec
}

// New returns ecrd's metrics for a build, with Go's runtime and process
// collectors beside them.
func New(bi buildinfo.Info) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ecrd_requests_total",
		Help: "Requests answered, by API (ecr, ecr-public, v2, v2-public, download, other), operation, HTTP status and error type (empty on success)."},
		[]string{"api", "operation", "status", "error"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ecrd_request_duration_seconds",
		Help:    "Time from a request's headers to the end of its answer, by API and operation.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}},
		[]string{"api", "operation"})
	m.received = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ecrd_received_bytes_total",
		Help: "Bytes of request bodies read, by API."}, []string{"api"})
	m.sent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ecrd_sent_bytes_total",
		Help: "Bytes of response bodies written, by API."}, []string{"api"})
	m.uploads = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ecrd_uploads_in_flight",
		Help: "Requests sending layer bytes right now (UploadLayerPart, /v2/ blob upload PATCH and PUT), by API."}, []string{"api"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ecrd_auth_refusals_total",
		Help: "Requests refused authentication or authorization, by API and reason (the AWS error type, or for /v2/: no valid credentials, expired token, denied)."},
		[]string{"api", "reason"})
	m.storageErrs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ecrd_storage_errors_total",
		Help: "Store calls that failed for want of storage, by kind: full (out of space), io (I/O error)."}, []string{"kind"})
	m.gcRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ecrd_gc_runs_total",
		Help: "Garbage collections, by outcome (ok, skipped: another was running, failed)."}, []string{"outcome"})
	m.gcBytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "ecrd_gc_reclaimed_bytes_total",
		Help: "Bytes of blobs garbage collection deleted."})
	m.gcBlobs = prometheus.NewCounter(prometheus.CounterOpts{Name: "ecrd_gc_removed_blobs_total",
		Help: "Blobs garbage collection deleted."})
	m.gcLayers = prometheus.NewCounter(prometheus.CounterOpts{Name: "ecrd_gc_removed_layers_total",
		Help: "Layer records no image referred to that garbage collection removed."})
	m.gcLastRunSec = prometheus.NewGauge(prometheus.GaugeOpts{Name: "ecrd_gc_last_success_timestamp_seconds",
		Help: "When the last garbage collection that succeeded ended (Unix time; 0: none yet)."})
	m.lifecycle = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ecrd_lifecycle_actions_total",
		Help: "Images lifecycle policies acted on, by action (expire, transition)."}, []string{"action"})
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ecrd_build_info",
		Help: "Always 1; the labels say which ecrd this is."}, []string{"version", "revision", "goversion"})
	info.WithLabelValues(bi.Version, bi.Revision, bi.GoVersion).Set(1)
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.received, m.sent, m.uploads, m.refusals,
		m.storageErrs, m.gcRuns, m.gcBytes, m.gcBlobs, m.gcLayers, m.gcLastRunSec, m.lifecycle, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	// Series that exist from the start, so that a dashboard sees zeros,
	// not gaps.
	for _, o := range []string{"ok", "skipped", "failed"} {
		m.gcRuns.WithLabelValues(o)
	}
	for _, a := range []string{"expire", "transition"} {
		m.lifecycle.WithLabelValues(a)
	}
	for _, k := range []string{"full", "io"} {
		m.storageErrs.WithLabelValues(k)
	}
	return m
}

// LifecycleAction counts an image a lifecycle policy acted on.
func (m *Metrics) LifecycleAction(action string) { m.lifecycle.WithLabelValues(action).Inc() }

// Handler serves the metrics in Prometheus's text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request counts one answered request from what its front end recorded.
func (m *Metrics) Request(info *reqinfo.Info, status int, received, sent int64, took time.Duration) {
	op := info.Operation
	if op == "" {
		op = "unknown"
	}
	m.requests.WithLabelValues(info.API, op, strconv.Itoa(status), info.ErrorType).Inc()
	m.duration.WithLabelValues(info.API, op).Observe(took.Seconds())
	if received > 0 {
		m.received.WithLabelValues(info.API).Add(float64(received))
	}
	if sent > 0 {
		m.sent.WithLabelValues(info.API).Add(float64(sent))
	}
	reason := info.AuthRefusal
	if reason == "" && info.ErrorType == "AccessDeniedException" {
		reason = info.ErrorType
	}
	if reason != "" {
		m.refusals.WithLabelValues(info.API, reason).Inc()
	}
}

// UploadStarted counts an upload request in flight until the returned
// function is called.
func (m *Metrics) UploadStarted(api string) (done func()) {
	g := m.uploads.WithLabelValues(api)
	g.Inc()
	return g.Dec
}

// StorageError counts a store call that failed for want of storage.
func (m *Metrics) StorageError(kind string) { m.storageErrs.WithLabelValues(kind).Inc() }

// GC counts a collection and what it removed.
func (m *Metrics) GC(outcome string, layers, blobs int, bytes int64, at time.Time) {
	m.gcRuns.WithLabelValues(outcome).Inc()
	if outcome != "ok" {
		return
	}
	m.gcLayers.Add(float64(layers))
	m.gcBlobs.Add(float64(blobs))
	m.gcBytes.Add(float64(bytes))
	m.gcLastRunSec.Set(float64(at.Unix()))
}
