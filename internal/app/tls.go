package app

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync/atomic"
	"syscall"
	"time"
)

// certPoll is how often the certificate files are checked for a change
// (their inode, size and modification time: two stats, nothing read
// unless one changed). A certificate renewed on disk is served within
// two polls; SIGHUP reloads at once.
const certPoll = 2 * time.Second

// maxStreams caps the requests one HTTP/2 connection carries at once:
// over HTTP/2, MaxConnections × maxStreams bounds the requests in flight,
// as MaxConnections alone does over HTTP/1.1. Registry clients move a few
// layers at a time (docker: 3 down, 5 up), far below it.
const maxStreams = 100

// certificates is the certificate both listeners serve, read from
// --tls-cert and --tls-key. Every handshake takes the current one
// (tls.Config.GetCertificate), so a reload applies to new connections at
// once, without a restart; open connections keep the one they began with.
//
// A reload that fails (a file missing, unreadable, half written, a key
// that does not match) keeps the certificate being served and logs an
// error: nothing done to the files takes the server down.
type certificates struct {
	certFile, keyFile string
	// certFrom and keyFrom name where the paths were configured (the
	// flag, variable or config file key), for errors.
	certFrom, keyFrom string
	log               *slog.Logger
	cur               atomic.Pointer[tls.Certificate]
	// seen is the files as last read, loaded or not; pending, when not
	// nil, a change the last poll saw, read once a poll finds it
	// unchanged, so that a writer of the pair gets a poll's time to
	// finish. Only the watch goroutine uses them once serving.
	seen    filesState
	pending *filesState
}

// openTLS loads --tls-cert and --tls-key when set and returns the scheme
// of the URLs ecrd advertises for itself: "https://" with TLS, "http://"
// without.
func (a *App) openTLS() (string, error) {
	cfg := a.cfg.Server
	if cfg.TLSCert == "" {
		if cfg.TLSAtProxy {
			return "https://", nil
		}
		return "http://", nil
	}
	c := &certificates{certFile: cfg.TLSCert, keyFile: cfg.TLSKey, log: a.log,
		certFrom: a.cfg.Origin("tls-cert"), keyFrom: a.cfg.Origin("tls-key")}
	c.seen = c.stat()
	cert, err := c.load()
	if err != nil {
		return "", err
	}
	c.cur.Store(cert)
	a.certs = c
	a.log.Info("TLS certificate loaded", certAttrs(cert)...)
	return "https://", nil
}

// serve runs srv on ln until it is shut down: HTTPS, with HTTP/2 and
// HTTP/1.1 offered by ALPN, when --tls-cert is set; plain HTTP/1.1
// otherwise. The connection cap and the progress deadlines apply the
// same either way: ln is capped beneath the TLS layer, and under HTTP/2
// http.ResponseController's deadlines are the stream's own. Files are
// not sent with sendfile over TLS: the bytes must be encrypted on the way.
func (a *App) serve(srv *http.Server, ln net.Listener) error {
	if a.certs == nil {
		return srv.Serve(ln)
	}
	srv.TLSConfig = &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return a.certs.cur.Load(), nil },
	}
	srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: maxStreams}
	// ServeTLS completes the handshake within the server's
	// ReadHeaderTimeout; the certificate comes from GetCertificate.
	return srv.ServeTLS(ln, "", "")
}

// watchCertificates reloads the certificate on SIGHUP and when its files
// change, until the returned stop is called. Without TLS it does nothing,
// and SIGHUP keeps its default effect.
func (a *App) watchCertificates() (stop func()) {
	c := a.certs
	if c == nil {
		return func() {}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(certPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-hup:
				c.reload(true)
			case <-t.C:
				c.reload(false)
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
		<-exited
	}
}

// reload reads the files again: on SIGHUP (forced) whatever their state,
// on a poll when they changed and have stayed so since the last poll.
func (c *certificates) reload(forced bool) {
	st := c.stat()
	if !forced {
		if st.equal(c.seen) {
			return
		}
		if c.pending == nil || !st.equal(*c.pending) {
			c.pending = &st // changing: give the writer until the next poll
			return
		}
	}
	c.seen, c.pending = st, nil
	next, err := c.load()
	if err != nil {
		c.log.Error("TLS certificate not reloaded: still serving the previous one", "err", err)
		return
	}
	old := c.cur.Load()
	if slices.EqualFunc(old.Certificate, next.Certificate, bytes.Equal) {
		if forced {
			c.log.Info("TLS certificate unchanged", certAttrs(old)...)
		}
		return
	}
	c.cur.Store(next)
	c.log.Info("TLS certificate reloaded", certAttrs(next)...)
}

// load reads and checks the pair. Its errors name the flag whose file is
// wrong.
func (c *certificates) load() (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(c.certFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.certFrom, err)
	}
	keyPEM, err := os.ReadFile(c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.keyFrom, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s %s and %s %s: %w", c.certFrom, c.certFile, c.keyFrom, c.keyFile, err)
	}
	if cert.Leaf == nil { // X509KeyPair fills it in unless GODEBUG x509keypairleaf=0
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%s %s: %w", c.certFrom, c.certFile, err)
		}
	}
	if now := time.Now(); now.After(cert.Leaf.NotAfter) || now.Before(cert.Leaf.NotBefore) {
		// Served all the same: refusing would take the server down over
		// a renewal that is late, and clients say what is wrong.
		c.log.Warn("TLS certificate is not valid now", certAttrs(&cert)...)
	}
	return &cert, nil
}

// certAttrs are what the log says of a certificate.
func certAttrs(c *tls.Certificate) []any {
	return []any{"subject", c.Leaf.Subject.String(), "serial", c.Leaf.SerialNumber.String(),
		"not_before", c.Leaf.NotBefore.UTC().Format(time.RFC3339), "not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339)}
}

// filesState is the certificate and key files as stat(2) saw them; a nil
// FileInfo is a file that could not be seen.
type filesState struct{ cert, key os.FileInfo }

func (c *certificates) stat() filesState {
	var st filesState
	st.cert, _ = os.Stat(c.certFile) // follows symlinks: a swapped link is a change
	st.key, _ = os.Stat(c.keyFile)
	return st
}

// equal is true when neither file changed: the same inode, size and
// modification time.
func (s filesState) equal(o filesState) bool {
	return sameFile(s.cert, o.cert) && sameFile(s.key, o.key)
}

func sameFile(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
