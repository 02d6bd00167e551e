package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"time"
)

// The HTTP floor: what a trivial Go handler answers on loopback, driven by
// the same client code as the registries, in a process of its own as they
// are. No registry can answer a HEAD or a small GET faster on this
// machine, so the request-bound rows read as a fraction of it, as the
// throughput rows read against sha256, loopback and disk.

// floorBody is the trivial handler's GET body: 4 KiB, about a manifest.
const floorBody = 4 << 10

// floorFlag, given to the bench binary itself, makes it the trivial
// handler's process, listening on the flag's address.
const floorFlag = "-http-floor-listen"

// serveFloor is the trivial handler: HEAD answers 200 with a blob's
// headers, GET the same with 4 KiB of body. It runs until killed.
func serveFloor(addr string) error {
	body := make([]byte, floorBody)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	size := strconv.Itoa(len(body))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/octet-stream"}
		h["Content-Length"] = []string{size}
		h["Docker-Content-Digest"] = []string{"sha256:0000000000000000000000000000000000000000000000000000000000000000"}
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			return
		}
		_, _ = w.Write(body)
	}))
}

// startFloor runs this binary again as the trivial handler's process.
func startFloor() (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(self, floorFlag, host)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: "floor", url: "http://" + host, host: host, pid: cmd.Process.Pid}
	s.stop = func() error {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil
	}
	if err := waitReady(s.url + "/"); err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("the trivial handler: %w", err)
	}
	return s, nil
}

// floor is the HTTP floor measured by runs repetitions of each phase:
// HEAD at 1 and many clients, as the existence rows, and the 4 KiB GET at
// the manifest rows' connections, with its latencies.
type floor struct {
	Head1  float64 `json:"head_1_per_s"`
	HeadN  float64 `json:"head_n_per_s"`
	GetRPS float64 `json:"get_4k_per_s"`
	GetP50 float64 `json:"get_4k_p50_ms"`
	GetP99 float64 `json:"get_4k_p99_ms"`
}

func measureFloor(ctx context.Context, w *workbench, runs int) (floor, error) {
	s, err := startFloor()
	if err != nil {
		return floor{}, err
	}
	defer s.stop()
	var runsM []measures
	for range runs {
		m, err := w.floorRun(ctx, s)
		if err != nil {
			return floor{}, err
		}
		runsM = append(runsM, m)
	}
	med := func(key string) float64 {
		var vs []float64
		for _, m := range runsM {
			vs = append(vs, m[key])
		}
		return summarize(vs).Median
	}
	return floor{Head1: med("head-1"), HeadN: med("head-n"), GetRPS: med("get-rps"),
		GetP50: med("get-p50"), GetP99: med("get-p99")}, nil
}

// floorRun is one run of the floor's phases, with the registries' client
// code and sizes: headAll over as many digests, the manifest loop's GETs.
func (w *workbench) floorRun(ctx context.Context, s *server) (measures, error) {
	c := newClient(s.url, max(w.sz.existClients, w.sz.manifestConns))
	digests := make([]string, w.sz.existDigests)
	for i := range digests {
		digests[i] = fmt.Sprintf("sha256:%064x", i)
	}
	m := measures{}
	for key, clients := range map[string]int{"head-1": 1, "head-n": w.sz.existClients} {
		rate, err := w.repeat(ctx, profiler{}, key, func() error {
			return w.headAll(ctx, c, "floor/app", digests, clients, len(digests))
		})
		if err != nil {
			return nil, err
		}
		m[key] = rate
	}
	lat, d, err := w.getLoop(ctx, c, "floor/app", "latest", profiler{})
	if err != nil {
		return nil, err
	}
	m["get-rps"] = float64(len(lat)) / d.Seconds()
	m["get-p50"], m["get-p99"] = ms(percentile(lat, 0.50)), ms(percentile(lat, 0.99))
	return m, nil
}

// getLoop GETs a manifest from manifestConns connections for manifestTime
// and returns every request's latency and how long it all took.
func (w *workbench) getLoop(ctx context.Context, c *client, repo, tag string, p profiler) ([]time.Duration, time.Duration, error) {
	lat := make([][]time.Duration, w.sz.manifestConns)
	d, err := timed(ctx, p, "manifest-get", func() error {
		stop := time.Now().Add(w.sz.manifestTime)
		return parallel(w.sz.manifestConns, func(g int) error {
			for time.Now().Before(stop) {
				start := time.Now()
				if err := c.getManifest(ctx, repo, tag); err != nil {
					return err
				}
				lat[g] = append(lat[g], time.Since(start))
			}
			return nil
		})
	})
	all := slices.Concat(lat...)
	if err == nil && len(all) == 0 {
		err = errors.New("no GET completed")
	}
	return all, d, err
}
