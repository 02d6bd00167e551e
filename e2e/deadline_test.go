package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/config"
)

// window is the stall timeout (and in TestDeadlines_SlowHeaders the
// header timeout) of the servers below: short, so that cut-offs show
// within seconds.
const window = time.Second

// dialRcvBuf connects to addr with a receive buffer of rcvbuf bytes (0:
// the kernel's), so that a client that reads slowly or not at all holds
// back the server after little data.
func dialRcvBuf(t *testing.T, addr string, rcvbuf int) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		if rcvbuf == 0 {
			return nil
		}
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		})
		return errors.Join(err, serr)
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// hostOf is the host:port of a base URL.
func hostOf(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// cutOff waits up to limit for the server to close c and returns how
// long that took; it fails the test if the server keeps the connection
// or answers with a success.
func cutOff(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(limit))
	var answer bytes.Buffer
	_, err := io.Copy(&answer, c) // an answer, if any, then EOF or reset
	took := time.Since(start)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the connection was still open after %s", limit)
	}
	if bytes.HasPrefix(answer.Bytes(), []byte("HTTP/1.1 2")) {
		t.Fatalf("cut off with a success: %q", answer.Bytes())
	}
	return took
}

// openFDs counts this process's open file descriptors: the server runs in
// it, so its connections and blob files are among them.
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(fds)
}

