package migrate

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progress shows how far a migration is: objects (blobs and records) and
// bytes done of their totals, the copy rate and the time left. On a
// terminal it redraws one line in place; elsewhere (a log, a CI job) it
// writes a plain line every interval, and one at the end. A nil *progress
// shows nothing.
type progress struct {
	w             io.Writer
	tty           bool
	objects       int64 // total
	bytes         int64 // total
	start         time.Time
	doneObjects   atomic.Int64
	doneBytes     atomic.Int64
	copiedBytes   atomic.Int64 // sent this run: the rate's measure
	ticker        *time.Ticker
	quit, stopped chan struct{}
	once          sync.Once
	mu            sync.Mutex // one line at a time
}

// newProgress starts showing progress to o.Progress, or returns nil.
func newProgress(o Options, objects, bytes int64) *progress {
	if o.Progress == nil {
		return nil
	}
	every := o.Interval
	if every <= 0 {
		every = 5 * time.Second
		if o.Terminal {
			every = 200 * time.Millisecond
		}
	}
	p := &progress{w: o.Progress, tty: o.Terminal, objects: objects, bytes: bytes, start: time.Now(),
		ticker: time.NewTicker(every), quit: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(p.stopped)
		for {
			select {
			case <-p.ticker.C:
				p.show(false)
			case <-p.quit:
				return
			}
		}
	}()
	return p
}

// add counts objects done and bytes done (copied or found present).
func (p *progress) add(objects, bytes int64) {
	if p == nil {
		return
	}
	p.doneObjects.Add(objects)
	p.doneBytes.Add(bytes)
}

// addCopied counts bytes sent this run, which are also bytes done.
func (p *progress) addCopied(n int64) {
	if p == nil {
		return
	}
	p.copiedBytes.Add(n)
	p.doneBytes.Add(n)
}

// finish shows the final line and stops.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.halt()
	p.show(true)
}

// stop stops without a final line (after a failure, which the caller
// reports); on a terminal it ends the redrawn line.
func (p *progress) stop() {
	if p == nil {
		return
	}
	if p.halt() && p.tty {
		p.mu.Lock()
		fmt.Fprintln(p.w)
		p.mu.Unlock()
	}
}

// halt ends the redrawing, reporting whether this call ended it.
func (p *progress) halt() bool {
	first := false
	p.once.Do(func() {
		first = true
		p.ticker.Stop()
		close(p.quit)
		<-p.stopped
	})
	return first
}

// show writes the current state, final once everything is done.
func (p *progress) show(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := time.Since(p.start)
	objs, bytes, copied := p.doneObjects.Load(), p.doneBytes.Load(), p.copiedBytes.Load()
	rate := float64(copied) / max(elapsed.Seconds(), 1e-3)
	line := fmt.Sprintf("%d/%d objects, %s/%s, %s/s", objs, p.objects, size(bytes), size(p.bytes), size(int64(rate)))
	if final {
		line += ", done in " + elapsed.Round(100*time.Millisecond).String()
	} else {
		line += ", ETA " + eta(elapsed, objs, p.objects, bytes, p.bytes, rate)
	}
	if !p.tty {
		fmt.Fprintf(p.w, "ecrd migrate: %s\n", line)
		return
	}
	// \r back to the line's start, \x1b[K clears what a longer line left.
	// The bar follows the bytes while blobs are copied, then the records.
	done, total := bytes, p.bytes
	if bytes >= p.bytes {
		done, total = objs, p.objects
	}
	fmt.Fprintf(p.w, "\r%s %s\x1b[K", bar(done, total, 24), line)
	if final {
		fmt.Fprintln(p.w)
	}
}

// eta is the time left: the bytes left at the copy rate, or, when no byte
// is left (the records), the objects left at the rate objects went.
func eta(elapsed time.Duration, objs, objTotal, bytes, byteTotal int64, rate float64) string {
	var left float64
	switch {
	case bytes < byteTotal && rate > 0:
		left = float64(byteTotal-bytes) / rate
	case bytes < byteTotal:
		return "unknown"
	case objs > 0 && objs < objTotal:
		left = elapsed.Seconds() * float64(objTotal-objs) / float64(objs)
	}
	return (time.Duration(left * float64(time.Second))).Round(time.Second).String()
}

// bar draws done/total as a bar of width cells.
func bar(done, total int64, width int) string {
	full := width
	if total > 0 {
		full = int(min(done, total) * int64(width) / total)
	}
	return "[" + strings.Repeat("#", full) + strings.Repeat(".", width-full) + "]"
}

// size formats n bytes in binary units.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGT"[i-1])
}
