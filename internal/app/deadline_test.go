package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// deadlineServer serves h wrapped as Run wraps the handlers (withDeadlines
// outside the access log) on a listener capped as Run caps them; the
// access log goes to logs.
func deadlineServer(t *testing.T, window time.Duration, logs io.Writer, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(withDeadlines(observe(slog.New(slog.NewTextHandler(logs, nil)), nil, mainAPI, h), window))
	srv.Listener.Close()
	srv.Listener = limitConnections(ln, 8)
	srv.Config.ConnContext = withAcked
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestDeadlines_ServeFile: a file served with http.ServeContent through
// the wrappers arrives whole and in ranges, and the access log still
// counts its bytes (statusRecorder's ReadFrom reaches deadlineWriter's).
func TestDeadlines_ServeFile(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16+3) // 1 MiB and 48 bytes
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	srv := deadlineServer(t, time.Second, &logs, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, "", time.Time{}, f)
	}))
	for _, tc := range []struct {
		name, rng string
		want      []byte
	}{
		{"Whole", "", data},
		{"Range", "bytes=100000-300000", data[100000:300001]},
		{"Tail", "bytes=-20", data[len(data)-20:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			if tc.rng != "" {
				req.Header.Set("Range", tc.rng)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("GET %s: %d, %d bytes, %v; want %d bytes", tc.rng, resp.StatusCode, len(got), err, len(tc.want))
			}
		})
	}
	srv.Close() // the log lines are written once the handlers are done
	if want := fmt.Sprintf("bytes_out=%d", len(data)); !strings.Contains(logs.String(), want) {
		t.Errorf("access log does not count the whole file (%s):\n%s", want, logs.String())
	}
}

// TestDeadlines_ContextAfterBody: a handler that keeps working for
// several windows after reading its body to EOF is not cancelled (net/http
// watches the connection then, and a read deadline left behind would
// cancel the request).
func TestDeadlines_ContextAfterBody(t *testing.T) {
	const window = 200 * time.Millisecond
	srv := deadlineServer(t, window, io.Discard, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(3 * window):
		case <-r.Context().Done():
			http.Error(w, "cancelled after the body", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "done")
	}))
	for i := range 2 { // the second on the same keep-alive connection
		resp, err := srv.Client().Post(srv.URL, "application/octet-stream", strings.NewReader(strings.Repeat("x", 100000)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "done" {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
}

// TestDeadlines_HandlerReadDeadline: a read deadline the handler sets
// (as the AWS JSON layer does) and the progress deadline combine, the
// earlier applying.
func TestDeadlines_HandlerReadDeadline(t *testing.T) {
	for _, tc := range []struct {
		name          string
		window, limit time.Duration
		min, max      time.Duration
	}{
		{"HandlerEarlier", 5 * time.Second, 200 * time.Millisecond, 150 * time.Millisecond, 2 * time.Second},
		{"WindowEarlier", 300 * time.Millisecond, time.Hour, 250 * time.Millisecond, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type result struct {
				took time.Duration
				err  error
			}
			got := make(chan result, 1)
			srv := deadlineServer(t, tc.window, io.Discard, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				start := time.Now()
				if err := http.NewResponseController(w).SetReadDeadline(start.Add(tc.limit)); err != nil {
					t.Errorf("SetReadDeadline through the wrappers: %v", err)
				}
				_, err := io.Copy(io.Discard, r.Body)
				got <- result{time.Since(start), err}
			}))
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly this")
			select {
			case r := <-got:
				if !errors.Is(r.err, os.ErrDeadlineExceeded) || r.took < tc.min || r.took > tc.max {
					t.Errorf("stalled body read: %v after %s; want a deadline between %s and %s", r.err, r.took, tc.min, tc.max)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the stalled body was never cut off")
			}
		})
	}
}

// TestLimitListener: at the cap Accept waits until a connection closes
// (a second Close gives nothing more back), and Close ends a waiting
// Accept.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := limitConnections(inner, 1)
	accepted := make(chan net.Conn, 4)
	acceptErr := make(chan error, 1)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first := <-accepted
	select {
	case <-accepted:
		t.Fatal("a second connection was accepted at a cap of 1")
	case <-time.After(200 * time.Millisecond):
	}
	first.Close()
	first.Close()
	second := <-accepted
	select {
	case <-accepted:
		t.Fatal("closing one connection twice freed two slots")
	case <-time.After(200 * time.Millisecond):
	}
	if _, ok := second.(io.ReaderFrom); !ok {
		t.Error("an accepted connection lost ReadFrom (sendfile)")
	}
	l.Close()
	select {
	case err := <-acceptErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end an Accept waiting for a slot")
	}
	second.Close()
}
