package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one registry under test, running in its own process so that
// its memory and CPU are its own.
type server struct {
	name string // "ecrd" or "distribution"
	url  string // http://127.0.0.1:PORT
	host string // 127.0.0.1:PORT
	pid  int
	// debug is ecrd's --debug-listen URL (profiles); "" for distribution.
	debug string
	// log is the server's log file, shown when a workload fails.
	log  string
	stop func() error
}

// freePort asks the kernel for a port nobody listens on.
func freePort() (int, error) {
	ports, err := freePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// freePorts asks the kernel for n distinct ports nobody listens on. The
// listeners stay open until all are chosen: one closed at once could be
// handed out again for the next.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// stores are the flags and environment that point a server at its stores;
// the zero value is the embedded default (ecrd) or filesystem storage
// (distribution).
type stores struct {
	args []string // ecrd's store flags
	env  []string // KEY=VALUE, added to the server's environment
}

// startEcrd runs the ecrd binary over a fresh data dir: the embedded store
// unless st says otherwise, no authentication (request-rate tools and the
// OCI client send none, as for distribution), repositories created by the
// first push (as distribution does), no request log (as the peer runs),
// and the debug listener for profiles.
func startEcrd(bin, dataDir string, st stores) (*server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	port, dport := ports[0], ports[1]
	host := fmt.Sprintf("127.0.0.1:%d", port)
	logf, err := os.Create(filepath.Join(dataDir, "..", filepath.Base(dataDir)+".log"))
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--listen", host, "--data-dir", dataDir, "--auth=none",
		"--create-on-push", "--public-listen=off", "--gc-interval=0",
		// Nothing logged per request, as the peer's configuration has it.
		"--log-level=warn",
		"--debug-listen", fmt.Sprintf("127.0.0.1:%d", dport)}, st.args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), st.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{name: "ecrd", url: "http://" + host, host: host, pid: cmd.Process.Pid,
		debug: fmt.Sprintf("http://127.0.0.1:%d", dport), log: logf.Name()}
	s.stop = func() error {
		defer logf.Close()
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			return fmt.Errorf("ecrd did not stop within 30s")
		}
	}
	if err := waitReady(s.url + "/healthz"); err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("ecrd: %w (log: %s)", err, logf.Name())
	}
	return s, nil
}

// startDistribution runs docker-registry (CNCF distribution 2.8) with
// filesystem storage through scripts/run-peer-registry.sh, which writes
// its log to DATADIR/registry.log; st.env can pick another peer and S3
// storage (the script's PEER_* variables).
func startDistribution(scripts, dataDir string, st stores) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(scripts, "run-peer-registry.sh"), strconv.Itoa(port), dataDir)
	cmd.Env = append(os.Environ(), st.env...)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("run-peer-registry.sh: %w", errOutput(err))
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return nil, fmt.Errorf("run-peer-registry.sh printed %q, not a PID", out)
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	s := &server{name: "distribution", url: "http://" + host, host: host, pid: pid, log: filepath.Join(dataDir, "registry.log")}
	s.stop = func() error {
		p, err := os.FindProcess(pid)
		if err != nil {
			return err
		}
		_ = p.Signal(syscall.SIGTERM)
		for range 300 {
			if !alive(pid) {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = p.Kill()
		return fmt.Errorf("distribution did not stop within 30s")
	}
	return s, nil
}

// alive reports whether a process runs: it exists and is not a zombie
// (the registry is not our child, so nothing here reaps it).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, ok := bytes.Cut(b, []byte(") "))
	return ok && len(rest) > 0 && rest[0] != 'Z' && rest[0] != 'X'
}

// logTail is the end of the server's log, after its last few errors: under
// concurrent requests the line that explains a failure is often not
// among the last.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	tail := lines[max(0, len(lines)-20):]
	var errs []string
	for _, l := range lines[:len(lines)-len(tail)] {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=error") {
			errs = append(errs, l)
		}
	}
	if len(errs) > 0 {
		errs = append(append(errs[max(0, len(errs)-5):], "..."), tail...)
		return strings.Join(errs, "\n")
	}
	return strings.Join(tail, "\n")
}

func waitReady(url string) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within 15s", url)
}

// resetPeakRSS restarts the kernel's peak-RSS count (VmHWM) of a process
// (Linux: writing 5 to clear_refs).
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// peakRSS returns a process's peak resident set size (VmHWM) in bytes.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// profiler collects ecrd's CPU and heap profiles of one workload through
// its debug listener; a no-op for distribution or without --profile.
type profiler struct {
	s   *server
	dir string // "" when not profiling
}

func (p profiler) start(ctx context.Context) error {
	if p.dir == "" || p.s.debug == "" {
		return nil
	}
	_, err := debugPost(ctx, p.s.debug+"/debug/cpuprofile/start")
	return err
}

func (p profiler) stop(ctx context.Context, workload string) error {
	if p.dir == "" || p.s.debug == "" {
		return nil
	}
	cpu, err := debugPost(ctx, p.s.debug+"/debug/cpuprofile/stop")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(p.dir, workload+".cpu.pprof"), cpu, 0o644); err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.s.debug+"/debug/pprof/heap", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	heap, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(p.dir, workload+".heap.pprof"), heap, 0o644)
}

func debugPost(ctx context.Context, url string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("POST %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return body, err
}

func errOutput(err error) error {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
	}
	return err
}
