package oci

import (
	"errors"
	"io"
	"net/http"
	"os"

	"github.com/ecrd/ecrd/internal/registry"
)

// requestBody reads a request's body and remembers why it stopped, so that
// a body the client cut short, sent too slowly or abandoned is answered as
// the client's fault (a 4xx, not logged as an error) rather than as a
// failure of the server.
type requestBody struct {
	r   io.Reader
	req *http.Request
	err error // the first read error other than io.EOF
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// fault returns the answer to err, an operation's failure while it read
// the body: a domain or storage error as it is (they say more), else the
// client's fault when the body failed or the client has gone, else err.
func (b *requestBody) fault(err error) error {
	var de *registry.Error
	var tooLarge *http.MaxBytesError
	_, storage := registry.AsStorageError(err)
	switch {
	case err == nil || errors.As(err, &de) || storage:
		return err
	case errors.As(b.err, &tooLarge):
		return b.err
	case errors.Is(b.err, os.ErrDeadlineExceeded):
		return newError(bodyTimeout, "The request body stopped arriving; send it again")
	case b.err != nil || b.req.Context().Err() != nil:
		// Usually a client that went away: the answer reaches no one, but
		// a client still there learns to send the body again.
		return newError(blobUploadInvalid, "The request body ended before the bytes it declared; send it again")
	}
	return err
}
