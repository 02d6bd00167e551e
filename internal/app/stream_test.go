package app

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/syncbuf"
)

// An S3 object's body is not a file: it goes out in 1 MiB writes watched
// by the client's acknowledged bytes (stream). These tests serve such a
// body (a bytes.Reader) through the wrappers as Run does.

// streamServer serves data with http.ServeContent from a reader that is
// not a file, and reports on done how long each handler ran.
func streamServer(t *testing.T, window time.Duration, logs io.Writer, data []byte) (string, chan time.Duration) {
	done := make(chan time.Duration, 4)
	srv := deadlineServer(t, window, logs, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
		done <- time.Since(start)
	}))
	return srv.Listener.Addr().String(), done
}

// dialSmallBuffer connects with a 4 KiB receive buffer, so that a client
// that does not read holds the server back after little data.
func dialSmallBuffer(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
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

func skipWithoutAcked(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the acknowledged bytes are Linux's TCP_INFO; elsewhere bodies go in metered pieces")
	}
}

// TestStream_Whole: the body arrives whole and in ranges, and the access
// log counts its bytes.
func TestStream_Whole(t *testing.T) {
	skipWithoutAcked(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 3<<16+5) // 3 MiB and 80 bytes
	var logs syncbuf.Buffer
	addr, done := streamServer(t, time.Second, &logs, data)
	for _, rng := range []string{"", "bytes=1000000-2500000"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr, nil)
		want := data
		if rng != "" {
			req.Header.Set("Range", rng)
			want = data[1000000:2500001]
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("GET %q: %d, %d bytes, %v; want %d bytes", rng, resp.StatusCode, len(got), err, len(want))
		}
		<-done
		// The handler signals before it returns, and the access log line
		// is written after: wait for it (bounded), then look.
		line := fmt.Sprintf("bytes_out=%d", len(want))
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), line) && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if !strings.Contains(logs.String(), line) {
			t.Errorf("GET %q: the access log does not count the body (%s):\n%s", rng, line, logs.String())
		}
	}
}

// TestStream_NeverRead: a client that never reads is cut off about a
// window after the kernel stopped taking bytes, and never gets the body.
func TestStream_NeverRead(t *testing.T) {
	skipWithoutAcked(t)
	const window = 300 * time.Millisecond
	data := bytes.Repeat([]byte{7}, 8<<20)
	addr, done := streamServer(t, window, io.Discard, data)
	c := dialSmallBuffer(t, addr)
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	select {
	case took := <-done:
		if took < window/2 {
			t.Errorf("cut off after %s, well before the window of %s", took, window)
		}
	case <-time.After(20 * window):
		t.Fatalf("a client that never reads held the handler for %s", 20*window)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _ := io.Copy(io.Discard, c); n >= int64(len(data)) {
		t.Errorf("the client still got the whole body (%d bytes) after being cut off", n)
	}
}

// TestStream_SlowReader: a client reading steadily but slowly gets the
// whole body over many windows, though each 1 MiB write takes it longer
// than a window to take: the watch sees its acknowledged bytes grow.
func TestStream_SlowReader(t *testing.T) {
	skipWithoutAcked(t)
	const window = 300 * time.Millisecond
	data := bytes.Repeat([]byte("slow"), 3<<18) // 3 MiB
	addr, _ := streamServer(t, window, io.Discard, data)
	c := dialSmallBuffer(t, addr)
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %v, %v", resp, err)
	}
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	start := time.Now()
	for { // 1.28 MiB/s: a 1 MiB write takes it about 0.8 s, over 2 windows
		n, err := io.ReadFull(resp.Body, buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("slow reader got %d bytes in %s, want %d", got.Len(), time.Since(start), len(data))
	}
}
