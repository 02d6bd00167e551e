package registry

import (
	"context"
	"time"
)

// CollectGarbagePaged is CollectGarbage with pages of the given sizes, so
// that a test's few records span many pages.
func (r *Registry) CollectGarbagePaged(ctx context.Context, grace time.Duration, layerPage, blobPage int) (GCStats, error) {
	return r.collectGarbage(ctx, grace, layerPage, blobPage)
}

// GCConflicts is gcConflicts, for the tests that exhaust it.
const GCConflicts = gcConflicts
