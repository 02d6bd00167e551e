package main

import (
	"crypto/sha256"
	"io"
	"net"
	"os"
	"time"
)

// sha256Limit is how fast one core hashes: every pushed byte is hashed by
// the server, so a single-stream push cannot beat it.
func sha256Limit(n int64) float64 {
	buf := make([]byte, 1<<20)
	h := sha256.New()
	start := time.Now()
	for done := int64(0); done < n; done += int64(len(buf)) {
		h.Write(buf)
	}
	_ = h.Sum(nil)
	return mbps(n, time.Since(start))
}

// loopbackLimit is how fast this machine moves bytes through a loopback TCP
// connection with io.Copy: the network ceiling for a push or a pull.
func loopbackLimit(n int64) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		_, err = io.Copy(io.Discard, conn)
		done <- err
	}()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := io.Copy(conn, io.LimitReader(zeros{}, n)); err != nil {
		conn.Close()
		return 0, err
	}
	conn.Close()
	if err := <-done; err != nil {
		return 0, err
	}
	return mbps(n, time.Since(start)), nil
}

// diskLimit is how fast the disk under dir takes n bytes written in one
// stream and fsynced: the ceiling of a push, which ecrd makes durable
// before acknowledging it. The stream starts its writeback every 8 MiB,
// as ecrd's blob store does, so that the limit is of the disk and not of
// the page cache's flushing; the best of runs tries, since a virtual
// disk's rate moves from one second to the next.
func diskLimit(dir string, n int64, runs int) (float64, error) {
	best := 0.0
	for range max(runs, 1) {
		v, err := diskOnce(dir, n)
		if err != nil {
			return 0, err
		}
		best = max(best, v)
	}
	return best, nil
}

func diskOnce(dir string, n int64) (float64, error) {
	f, err := os.CreateTemp(dir, "disk-limit-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 1<<20)
	const chunk = 8 << 20
	start := time.Now()
	flushed := int64(0)
	for done := int64(0); done < n; {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		done += int64(len(buf))
		if done-flushed >= chunk {
			startWriteback(f, flushed, done-flushed)
			flushed = done
		}
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return mbps(n, time.Since(start)), nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
