package app

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/syncbuf"
	"github.com/ecrd/ecrd/internal/tlstest"
)

// tlsFiles is a certificate authority and the paths of a pair of files
// an App is configured with.
type tlsFiles struct {
	ca            *tlstest.CA
	certFile, key string
	logs          *syncbuf.Buffer
}

func newTLSFiles(t *testing.T) *tlsFiles {
	t.Helper()
	ca, err := tlstest.NewCA("ecrd test CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return &tlsFiles{ca: ca, certFile: filepath.Join(dir, "server.crt"), key: filepath.Join(dir, "server.key"), logs: &syncbuf.Buffer{}}
}

// issue writes a new certificate named cn and its key to the files.
func (f *tlsFiles) issue(t *testing.T, cn string) tlstest.Pair {
	t.Helper()
	p, err := f.ca.Issue(cn)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(f.certFile, f.key); err != nil {
		t.Fatal(err)
	}
	return p
}

// open runs openTLS as New does, on an App with only what it needs.
func (f *tlsFiles) open() (*App, string, error) {
	var cfg config.Config
	cfg.Server.TLSCert, cfg.Server.TLSKey = f.certFile, f.key
	a := &App{cfg: cfg, log: slog.New(slog.NewTextHandler(f.logs, nil))}
	scheme, err := a.openTLS()
	return a, scheme, err
}

// serving is the serial number of the certificate handshakes get.
func serving(a *App) string { return a.certs.cur.Load().Leaf.SerialNumber.String() }

// TestOpenTLS_Refuses: a pair that does not load stops start-up with an
// error naming the flag and the problem.
func TestOpenTLS_Refuses(t *testing.T) {
	f := newTLSFiles(t)
	good := f.issue(t, "good")
	other, err := f.ca.Issue("other")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		cert, key   []byte // nil: no file
		want, want2 string
	}{
		{"NoCertFile", nil, good.Key, "--tls-cert", "no such file"},
		{"NoKeyFile", good.Cert, nil, "--tls-key", "no such file"},
		{"GarbageCert", []byte("not PEM"), good.Key, "--tls-cert", "failed to find any PEM data in certificate input"},
		{"GarbageKey", good.Cert, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "--tls-key", "failed to parse private key"},
		{"MismatchedKey", good.Cert, other.Key, "--tls-key", "private key does not match public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for path, data := range map[string][]byte{f.certFile: tc.cert, f.key: tc.key} {
				os.Remove(path)
				if data != nil {
					if err := os.WriteFile(path, data, 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, _, err := f.open()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.want2) {
				t.Fatalf("openTLS: %v; want an error naming %s and %q", err, tc.want, tc.want2)
			}
		})
	}
}

// TestCertificates_Reload: SIGHUP's reload and the poll's replace the
// certificate served; a pair that does not load (a garbage key, a key
// still to be written) keeps the one served, and logs an error once.
func TestCertificates_Reload(t *testing.T) {
	f := newTLSFiles(t)
	first := f.issue(t, "first")
	a, scheme, err := f.open()
	if err != nil || scheme != "https://" {
		t.Fatalf("openTLS: %q, %v", scheme, err)
	}
	c := a.certs
	want := func(step string, p tlstest.Pair) {
		t.Helper()
		if got := serving(a); got != p.Serial.String() {
			t.Fatalf("%s: serving serial %s, want %s (%s)\nlog:\n%s", step, got, p.Serial, p.Subject, f.logs)
		}
	}
	want("at start", first)

	second := f.issue(t, "second")
	c.reload(true) // SIGHUP
	want("after SIGHUP", second)
	if !strings.Contains(f.logs.String(), `msg="TLS certificate reloaded" subject="CN=second"`) {
		t.Errorf("no reload logged with the new subject:\n%s", f.logs)
	}

	third := f.issue(t, "third")
	c.reload(false)
	want("one poll after the change (the writer may not be done)", second)
	c.reload(false)
	want("two polls after the change", third)
	c.reload(false)
	want("a poll with nothing changed", third)

	if err := os.WriteFile(f.key, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.reload(true)
	want("after SIGHUP with a garbage key", third)
	c.reload(false)
	c.reload(false)
	if n := strings.Count(f.logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d errors logged for one broken pair, want 1:\n%s", n, f.logs)
	}

	// A half-written pair: the new certificate, the old key.
	fourth, err := f.ca.Issue("fourth")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.certFile, fourth.Cert, 0o644); err != nil {
		t.Fatal(err)
	}
	c.reload(false)
	c.reload(false)
	want("the new certificate without its key", third)
	if err := fourth.Write(f.certFile, f.key); err != nil {
		t.Fatal(err)
	}
	c.reload(false)
	c.reload(false)
	want("the key written too", fourth)

	// SIGHUP with nothing changed says so.
	c.reload(true)
	if !strings.Contains(f.logs.String(), `msg="TLS certificate unchanged"`) {
		t.Errorf("SIGHUP with the same files logged nothing:\n%s", f.logs)
	}
}

