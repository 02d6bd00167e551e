package app

import (
	"io"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"
)

// minProgress is how many bytes a request or response body must move per
// stall window (unless less remains): 16 KiB per 30 s, the default
// window, is about 0.5 KiB/s, below any link a registry client pushes or
// pulls over, yet it cuts off a client that sends a byte now and then to
// hold a connection. A blocked write resumes only once the kernel has
// room again, after the client took up to maxUnsent/2 bytes, so a
// download needs that much (256 KiB) per window.
const minProgress = 16 << 10

// withDeadlines bounds how long a request may wait on its client, by
// progress rather than by total time, so that a slow but moving 2 GiB
// push or pull succeeds while a stalled or trickling one is cut off.
//
// The rule, for the request body and the response body alike: for every
// minProgress bytes moved (or the rest of the body, when less remains)
// the server waits on the client for at most window. Only time spent
// waiting in a Read of the body or a Write to the client counts; time the
// handler spends on its own work does not. The deadlines are the
// connection's own (http.ResponseController), so a Read or Write past its
// budget fails and net/http closes the connection; the handler, its
// context cancelled by net/http, returns and releases what it held.
//
// A handler may set deadlines itself through http.ResponseController (the
// AWS JSON layer bounds its whole body that way). They combine: while the
// body is being read the earlier of the handler's deadline and the
// progress deadline applies, so a handler can shorten but not lengthen
// the stall rule; the handler's zero removes only its own. Once the body
// has been read to EOF the read deadline is cleared (see deadlineBody).
func withDeadlines(next http.Handler, window time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dw := &deadlineWriter{ResponseWriter: w, ctl: http.NewResponseController(w), meter: progress{window: window}, acked: ackedFor(r)}
		if r.Body != nil && r.Body != http.NoBody {
			b := &deadlineBody{ReadCloser: r.Body, ctl: dw.ctl, meter: progress{window: window}}
			// This first deadline bounds net/http's own read of an
			// unread body after the handler answers; the handler's
			// first Read sets a fresh one, so time spent before it
			// reads is not charged to the client.
			b.armed = time.Now().Add(window)
			_ = b.ctl.SetReadDeadline(b.armed)
			dw.body = b
			// A shallow copy, not r.Body = b: net/http inspects its own
			// request's body after the handler to decide whether the
			// connection can be reused.
			r = r.WithContext(r.Context())
			r.Body = b
		}
		dw.arm() // also bounds a 100 Continue net/http writes
		next.ServeHTTP(dw, r)
		// net/http flushes what the handler left buffered after it
		// returns: give that write the rest of the window.
		dw.arm()
	})
}

// progress meters one direction of a transfer: at most window of waiting
// per minProgress bytes.
type progress struct {
	window time.Duration
	moved  int64         // bytes moved in the current window
	waited time.Duration // time spent waiting in the current window
}

// deadline is when a wait starting at now must end. Once the window is
// used up it is now, so the next wait fails at once.
func (p *progress) deadline(now time.Time) time.Time {
	return now.Add(max(p.window-p.waited, 0))
}

// record counts a wait that took took and moved n bytes; a full quota
// starts a new window.
func (p *progress) record(n int64, took time.Duration) {
	p.moved += n
	p.waited += took
	if p.moved >= minProgress {
		p.moved, p.waited = 0, 0
	}
}

// room is how many bytes complete the current window's quota: writes go
// out in pieces of at most this, each under its own deadline, because a
// single blocked Write cannot report partial progress.
func (p *progress) room() int64 { return minProgress - p.moved }

// bodyState is where a request body is.
type bodyState int

const (
	bodyReading bodyState = iota
	bodyEnded             // read to EOF
	bodyFailed            // a Read failed, its deadline or the connection
)

// deadlineBody is a request body whose reads extend the connection's read
// deadline as bytes arrive.
//
// At EOF it clears the read deadline and never sets one again: net/http
// then starts reading the connection in the background to notice a client
// that goes away, and a read deadline firing there would cancel the
// request's context while the handler still works with the body it got
// (committing a layer, say). After a failure it leaves the deadline in the
// past instead: the connection is done for, and net/http's attempt to
// drain the rest of the body must not wait on the client.
type deadlineBody struct {
	io.ReadCloser
	ctl *http.ResponseController

	mu    sync.Mutex
	meter progress
	state bodyState
	armed time.Time // the progress deadline last set
	limit time.Time // the handler's own read deadline; zero: none
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.state != bodyReading {
		b.mu.Unlock()
		return b.ReadCloser.Read(p)
	}
	start := time.Now()
	b.armed = b.meter.deadline(start)
	_ = b.ctl.SetReadDeadline(earliest(b.armed, b.limit))
	b.mu.Unlock()

	n, err := b.ReadCloser.Read(p)

	b.mu.Lock()
	defer b.mu.Unlock()
	b.meter.record(int64(n), time.Since(start))
	switch {
	case err == io.EOF:
		b.state = bodyEnded
		_ = b.ctl.SetReadDeadline(time.Time{})
	case err != nil:
		b.state = bodyFailed
		_ = b.ctl.SetReadDeadline(time.Unix(1, 0)) // long past
	}
	return n, err
}

// setLimit is a handler's SetReadDeadline.
func (b *deadlineBody) setLimit(t time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case bodyEnded:
		// The body is in: the connection's read deadline is the
		// handler's business again.
		return b.ctl.SetReadDeadline(t)
	case bodyFailed:
		return nil // stays in the past, as above
	}
	b.limit = t
	return b.ctl.SetReadDeadline(earliest(b.armed, b.limit))
}