// waitFDs polls until cond holds of the open descriptor count, within
// limit, and returns how long it took.
func waitFDs(t *testing.T, what string, limit time.Duration, cond func(int) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for n := openFDs(t); !cond(n); n = openFDs(t) {
		if time.Since(start) > limit {
			t.Fatalf("%s: %d file descriptors open after %s", what, n, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// TestDeadlines: a request body that stalls or trickles is cut off after
// about the stall window, one that moves steadily is not; a public blob
// download whose client never reads is cut off and lets go of its file,
// one whose client reads steadily arrives whole. Not parallel: it counts
// the process's file descriptors.
func TestDeadlines(t *testing.T) {
	s := startServer(t, "", func(c *config.Config) { c.Server.StallTimeout = window })
	priv := s.client()
	createRepos(t, priv, "slow/repo")
	auth := privateBasic(t, priv)
	main := hostOf(t, s.URL)
	manifestPut := func(c net.Conn) {
		fmt.Fprintf(c, "PUT /v2/slow/repo/manifests/v1 HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n"+
			"Content-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 2000\r\n\r\n{\"schemaVersion\":2,", main, auth)
	}

	t.Run("StalledManifestPut", func(t *testing.T) {
		c := dialRcvBuf(t, main, 0)
		manifestPut(c)
		if took := cutOff(t, c, 5*window); took < window*8/10 {
			t.Errorf("cut off after %s, before the window of %s", took, window)
		}
	})

	t.Run("TricklingManifestPut", func(t *testing.T) {
		c := dialRcvBuf(t, main, 0)
		manifestPut(c)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(300 * time.Millisecond):
				}
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
		if took := cutOff(t, c, 5*window); took < window*8/10 {
			t.Errorf("cut off after %s, before the window of %s", took, window)
		}
	})

	// The AWS JSON layer bounds a body to 2 minutes itself; the stall
	// window, shorter, still applies.
	t.Run("StalledAPIBody", func(t *testing.T) {
		id := initiate(t, priv, "slow/repo")
		body := fmt.Appendf(nil, `{"repositoryName":"slow/repo","uploadId":%q,"partFirstByte":0,"partLastByte":99999,"layerPartBlob":"%s"}`,
			id, bytes.Repeat([]byte("QUJD"), 33333))
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.UploadLayerPart")
		signRequest(t, req, body, testCreds, "us-east-1", time.Now())
		c := dialRcvBuf(t, main, 0)
		var head bytes.Buffer
		if err := req.Write(&head); err != nil {
			t.Fatal(err)
		}
		c.Write(head.Bytes()[:head.Len()-len(body)/2]) // half the body, then nothing
		if took := cutOff(t, c, 5*window); took < window*8/10 {
			t.Errorf("cut off after %s, before the window of %s", took, window)
		}
	})

	t.Run("SlowSteadyUpload", func(t *testing.T) {
		data := layerBytes(512<<10, 91)
		resp, body := v2Do(t, http.MethodPost, s.URL+"/v2/slow/repo/blobs/uploads/", auth, "", nil)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST blobs/uploads/: %d %s", resp.StatusCode, body)
		}
		loc, err := url.Parse(s.URL)
		if err == nil {
			loc, err = loc.Parse(resp.Header.Get("Location"))
		}
		if err != nil {
			t.Fatal(err)
		}
		q := loc.Query()
		q.Set("digest", digestOf(data))
		loc.RawQuery = q.Encode()
		pr, pw := io.Pipe()
		go func() { // 32 KiB per 200 ms: 3.2 s, several windows
			for off := 0; off < len(data); off += 32 << 10 {
				time.Sleep(200 * time.Millisecond)
				if _, err := pw.Write(data[off : off+32<<10]); err != nil {
					return
				}
			}
			pw.Close()
		}()
		req, _ := http.NewRequestWithContext(ctx(t), http.MethodPut, loc.String(), pr)
		req.ContentLength = int64(len(data))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/octet-stream")
		start := time.Now()
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("slow PUT ?digest=: %v", err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("slow PUT ?digest= after %s: %d %s, want 201", time.Since(start), resp.StatusCode, body)
		}
	})

	// Public blobs: anyone may open them, so anyone could hold them.
	pc := s.publicClient()
	createPublicRepos(t, pc, "big/blob")
	pub := publicURL(t, s)
	data := layerBytes(2*mib, 92) // far more than a client that never reads lets through
	b := v2PushBlob(t, pub, publicBasic(t, pc), publicAlias+"/big/blob", data)
	blobGet := fmt.Sprintf("GET /v2/%s/big/blob/blobs/%s HTTP/1.1\r\nHost: %s\r\n\r\n", publicAlias, b.Digest, hostOf(t, pub))

	t.Run("PublicBlobNeverRead", func(t *testing.T) {
		http.DefaultClient.CloseIdleConnections()
		time.Sleep(100 * time.Millisecond)
		base := openFDs(t)
		c := dialRcvBuf(t, hostOf(t, pub), 4<<10)
		if _, err := io.WriteString(c, blobGet); err != nil {
			t.Fatal(err)
		}
		// This client's socket, the server's and the blob file.
		waitFDs(t, "opening the blob", 5*time.Second, func(n int) bool { return n >= base+3 })
		took := waitFDs(t, "a client that never reads", 6*window, func(n int) bool { return n <= base+1 })
		if took < window/2 {
			t.Errorf("the server let go after %s, well before the window of %s", took, window)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _ := io.Copy(io.Discard, c)
		if n >= int64(len(data)) {
			t.Errorf("the client still got the whole blob (%d bytes) after being cut off", n)
		}
	})

	t.Run("PublicBlobSlowReader", func(t *testing.T) {
		c := dialRcvBuf(t, hostOf(t, pub), 0)
		if _, err := io.WriteString(c, blobGet); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET blob: %v, %v", resp, err)
		}
		var got bytes.Buffer
		buf := make([]byte, 64<<10)
		start := time.Now()
		// 640 KiB/s, over several windows: above the least a download may
		// move per window (256 KiB: the kernel reports a reader's progress
		// each time it has taken half of TCP_NOTSENT_LOWAT), with room.
		for {
			n, err := io.ReadFull(resp.Body, buf)
			got.Write(buf[:n])
			if err != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("slow reader got %d bytes in %s, want the %d of the blob", got.Len(), time.Since(start), len(data))
		}
	})
}

// TestDeadlines_SlowHeaders: on both listeners, a client that sends its
// headers a line at a time is cut off after the header timeout.
func TestDeadlines_SlowHeaders(t *testing.T) {
	s := startServer(t, "", func(c *config.Config) { c.Server.HeaderTimeout = window })
	for _, l := range []struct{ name, addr string }{{"Main", hostOf(t, s.URL)}, {"Public", publicHost(s)}} {
		t.Run(l.name, func(t *testing.T) {
			c := dialRcvBuf(t, l.addr, 0)
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
				for {
					select {
					case <-stop:
						return
					case <-time.After(200 * time.Millisecond):
					}
					if _, err := io.WriteString(c, "X-Slow: y\r\n"); err != nil {
						return
					}
				}
			}()
			if took := cutOff(t, c, 5*window); took < window*8/10 {
				t.Errorf("cut off after %s, before the header timeout of %s", took, window)
			}
		})
	}
}

// TestDeadlines_ConnectionCap: at a cap of 2 connections per listener, two
// idle keep-alive connections hold both slots; a third is served only
// once one of them closes.
func TestDeadlines_ConnectionCap(t *testing.T) {
	s := startServer(t, "", func(c *config.Config) { c.Server.MaxConnections = 2 })
	for _, l := range []struct{ name, addr string }{{"Main", hostOf(t, s.URL)}, {"Public", publicHost(s)}} {
		t.Run(l.name, func(t *testing.T) {
			healthz := func(c net.Conn, wait time.Duration) error {
				_ = c.SetDeadline(time.Now().Add(wait))
				if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					return err
				}
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			}
			first, second := dialRcvBuf(t, l.addr, 0), dialRcvBuf(t, l.addr, 0)
			for i, c := range []net.Conn{first, second} {
				if err := healthz(c, 5*time.Second); err != nil {
					t.Fatalf("connection %d: %v", i+1, err)
				}
			}
			third := dialRcvBuf(t, l.addr, 0) // the kernel completes the handshake
			if err := healthz(third, 500*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("third connection at the cap: %v, want no answer", err)
			}
			first.Close()
			// The request already sent is answered once a slot frees.
			_ = third.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(third), nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("third connection after one closed: %v, %v", resp, err)
			}
			resp.Body.Close()
		})
	}
}