// tlsServer runs h as Run does with TLS: withDeadlines, the connection
// cap, App.serve. It returns the base URL and a client trusting the CA.
func tlsServer(t *testing.T, window time.Duration, h http.Handler) (string, *http.Client) {
	t.Helper()
	f := newTLSFiles(t)
	f.issue(t, "server")
	a, _, err := f.open()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: withDeadlines(h, window), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- a.serve(srv, limitConnections(ln, 8)) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.ca.Pool()}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return "https://" + ln.Addr().String(), &http.Client{Transport: tr}
}

// TestServeTLS_HTTP2: over TLS clients get HTTP/2; large bodies stream
// both ways; the progress deadlines still cut off a stalled upload and a
// client that stops reading, each on its own stream.
func TestServeTLS_HTTP2(t *testing.T) {
	const window = 300 * time.Millisecond
	const size = 24 << 20
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	type result struct {
		took time.Duration
		err  error
	}
	results := make(chan result, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		switch r.URL.Path {
		case "/echo-digest": // reads the whole body, answers its digest
			h := sha256.New()
			if _, err := io.Copy(h, r.Body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "%x", h.Sum(nil))
		case "/download":
			_, _ = w.Write(data)
		case "/stalled-upload":
			_, err := io.Copy(io.Discard, r.Body)
			results <- result{time.Since(start), err}
		case "/stalled-download":
			w.WriteHeader(http.StatusOK)
			var err error
			for i := 0; err == nil && i < 16; i++ { // far beyond the client's flow-control window
				_, err = w.Write(data)
			}
			results <- result{time.Since(start), err}
		}
	})
	// The large transfers run with a window no loaded machine (the race
	// detector, a parallel test run) stalls past; the stalls with a short one.
	base, client := tlsServer(t, window, h)
	bigBase, bigClient := tlsServer(t, 30*time.Second, h)

	t.Run("LargeUpload", func(t *testing.T) {
		resp, err := bigClient.Post(bigBase+"/echo-digest", "application/octet-stream", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || string(body) != fmt.Sprintf("%x", sha256.Sum256(data)) {
			t.Fatalf("POST of %d bytes: %s, %q; want HTTP/2 and the body's digest", size, resp.Proto, body)
		}
	})
	t.Run("LargeDownload", func(t *testing.T) {
		resp, err := bigClient.Get(bigBase + "/download")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || err != nil || !bytes.Equal(got, data) {
			t.Fatalf("GET: %s, %d bytes, %v; want HTTP/2 and %d bytes", resp.Proto, len(got), err, size)
		}
	})
	t.Run("StalledUpload", func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		go func() { _, _ = pw.Write([]byte("only this")) }()
		go func() {
			if resp, err := client.Post(base+"/stalled-upload", "application/octet-stream", pr); err == nil {
				resp.Body.Close()
			}
		}()
		select {
		case r := <-results:
			// The handler's read ends with the deadline itself, or, when
			// the HTTP/2 server resets the stream first, with the stream
			// error that carries it.
			timedOut := errors.Is(r.err, os.ErrDeadlineExceeded) || r.err != nil && strings.Contains(r.err.Error(), "i/o timeout")
			if !timedOut || r.took < window/2 || r.took > 10*window {
				t.Errorf("stalled HTTP/2 upload: %v after %s; want a deadline after about %s", r.err, r.took, window)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the stalled HTTP/2 upload was never cut off")
		}
	})
	t.Run("StalledDownload", func(t *testing.T) {
		resp, err := client.Get(base + "/stalled-download")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close() // never read
		select {
		case r := <-results:
			if r.err == nil {
				t.Errorf("a download nobody read completed after %s", r.took)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the HTTP/2 download nobody read was never cut off")
		}
		// The connection carries other streams still.
		resp2, err := client.Get(base + "/download")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp2.Body)
		resp2.Body.Close()
		if n != size {
			t.Errorf("GET after a stream was cut off: %d bytes, want %d", n, size)
		}
	})
}
