package app

import (
	"bytes"
	"net/http"
	"net/http/pprof"
	"runtime"
	rpprof "runtime/pprof"
	"sync"
)

// debugHandler serves Go's profiles for --debug-listen, and the metrics
// (always there, --metrics or not): net/http/pprof's
// handlers, and a CPU profile that runs from a start request to a stop
// request, so that a benchmark can profile exactly one workload of unknown
// length.
func debugHandler(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	var cpu cpuProfile
	mux.HandleFunc("POST /debug/cpuprofile/start", cpu.start)
	mux.HandleFunc("POST /debug/cpuprofile/stop", cpu.stop)
	mux.HandleFunc("POST /debug/gc", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC() // so that a heap profile taken next shows live data only
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// cpuProfile is one CPU profile at a time, into memory.
type cpuProfile struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

func (c *cpuProfile) start(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf != nil {
		http.Error(w, "a CPU profile is already running", http.StatusConflict)
		return
	}
	buf := new(bytes.Buffer)
	if err := rpprof.StartCPUProfile(buf); err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	c.buf = buf
	w.WriteHeader(http.StatusNoContent)
}

func (c *cpuProfile) stop(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		http.Error(w, "no CPU profile is running", http.StatusConflict)
		return
	}
	rpprof.StopCPUProfile()
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(c.buf.Bytes())
	c.buf = nil
}
