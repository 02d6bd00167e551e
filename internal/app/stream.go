package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"
)

// A response body that is not a file (an S3 object's) goes out in writes
// of 1 MiB, not in the 16 KiB pieces deadlineWriter.Write meters one by
// one: each piece a syscall and a deadline of its own held a 16-client
// pull from S3 to three quarters of what 1 MiB writes reach. A write that
// large may block for longer than a window while a slow client takes it,
// so progress is read from the connection instead: the bytes the client
// has acknowledged (ackedOf), which a watch compares every so often, as
// sendFile does with a file's position.

// ackedKey is the request context's key of its connection's ackedOf.
type ackedKey struct{}

// withAcked is the servers' ConnContext: it gives each request of c the
// means to see c's progress.
func withAcked(ctx context.Context, c net.Conn) context.Context {
	if acked := ackedOf(c); acked != nil {
		return context.WithValue(ctx, ackedKey{}, acked)
	}
	return ctx
}

// ackedFor returns the progress of r's connection, or nil. HTTP/2 has
// none: many streams share the connection's bytes.
func ackedFor(r *http.Request) func() (uint64, bool) {
	if r.ProtoMajor != 1 {
		return nil
	}
	acked, _ := r.Context().Value(ackedKey{}).(func() (uint64, bool))
	return acked
}

// stream sends src in one ReadFrom of the connection, in writes of 1 MiB,
// while the watch extends the write deadline each time the client has
// acknowledged another minProgress bytes.
func (w *deadlineWriter) stream(rf io.ReaderFrom, src io.Reader) (int64, error) {
	progress := func() (int64, bool) {
		n, ok := w.acked()
		return int64(n), ok
	}
	return w.watched(progress, func() (int64, error) { return rf.ReadFrom(bigWrites{src}) })
}

// watched runs send, one write that may take many windows, while a watch
// extends the write deadline each time progress has moved minProgress
// bytes since the last time: a client that stops taking bytes is still
// cut off about a window after it stopped. A progress that cannot be
// read stops the watch, and the window then bounds the whole send.
func (w *deadlineWriter) watched(progress func() (int64, bool), send func() (int64, error)) (int64, error) {
	start, _ := w.arm()
	last, ok := progress()
	if !ok {
		n, err := send()
		w.done(start, n)
		return n, err
	}
	stop, watching := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watching)
		t := time.NewTicker(max(w.meter.window/8, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			cur, ok := progress()
			if !ok {
				return
			}
			if cur-last >= minProgress {
				last = cur
				w.extend()
			}
		}
	}()
	n, err := send()
	close(stop)
	<-watching
	w.done(start, n)
	return n, err
}

// bigWrites is a source that writes itself out through a 1 MiB buffer:
// io.Copy, and so the connection's ReadFrom, prefers a WriterTo to its
// own 32 KiB buffer.
type bigWrites struct{ r io.Reader }

func (b bigWrites) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b bigWrites) WriteTo(dst io.Writer) (int64, error) {
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	// Only Read: a WriterTo of the source would bypass the buffer.
	return io.CopyBuffer(dst, struct{ io.Reader }{b.r}, *buf)
}
