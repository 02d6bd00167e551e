// Package sdkhttp is the HTTP client ecrd's own tests and benchmarks give
// the AWS SDK for Go v2: the standard transport, minus one race in the SDK.
//
// The SDK wraps each request body in a closer (smithy-go's safe reader)
// and closes it as soon as the response arrives. net/http, after sending
// Content-Length bytes, copies the rest of the body to io.Discard to check
// that nothing is left; that copy uses the body's WriteTo, which the SDK's
// wrapper answers with io.EOF as an error once closed. When a fast server
// answers before that final check, the transport takes the EOF for a
// failed write, closes the connection and the response being read with it:
// "deserialization failed ... use of closed network connection", about one
// call in a hundred on loopback, whatever the server. Hiding WriteTo sends
// the check through Read, where a closed body reads as a clean EOF.
package sdkhttp

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
)

// Client returns an *http.Client for the SDK's HTTPClient option that keeps
// up to idlePerHost idle connections per host (net/http's default if 0).
func Client(idlePerHost int) *http.Client { return ClientTLS(idlePerHost, nil) }

// ClientTLS is Client checking servers' certificates against roots (a
// test's own certificate authority; nil: the system's). Like net/http's
// default transport it speaks HTTP/2 to a server that offers it.
func ClientTLS(idlePerHost int, roots *x509.CertPool) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if idlePerHost > 0 {
		t.MaxIdleConnsPerHost = idlePerHost
	}
	if roots != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	return &http.Client{Transport: readOnlyBodies{t}}
}

type readOnlyBodies struct{ next *http.Transport }

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (r readOnlyBodies) CloseIdleConnections() { r.next.CloseIdleConnections() }

// RoundTrip hides every interface of the body but Read and Close.
func (r readOnlyBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.Clone(req.Context())
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	return r.next.RoundTrip(req)
}
