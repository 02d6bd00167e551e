package awsjson

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/ecrd/ecrd/internal/budget"
)

// Bodies bounds what a Service's request bodies may hold, so that no number
// of requests, signed or not, can exhaust the server's memory or disk. A
// body must be received whole before its signature can be checked (the
// signature covers its hash), so these bytes are held on behalf of callers
// not yet known.
//
// A body is received into memory when Memory has room for it (and for
// decoding it), else into an unlinked file in SpoolDir, hashed as it
// arrives, within Pending. Once authenticated, a spooled body is read back
// into memory when Memory has room. A request that finds no room within
// Wait is answered ThrottlingException, which the AWS SDKs retry.
// Bodies of at most SmallBody bytes are always read into memory: they are
// bounded by the number of connections instead.
type Bodies struct {
	Memory   *budget.Budget
	Pending  *budget.Budget
	SpoolDir string
	Wait     time.Duration
}

// SmallBody is the size up to which a body is read into memory without
// taking from the budgets: most requests are a few hundred bytes.
const SmallBody = 64 << 10

// memoryCost is what holding and decoding a body of n bytes costs in
// memory: the body, and the decoded copy of its largest member (a layer
// part's bytes, a manifest's text) at most as large again.
func memoryCost(n int64) int64 { return 2 * n }

// heldBody is a request body received whole: in memory, or spooled.
type heldBody struct {
	sum  [32]byte // SHA-256 of the body, which the signature covers
	data []byte   // the body, once in memory
	file *os.File // the spooled body, unlinked; nil when in memory
	size int64
	// memory and pending are what the body holds of each budget.
	memory, pending int64
	bodies          *Bodies
}

// throttled answers a request for which there is no room.
func throttled() *WireError {
	return &WireError{Type: typeThrottling, Status: http.StatusBadRequest,
		Message: "Rate exceeded: ecrd is holding as many request bodies as it is configured to; retry"}
}

// receive reads the whole body once, within limit bytes and BodyTimeout,
// into memory or a spool file (see Bodies), and hashes it.
func (s *Service) receive(ctx context.Context, w http.ResponseWriter, r *http.Request, limit int64) (*heldBody, *WireError) {
	tooLarge := &WireError{Type: typeTooLarge, Status: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("Request body is larger than the limit of %d bytes", limit)}
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	declared := r.ContentLength
	if declared < 0 {
		declared = limit // chunked: it may be as large as allowed
	}
	h := &heldBody{bodies: s.Bodies}
	toFile := false
	if b := s.Bodies; b != nil && declared > SmallBody {
		var ok bool
		if h.memory, ok = b.Memory.TryAcquire(memoryCost(declared)); !ok {
			wctx, cancel := context.WithTimeout(ctx, b.Wait)
			n, err := b.Pending.Acquire(wctx, declared)
			cancel()
			if err != nil {
				return nil, throttled()
			}
			h.pending, toFile = n, true
		}
	}
	timeout := s.BodyTimeout
	if timeout <= 0 {
		timeout = DefaultBodyTimeout
	}
	// Errors mean the writer has no deadlines (a ResponseRecorder, a
	// wrapper without Unwrap): the body is then bounded by size only.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(timeout))
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()

	body := http.MaxBytesReader(w, r.Body, limit)
	var err error
	if toFile {
		err = h.spool(body, s.Bodies.SpoolDir)
	} else {
		prealloc := r.ContentLength
		if h.memory == 0 {
			// Unbudgeted: a client may declare 32 MiB and send one
			// byte, so a declared size is not allocated ahead.
			prealloc = min(prealloc, SmallBody)
		}
		err = h.read(body, prealloc)
	}
	var maxErr *http.MaxBytesError
	switch {
	case err == nil:
		return h, nil
	case errors.As(err, &maxErr):
		h.release()
		return nil, tooLarge
	case errors.Is(err, os.ErrDeadlineExceeded):
		h.release()
		// The server's own limit, or the listener's rule that a body keep
		// moving: either way it stopped arriving in time.
		return nil, &WireError{Type: typeSerialization,
			Message: fmt.Sprintf("Request body was not received in time (it must arrive within %s and keep moving)", timeout)}
	case errors.Is(err, errSpool):
		h.release()
		s.logger().ErrorContext(ctx, "awsjson: spooling a request body", "error", err)
		return nil, s.serverError(RequestInfoFrom(ctx).RequestID)
	}
	h.release()
	return nil, &WireError{Type: typeSerialization, Message: "Request body could not be read"}
}

// read reads the body into memory, allocating prealloc bytes ahead (the
// budget already holds room for a declared length); beyond that the buffer
// grows as bytes arrive.
func (h *heldBody) read(body io.Reader, prealloc int64) error {
	var buf bytes.Buffer
	if prealloc > 0 {
		buf.Grow(int(prealloc) + bytes.MinRead) // room for the read that sees EOF
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return err
	}
	h.data, h.size = buf.Bytes(), int64(buf.Len())
	h.sum = sha256.Sum256(h.data)
	return nil
}

// errSpool marks a failure of the spool file itself (the server's).
var errSpool = errors.New("spool file")

// spool writes the body to an unlinked file in dir, hashing it on the way.
func (h *heldBody) spool(body io.Reader, dir string) error {
	f, err := os.CreateTemp(dir, "body-*")
	if err != nil {
		return fmt.Errorf("%w: %w", errSpool, err)
	}
	// Unlinked at once: a crash leaves nothing behind to clean up.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return fmt.Errorf("%w: %w", errSpool, err)
	}
	h.file = f
	sum := sha256.New()
	n, err := io.CopyBuffer(spoolWriter{f, sum}, body, make([]byte, 64<<10))
	if err != nil {
		return err // a read error (the client's) or a write error (ours)
	}
	h.size = n
	copy(h.sum[:], sum.Sum(nil))
	return nil
}

// spoolWriter writes to the spool file and the hash; its write errors are
// the server's.
type spoolWriter struct {
	f *os.File
	h hash.Hash
}

func (w spoolWriter) Write(p []byte) (int, error) {
	w.h.Write(p)
	n, err := w.f.Write(p)
	if err != nil {
		err = fmt.Errorf("%w: %w", errSpool, err)
	}
	return n, err
}

// bytes returns the body in memory, reading a spooled one back once the
// memory budget has room for it (waiting up to Bodies.Wait).
func (h *heldBody) bytes(ctx context.Context) ([]byte, *WireError) {
	if h.file == nil {
		return h.data, nil
	}
	wctx, cancel := context.WithTimeout(ctx, h.bodies.Wait)
	n, err := h.bodies.Memory.Acquire(wctx, memoryCost(h.size))
	cancel()
	if err != nil {
		return nil, throttled()
	}
	h.memory = n
	data := make([]byte, h.size)
	if _, err := h.file.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, &WireError{Type: typeServer, Status: http.StatusInternalServerError,
			Message: "An internal error occurred reading the request body back"}
	}
	h.data = data
	h.file.Close()
	h.file = nil
	h.bodies.Pending.Release(h.pending)
	h.pending = 0
	return data, nil
}

// release gives back what the body holds.
func (h *heldBody) release() {
	if h == nil {
		return
	}
	if h.file != nil {
		h.file.Close()
		h.file = nil
	}
	h.data = nil
	if h.bodies != nil {
		if h.memory > 0 {
			h.bodies.Memory.Release(h.memory)
		}
		if h.pending > 0 {
			h.bodies.Pending.Release(h.pending)
		}
	}
	h.memory, h.pending = 0, 0
}
