package registry

import (
	"context"
	"fmt"
	"hash/maphash"
)

// A repository's write transactions touch the same few index pages: its
// layers, images, tags and uploads sit side by side in each index. A
// serializable store that tracks what each transaction read at page
// granularity (PostgreSQL does) finds two of them run at once to depend
// on each other and aborts one; the store retries it, but with a few
// dozen pushes into one repository at once most attempts collide again,
// and some requests lose every retry (a measured 1 in 250 PutImages at
// 32 concurrent pushes failed after 20 attempts). So within a process
// they run one at a time per repository, queued rather than racing;
// only replicas race each other, rarely enough for the store's retries.
// Only before such a store (ConflictRetrier): SQLite runs one writer at a
// time, and a queue in front of it would leave a repository's pushers one
// place among the store's waiting writers (a collection's among them)
// where they had one each.
//
// The queue holds only the metadata transaction, never a part's bytes in
// flight, and a caller whose context ends while it waits stops waiting.
// A repository's slot is one of writerSlots, by hash: two repositories
// that share one queue only wait for each other's short transactions.
const writerSlots = 256

// writers is a fixed set of one-slot semaphores.
type writers struct {
	seed  maphash.Seed
	slots [writerSlots]chan struct{}
}

func newWriters() *writers {
	w := &writers{seed: maphash.MakeSeed()}
	for i := range w.slots {
		w.slots[i] = make(chan struct{}, 1)
	}
	return w
}

// slot returns the semaphore of the repository key.
func (w *writers) slot(key RepoKey) chan struct{} {
	var h maphash.Hash
	h.SetSeed(w.seed)
	h.WriteString(string(key.Registry))
	h.WriteByte(0)
	h.WriteString(string(key.Name))
	return w.slots[h.Sum64()%writerSlots]
}

// updateRepository is meta.Update for a transaction that writes the
// records of the repository key, queued behind this process's other
// writers of it when the store is a ConflictRetrier.
func (r *Registry) updateRepository(ctx context.Context, key RepoKey, fn func(tx Tx) error) error {
	if r.writers == nil {
		return r.meta.Update(ctx, fn)
	}
	slot := r.writers.slot(key)
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("waiting for the other writes to %s/%s: %w", key.Registry, key.Name, ctx.Err())
	}
	defer func() { <-slot }()
	return r.meta.Update(ctx, fn)
}
