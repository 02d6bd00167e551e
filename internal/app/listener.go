package app

import (
	"errors"
	"io"
	"net"
	"sync"
)

// limitConnections caps the connections open at once on l at n. At the
// cap Accept waits, so further clients queue in the kernel's backlog
// instead of taking file descriptors; a slot frees when a connection
// closes. Every open connection counts, idle keep-alive ones included:
// net/http closes those after the server's IdleTimeout.
//
// It is golang.org/x/net/netutil.LimitListener written out, with two
// differences that matter here: the connections it returns keep the TCP
// connection's ReadFrom (so net/http still sends blobs with sendfile) and
// CloseWrite (so net/http can still half-close before closing); and they
// hold little unsent data in the kernel (see limitUnsent).
func limitConnections(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	// slots holds one token per open connection.
	slots chan struct{}
	// closed is closed by Close, so that an Accept waiting for a slot
	// returns (http.Server.Shutdown closes the listener to stop Serve).
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	limitUnsent(c)
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

// maxUnsent bounds the bytes written to a connection but not yet sent
// (TCP_NOTSENT_LOWAT). Without it the kernel grows a socket's send buffer
// to megabytes and wakes a blocked writer only once a third of it has
// drained: a slow client would look stalled to the write deadlines of
// withDeadlines, and each stalled client would pin megabytes of kernel
// memory. With it a blocked write resumes once the client has taken
// maxUnsent/2 bytes. Bytes in flight are not counted, so it does not limit
// throughput on long, fast paths; the cost is more wake-ups, which at
// 128 KiB took a sixth off a loopback pull, and at 512 KiB nothing
// measurable.
const maxUnsent = 512 << 10

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitedConn gives its slot back when closed, once however often Close
// is called.
type limitedConn struct {
	net.Conn
	releaseOnce sync.Once
	release     func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.releaseOnce.Do(c.release)
	return err
}

// ReadFrom keeps the underlying connection's ReadFrom: net/http looks for
// it on the connection to send files with sendfile.
func (c *limitedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// CloseWrite keeps the underlying connection's half-close, which net/http
// uses to let a client read an answer before the connection goes.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// writerOnly hides every method of a writer but Write, so that io.Copy
// into it does not call back into a ReadFrom that delegates to io.Copy.
type writerOnly struct{ io.Writer }
