package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestResource_UnsignedBodyNotRead opens connections that declare a 32 MiB
// body, send one byte of it and no Authorization: each must be refused
// from its headers alone, promptly, and together they must not make the
// server hold their declared sizes.
func TestResource_UnsignedBodyNotRead(t *testing.T) {
	s := startServer(t, "")
	addr := strings.TrimPrefix(s.URL, "http://")
	const conns = 16

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	open := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
		_, err = fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.1\r\n"+
			"X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories\r\nContent-Length: %d\r\n\r\n{",
			addr, 32<<20)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	for i, c := range open {
		if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("connection %d: no answer (the server is waiting for the body?): %v", i, err)
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
			t.Errorf("connection %d: %d %s %s, want 400 MissingAuthenticationTokenException",
				i, res.StatusCode, res.Header.Get("X-Amzn-Errortype"), body)
		}
	}

	// Measured with the connections still open: what they hold now is
	// what an attacker could keep pinned.
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew >= 64<<20 {
		t.Errorf("HeapInuse grew by %d MiB for %d unsigned requests, want < 64 MiB", grew>>20, conns)
	}
}

// TestResource_SmallOperationBodyLimit sends a signed DescribeRepositories
// whose 2 MiB body is junk members: it is refused by size, with its length
// declared or chunked, rather than parsed.
func TestResource_SmallOperationBodyLimit(t *testing.T) {
	s := startServer(t, "")
	var b bytes.Buffer
	b.WriteString("{")
	for i := 0; b.Len() < 2<<20; i++ {
		fmt.Fprintf(&b, `"junk%d":"%s",`, i, strings.Repeat("x", 1000))
	}
	b.WriteString(`"maxResults":1}`)
	body := b.Bytes()

	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("Chunked=%v", chunked), func(t *testing.T) {
			var r io.Reader = bytes.NewReader(body)
			if chunked {
				r = io.MultiReader(r) // hides the length: sent chunked
			}
			req, err := http.NewRequest(http.MethodPost, s.URL+"/", r)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
			signRequest(t, req, body, testCreds, "us-east-1", time.Now())
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			got, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusRequestEntityTooLarge ||
				res.Header.Get("X-Amzn-Errortype") != "RequestEntityTooLargeException" {
				t.Errorf("got %d %s %s, want 413 RequestEntityTooLargeException",
					res.StatusCode, res.Header.Get("X-Amzn-Errortype"), got)
			}
		})
	}
}