// deadlineWriter is a ResponseWriter whose writes extend the connection's
// write deadline as the client accepts bytes. It keeps what net/http's
// writer offers: ReadFrom (with sendfile for files), Flush, Unwrap for
// http.ResponseController, and deadlines of the handler's own.
type deadlineWriter struct {
	http.ResponseWriter
	ctl  *http.ResponseController // of the ResponseWriter beneath
	body *deadlineBody            // nil for a request without a body
	// acked is the client's progress on the connection (see stream);
	// nil where it cannot be known.
	acked func() (uint64, bool)

	mu    sync.Mutex
	meter progress
	armed time.Time // the progress deadline last set
	limit time.Time // the handler's own write deadline; zero: none
}

// arm sets the write deadline for a wait starting now; it returns the
// start, for done, and how many bytes the wait may offer.
func (w *deadlineWriter) arm() (time.Time, int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	w.armed = w.meter.deadline(now)
	_ = w.ctl.SetWriteDeadline(earliest(w.armed, w.limit))
	return now, w.meter.room()
}

// done records a wait armed at start that moved n bytes.
func (w *deadlineWriter) done(start time.Time, n int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.meter.record(n, time.Since(start))
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	written := 0
	for {
		start, room := w.arm()
		n, err := w.ResponseWriter.Write(p[:min(int64(len(p)), room)])
		w.done(start, int64(n))
		written += n
		p = p[n:]
		if err != nil || len(p) == 0 {
			return written, err
		}
	}
}

// ReadFrom sends a file (alone or under an io.LimitedReader, as
// http.ServeContent and io.CopyN pass it) with sendfile. Where the file's
// position shows the progress of a send (Linux), it goes in one call,
// whose write deadline a watch extends as the position advances
// (sendFile); elsewhere in pieces of at most the window's quota, each an
// io.LimitedReader of the file, the deadline extended before each. Any
// other source goes through Write.
func (w *deadlineWriter) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	f, lr := fileOf(src)
	if ok && f == nil && w.acked != nil && !small(src) {
		return w.stream(rf, src)
	}
	if !ok || f == nil {
		buf := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(buf)
		return io.CopyBuffer(writerOnly{w}, src, *buf)
	}
	if sendfileMovesPosition {
		if _, err := f.Seek(0, io.SeekCurrent); err == nil {
			return w.sendFile(rf, src, f)
		}
	}
	var total int64
	for {
		start, room := w.arm()
		if lr != nil {
			room = min(room, lr.N)
		}
		n, err := rf.ReadFrom(&io.LimitedReader{R: f, N: room})
		w.done(start, n)
		total += n
		if lr != nil {
			lr.N -= n
		}
		if err != nil || n < room || (lr != nil && lr.N <= 0) {
			return total, err // n < room: the file ended
		}
	}
}

// copyBufs are the buffers a body that is not a file (an S3 object's) is
// copied through. io.Copy's 32 KiB made a pull from S3 two syscalls per
// 32 KiB on its way through, CPU-bound below the peer's speed; 1 MiB
// reads take what the socket holds and write it in one go.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// sendfileMovesPosition: Linux's sendfile sends from the file's position
// and moves it as it goes, so another goroutine can watch a send progress.
const sendfileMovesPosition = runtime.GOOS == "linux"

// sendFile sends src, the file f or a part of it, in one ReadFrom (sendfile
// in chunks of megabytes: sending it 16 KiB at a time cost a third of a
// pull's speed), watched by the file's position (see watched).
func (w *deadlineWriter) sendFile(rf io.ReaderFrom, src io.Reader, f *os.File) (int64, error) {
	progress := func() (int64, bool) {
		cur, err := f.Seek(0, io.SeekCurrent)
		return cur, err == nil
	}
	return w.watched(progress, func() (int64, error) { return rf.ReadFrom(src) })
}

// small reports whether src is known to hold at most one piece's worth.
func small(src io.Reader) bool {
	lr, ok := src.(*io.LimitedReader)
	return ok && lr.N <= minProgress
}

// extend starts a fresh window for the write under way: the client has
// taken a window's quota.
func (w *deadlineWriter) extend() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.meter.moved, w.meter.waited = 0, 0
	w.armed = w.meter.deadline(time.Now())
	_ = w.ctl.SetWriteDeadline(earliest(w.armed, w.limit))
}

// fileOf finds the file a source reads: the source itself, or the file
// under an io.LimitedReader (which is then returned too, to be kept up to
// date with what was read).
func fileOf(src io.Reader) (*os.File, *io.LimitedReader) {
	switch s := src.(type) {
	case *os.File:
		return s, nil
	case *io.LimitedReader:
		if f, ok := s.R.(*os.File); ok {
			return f, s
		}
	}
	return nil, nil
}

// FlushError flushes under a fresh deadline: the bytes it sends were
// counted when written, its wait counts now.
func (w *deadlineWriter) FlushError() error {
	start, _ := w.arm()
	err := w.ctl.Flush()
	w.done(start, 0)
	return err
}

// Flush is http.Flusher's FlushError.
func (w *deadlineWriter) Flush() { _ = w.FlushError() }

// SetReadDeadline is a handler's read deadline, combined with the body's
// progress deadline (see withDeadlines).
func (w *deadlineWriter) SetReadDeadline(t time.Time) error {
	if w.body == nil {
		return w.ctl.SetReadDeadline(t)
	}
	return w.body.setLimit(t)
}

// SetWriteDeadline is a handler's write deadline: the earlier of it and
// the progress deadline applies.
func (w *deadlineWriter) SetWriteDeadline(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.limit = t
	return w.ctl.SetWriteDeadline(earliest(w.armed, w.limit))
}

// Unwrap lets http.ResponseController reach the writer beneath for what
// this one does not handle (EnableFullDuplex, Hijack).
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// earliest is the earlier of two deadlines, zero meaning none.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
