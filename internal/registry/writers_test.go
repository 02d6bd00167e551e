package registry

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// countingMeta is a ConflictRetrier whose Update runs fn at once, with no
// database; enter and leave count the fns running, per repository name
// and in all.
type countingMeta struct {
	MetaStore
	mu                sync.Mutex
	running, most     map[string]int
	total, mostAtOnce int
}

func (m *countingMeta) Update(ctx context.Context, fn func(tx Tx) error) error {
	return fn(nil)
}

func (m *countingMeta) RetriesConflicts() {}

func (m *countingMeta) enter(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running[name]++
	m.most[name] = max(m.most[name], m.running[name])
	m.total++
	m.mostAtOnce = max(m.mostAtOnce, m.total)
}

func (m *countingMeta) leave(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running[name]--
	m.total--
}

// TestUpdateRepositoryQueues: one process's write transactions of one
// repository run one at a time; other repositories' run beside them.
func TestUpdateRepositoryQueues(t *testing.T) {
	m := &countingMeta{running: map[string]int{}, most: map[string]int{}}
	r := New(Options{Meta: m})
	var wg sync.WaitGroup
	for i := range 40 {
		name := RepositoryName([]string{"one", "two", "three", "four"}[i%4])
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := r.updateRepository(t.Context(), RepoKey{Registry: "111111111111", Name: name}, func(Tx) error {
				m.enter(string(name))
				time.Sleep(2 * time.Millisecond)
				m.leave(string(name))
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for name, n := range m.most {
		if n != 1 {
			t.Errorf("repository %s: %d of its writes ran at once, want 1", name, n)
		}
	}
	// Four repositories on 256 slots: unless all four share one, some ran
	// side by side (a weak check, but a queue of all writers would fail it).
	if r.writers.slot(RepoKey{Registry: "111111111111", Name: "one"}) != r.writers.slot(RepoKey{Registry: "111111111111", Name: "two"}) && m.mostAtOnce < 2 {
		t.Errorf("writes of different repositories never ran side by side")
	}
}

// TestUpdateRepositoryWaitEnds: a writer whose context ends while another
// writer of the repository holds the queue stops waiting, with the
// context's error, and its fn never runs.
func TestUpdateRepositoryWaitEnds(t *testing.T) {
	r := New(Options{Meta: &countingMeta{}})
	key := RepoKey{Registry: "111111111111", Name: "busy"}
	holding, release := make(chan struct{}), make(chan struct{})
	go r.updateRepository(context.Background(), key, func(Tx) error {
		close(holding)
		<-release
		return nil
	})
	<-holding
	defer close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	ran := false
	err := r.updateRepository(ctx, key, func(Tx) error { ran = true; return nil })
	if !errors.Is(err, context.DeadlineExceeded) || ran {
		t.Errorf("waiting writer whose context ended: %v (fn ran: %v), want context.DeadlineExceeded", err, ran)
	}
}

// oneAtATime is a MetaStore that runs one writer at a time itself, as
// SQLite does: not a ConflictRetrier.
type oneAtATime struct{ MetaStore }

func (oneAtATime) Update(ctx context.Context, fn func(tx Tx) error) error { return fn(nil) }

// TestUpdateRepositoryNoQueue: before a store that is not a
// ConflictRetrier there is no queue: its writers reach the store as they
// come, and the store orders them.
func TestUpdateRepositoryNoQueue(t *testing.T) {
	r := New(Options{Meta: oneAtATime{}})
	if r.writers != nil {
		t.Fatal("a queue before a store that runs one writer at a time")
	}
	key := RepoKey{Registry: "111111111111", Name: "same"}
	inside, release := make(chan struct{}), make(chan struct{})
	go r.updateRepository(context.Background(), key, func(Tx) error {
		close(inside)
		<-release
		return nil
	})
	<-inside
	defer close(release)
	done := make(chan error, 1)
	go func() { done <- r.updateRepository(context.Background(), key, func(Tx) error { return nil }) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a second writer of the repository waited for the first without a ConflictRetrier")
	}
}
