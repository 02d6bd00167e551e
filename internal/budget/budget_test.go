package budget_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/budget"
)

func TestBudget(t *testing.T) {
	t.Run("TryAcquireWithinSize", func(t *testing.T) {
		b := budget.New(100)
		if n, ok := b.TryAcquire(60); !ok || n != 60 {
			t.Fatalf("TryAcquire(60) = %d, %v", n, ok)
		}
		if _, ok := b.TryAcquire(41); ok {
			t.Fatal("TryAcquire(41) succeeded with 40 free")
		}
		b.Release(60)
		if b.InUse() != 0 {
			t.Fatalf("in use %d after release", b.InUse())
		}
	})
	t.Run("LargerThanSizeIsClamped", func(t *testing.T) {
		b := budget.New(100)
		n, ok := b.TryAcquire(1000)
		if !ok || n != 100 {
			t.Fatalf("TryAcquire(1000) = %d, %v; want the whole budget", n, ok)
		}
		b.Release(n)
	})
	t.Run("WaitsThenGranted", func(t *testing.T) {
		b := budget.New(100)
		held, _ := b.TryAcquire(100)
		got := make(chan error, 1)
		go func() {
			_, err := b.Acquire(context.Background(), 50)
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("Acquire returned %v while the budget was full", err)
		case <-time.After(50 * time.Millisecond):
		}
		b.Release(held)
		if err := <-got; err != nil {
			t.Fatal(err)
		}
		if b.InUse() != 50 {
			t.Fatalf("in use %d, want 50", b.InUse())
		}
	})
	t.Run("GivesUpWithItsContext", func(t *testing.T) {
		b := budget.New(100)
		b.TryAcquire(100)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := b.Acquire(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Acquire = %v, want the deadline", err)
		}
		if b.InUse() != 100 {
			t.Fatalf("in use %d after a waiter gave up", b.InUse())
		}
	})
	t.Run("FirstComeFirstServed", func(t *testing.T) {
		// A small request does not overtake a large one that waits:
		// otherwise a stream of small ones starves the large.
		b := budget.New(100)
		held, _ := b.TryAcquire(60)
		large := make(chan struct{})
		go func() {
			b.Acquire(context.Background(), 80)
			close(large)
		}()
		for deadline := time.Now().Add(5 * time.Second); ; {
			if _, ok := b.TryAcquire(10); !ok {
				break // the large one queues, so small ones must too
			}
			b.Release(10)
			if time.Now().After(deadline) {
				t.Fatal("the large waiter never queued")
			}
			time.Sleep(time.Millisecond)
		}
		b.Release(held)
		<-large
	})
	t.Run("Concurrent", func(t *testing.T) {
		b := budget.New(10)
		var wg sync.WaitGroup
		var mu sync.Mutex
		inUse, peak := int64(0), int64(0)
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := b.Acquire(context.Background(), 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				inUse += n
				peak = max(peak, inUse)
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				inUse -= n
				mu.Unlock()
				b.Release(n)
			}()
		}
		wg.Wait()
		if peak > 10 || b.InUse() != 0 {
			t.Fatalf("peak %d (budget 10), %d left in use", peak, b.InUse())
		}
	})
}
