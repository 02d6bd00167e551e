// Package budget bounds the bytes that requests hold at once: a request
// takes its share before it holds the bytes and gives it back after, and
// one that finds no room waits its turn (first come, first served) or is
// turned away. ecrd bounds request bodies with it, before and after their
// authentication, so that no number of requests can exhaust memory or
// disk.
package budget

import (
	"context"
	"sync"
)

// Budget is a number of bytes shared by concurrent holders. The zero value
// is not usable; use New.
type Budget struct {
	mu      sync.Mutex
	size    int64
	used    int64
	waiters []*waiter // in arrival order
}

type waiter struct {
	n     int64
	ready chan struct{} // closed once the bytes are granted
}

// New returns a budget of size bytes.
func New(size int64) *Budget { return &Budget{size: size} }

// Size is the budget's size.
func (b *Budget) Size() int64 { return b.size }

// InUse is how many bytes are held now.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// clamp bounds a request to the whole budget: one larger than the budget
// could never be granted, so it is granted the whole of it, alone.
func (b *Budget) clamp(n int64) int64 { return max(0, min(n, b.size)) }

// TryAcquire takes n bytes if they are free now and no one is waiting,
// and reports whether it did. It returns the bytes actually taken (n, or
// the budget's size when n is larger), to be given back with Release.
func (b *Budget) TryAcquire(n int64) (int64, bool) {
	n = b.clamp(n)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.waiters) > 0 || b.used+n > b.size {
		return 0, false
	}
	b.used += n
	return n, true
}

// Acquire takes n bytes, waiting while they are not free, until ctx ends.
// It returns the bytes taken (see TryAcquire), or ctx's error with none
// taken.
func (b *Budget) Acquire(ctx context.Context, n int64) (int64, error) {
	n = b.clamp(n)
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.size {
		b.used += n
		b.mu.Unlock()
		return n, nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()

	select {
	case <-w.ready:
		return n, nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.ready:
			// Granted while giving up: keep the bytes, the caller
			// asked for them.
			return n, nil
		default:
		}
		for i, o := range b.waiters {
			if o == w {
				b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
				break
			}
		}
		// A large waiter leaving may let smaller ones behind it in.
		b.grant()
		return 0, ctx.Err()
	}
}

// Release gives back n bytes taken with TryAcquire or Acquire.
func (b *Budget) Release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	if b.used < 0 {
		panic("budget: released more than was acquired")
	}
	b.grant()
}

// grant admits waiters in order while the first fits.
func (b *Budget) grant() {
	for len(b.waiters) > 0 {
		w := b.waiters[0]
		if b.used+w.n > b.size {
			return
		}
		b.used += w.n
		b.waiters = b.waiters[1:]
		close(w.ready)
	}
}
